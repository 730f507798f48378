// autocannon as the fallback load generator when wrk is not installed. Each
// run is a separate child process (see autocannon-worker.ts).

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { spawnTracked } from './children.js';
import type { LoadGenerator, LoadOptions, LoadResult } from './load-result.js';

const OVERRUN_GRACE_MS = 20_000;
const WORKER = fileURLToPath(new URL('./autocannon-worker.ts', import.meta.url));

function isLoadResult(value: unknown): value is LoadResult {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record['requestsPerSecond'] === 'number' && typeof record['latencyMs'] === 'object';
}

async function runAutocannon(options: LoadOptions): Promise<LoadResult> {
  const child = spawnTracked(
    'autocannon',
    process.execPath,
    [
      '--import',
      'tsx',
      WORKER,
      '--url',
      options.url,
      '--connections',
      String(options.connections),
      '--duration',
      String(options.durationSeconds),
      '--timeout',
      String(options.timeoutSeconds),
      ...(options.headers === undefined ? [] : ['--headers', JSON.stringify(options.headers)]),
    ],
    { stdout: 'capture', ipc: true },
  );
  const hung = setTimeout(
    () => child.stop(500).catch(() => undefined),
    options.durationSeconds * 1000 + OVERRUN_GRACE_MS,
  );
  const { code, signal } = await child.exited;
  clearTimeout(hung);
  const line = child.stdout().trim().split('\n').pop() ?? '';
  if (code !== 0 || line === '') {
    throw new Error(
      `autocannon worker exited with code ${String(code)} signal ${String(signal)}: ${child.stderrTail()}`,
    );
  }
  const parsed: unknown = JSON.parse(line);
  if (!isLoadResult(parsed)) throw new Error(`autocannon worker printed an unexpected result: ${line}`);
  return parsed;
}

function autocannonVersion(): string {
  try {
    const require = createRequire(import.meta.url);
    const pkg: unknown = require('autocannon/package.json');
    if (typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string') {
      return `autocannon ${pkg.version}`;
    }
  } catch {
    // Fall through.
  }
  return 'autocannon (unknown version)';
}

export function autocannonGenerator(): LoadGenerator {
  return { name: 'autocannon', version: autocannonVersion(), run: runAutocannon };
}
