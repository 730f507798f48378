// Option parsing shared by the benchmark scripts (values as node:util parseArgs returns them).
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadToolChoice } from './load-generator.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** An integer option ≥ `min`, `fallback` when absent; a clear error otherwise. */
export function intArg(name: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got "${raw}"`);
  return n;
}

export function toolArg(raw: string | undefined): LoadToolChoice {
  const tool = raw ?? 'auto';
  if (tool !== 'auto' && tool !== 'wrk' && tool !== 'autocannon')
    throw new Error(`--tool must be auto, wrk or autocannon, got "${tool}"`);
  return tool;
}

/** `--tollgate-bin`: another checkout's launcher, else this checkout's bin/tollgate.js. */
export function tollgateBinArg(raw: string | undefined): string {
  return raw === undefined ? join(REPO_ROOT, 'bin', 'tollgate.js') : resolve(raw);
}
