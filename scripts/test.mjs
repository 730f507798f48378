#!/usr/bin/env node
// `npm test`: build (the CLI tests run the real bin/tollgate.js), type-check, lint, then every test
// file under test/ with node's test runner. Exits non-zero on the first failing step.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function testFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return testFiles(p);
    return name.endsWith('.test.ts') ? [p] : [];
  });
}

const only = process.argv.slice(2);
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
run(npx, ['tsc', '-p', 'tsconfig.build.json']);
run(process.execPath, ['scripts/copy-assets.mjs']);
run(npx, ['tsc', '-p', 'tsconfig.json', '--noEmit']);
run(npx, ['eslint', 'src', 'test', 'bench']);
// The formatter's check (.prettierrc.json, .prettierignore: TypeScript and JavaScript only).
run(npx, ['prettier', '--check', '--log-level', 'warn', '.']);
const files = only.length > 0 ? only : testFiles('test').sort();
run(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-timeout=120000', ...files]);
