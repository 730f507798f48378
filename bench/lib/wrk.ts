// wrk as the load generator: C, epoll, a fraction of the CPU autocannon needs
// for the same rate, which matters on a 2-core box where the generator
// competes with the proxy and the upstream.

import { spawnTracked } from './children.js';
import type { LoadGenerator, LoadOptions, LoadResult } from './load-result.js';
import { toolVersion } from './tool-version.js';
import { parseWrkOutput } from './wrk-output.js';

/** Extra time beyond the requested duration before a wrk run is declared hung. */
const OVERRUN_GRACE_MS = 15_000;

async function runWrk(bin: string, options: LoadOptions): Promise<LoadResult> {
  const child = spawnTracked(
    'wrk',
    bin,
    [
      '--threads', String(options.threads),
      '--connections', String(options.connections),
      '--duration', `${options.durationSeconds}s`,
      '--timeout', `${options.timeoutSeconds}s`,
      '--latency',
      options.url,
    ],
    { stdout: 'capture' },
  );
  const hung = setTimeout(() => child.stop(500).catch(() => undefined), options.durationSeconds * 1000 + OVERRUN_GRACE_MS);
  const { code, signal } = await child.exited;
  clearTimeout(hung);
  if (code !== 0) {
    throw new Error(`wrk exited with code ${String(code)} signal ${String(signal)}: ${child.stderrTail() || child.stdout()}`);
  }
  return parseWrkOutput(child.stdout());
}

export function wrkGenerator(bin: string): LoadGenerator {
  return {
    name: 'wrk',
    // The banner continues with a copyright notice; keep just "wrk <version> [epoll]".
    version: toolVersion(bin, ['--version'])?.replace(/\s+Copyright.*$/, '') ?? 'wrk (unknown version)',
    run: (options) => runWrk(bin, options),
  };
}
