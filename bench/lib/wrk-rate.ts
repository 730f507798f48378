// wrk with a Lua `delay()` that caps the rate (lib/rate-cap.ts): every
// connection waits `delayMs` after each response. At saturation the CPU a
// request costs depends a little on the rate itself (a busier event loop
// handles more requests per turn and per syscall), so comparing variants at
// one fixed rate, below the slowest one's saturation, removes that effect.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnTracked } from './children.js';
import type { LoadGenerator, LoadOptions, LoadResult } from './load-result.js';
import { wrkDelayMs } from './rate-cap.js';
import { toolVersion } from './tool-version.js';
import { parseWrkOutput } from './wrk-output.js';

async function runCapped(bin: string, script: string, options: LoadOptions): Promise<LoadResult> {
  const child = spawnTracked(
    'wrk',
    bin,
    ['--threads', String(options.threads), '--connections', String(options.connections), '--duration', `${options.durationSeconds}s`, '--timeout', `${options.timeoutSeconds}s`, '--latency', '--script', script, options.url],
    { stdout: 'capture' },
  );
  const hung = setTimeout(() => child.stop(500).catch(() => undefined), options.durationSeconds * 1000 + 15_000);
  const { code, signal } = await child.exited;
  clearTimeout(hung);
  if (code !== 0) throw new Error(`wrk exited with code ${String(code)} signal ${String(signal)}: ${child.stderrTail() || child.stdout()}`);
  return parseWrkOutput(child.stdout());
}

/** A wrk load generator capped at about `rate` req/s over `connections`; the Lua script goes to `tempDir`. */
export async function rateCappedWrk(bin: string, tempDir: string, connections: number, rate: number): Promise<LoadGenerator> {
  const script = join(tempDir, 'rate-cap.lua');
  await writeFile(script, `delay = function()\n  return ${wrkDelayMs(connections, rate)}\nend\n`);
  const version = toolVersion(bin, ['--version'])?.replace(/\s+Copyright.*$/, '') ?? 'wrk (unknown version)';
  return { name: 'wrk', version: `${version}, rate cap ~${rate} req/s`, run: (options) => runCapped(bin, script, options) };
}
