// Per-run scratch directory for generated configs (Tollgate JSON, nginx.conf,
// haproxy.cfg, nginx temp paths). Removed on every exit path so repeated runs
// do not litter /tmp.

import { mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerCleanup } from './cleanup.js';

export function createRunTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  registerCleanup({
    graceful: () => rm(dir, { recursive: true, force: true }),
    immediate: () => rmSync(dir, { recursive: true, force: true }),
  });
  return dir;
}
