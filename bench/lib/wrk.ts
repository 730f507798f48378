// wrk as the load generator: C, epoll, a fraction of the CPU autocannon needs
// for the same rate, which matters on a 2-core box where the generator
// competes with the proxy and the upstream.

import { spawnTracked, type TrackedChild } from './children.js';
import type { LoadGenerator, LoadOptions, LoadResult } from './load-result.js';
import { toolVersion } from './tool-version.js';
import { parseWrkOutput } from './wrk-output.js';

/** Extra time beyond the requested duration before a wrk run is declared hung. */
const OVERRUN_GRACE_MS = 15_000;

export interface WrkRun {
  readonly url: string;
  readonly threads: number;
  readonly connections: number;
  readonly durationSeconds: number;
  readonly timeoutSeconds: number;
  /** A Lua script (request order, `delay()` rate caps, counters). */
  readonly script?: string | undefined;
  /** Headers sent with every request (`-H 'Name: value'`; a script that sets `wrk.headers` still can). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

/**
 * Spawns `wrk --latency`; `stdout` resolves to its report once it exits with 0 and rejects
 * otherwise. A run still going `graceMs` after its duration is stopped (and so rejects).
 */
export function spawnWrk(
  bin: string,
  run: WrkRun,
  graceMs: number,
): { readonly child: TrackedChild; readonly stdout: Promise<string> } {
  const args = [
    '--threads',
    String(run.threads),
    '--connections',
    String(run.connections),
    '--duration',
    `${run.durationSeconds}s`,
    '--timeout',
    `${run.timeoutSeconds}s`,
    '--latency',
    ...Object.entries(run.headers ?? {}).flatMap(([name, value]) => ['--header', `${name}: ${value}`]),
  ];
  const child = spawnTracked(
    'wrk',
    bin,
    [...args, ...(run.script === undefined ? [] : ['--script', run.script]), run.url],
    { stdout: 'capture' },
  );
  const hung = setTimeout(() => child.stop(500).catch(() => undefined), run.durationSeconds * 1000 + graceMs);
  const stdout = child.exited.then(({ code, signal }) => {
    clearTimeout(hung);
    if (code !== 0)
      throw new Error(
        `wrk exited with code ${String(code)} signal ${String(signal)}: ${child.stderrTail() || child.stdout()}`,
      );
    return child.stdout();
  });
  return { child, stdout };
}

/** One wrk run to completion, parsed. */
export async function runWrk(bin: string, run: WrkRun, graceMs = OVERRUN_GRACE_MS): Promise<LoadResult> {
  return parseWrkOutput(await spawnWrk(bin, run, graceMs).stdout);
}

/** "wrk <version> [epoll]": the banner without its copyright notice. */
export function wrkVersion(bin: string): string | undefined {
  return toolVersion(bin, ['--version'])?.replace(/\s+Copyright.*$/, '');
}

export function wrkGenerator(bin: string): LoadGenerator {
  return {
    name: 'wrk',
    version: wrkVersion(bin) ?? 'wrk (unknown version)',
    run: (options: LoadOptions) => runWrk(bin, options),
  };
}
