// wrk with a Lua `delay()` that caps the rate (lib/rate-cap.ts): every
// connection waits `delayMs` after each response. At saturation the CPU a
// request costs depends a little on the rate itself (a busier event loop
// handles more requests per turn and per syscall), so comparing variants at
// one fixed rate, below the slowest one's saturation, removes that effect.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { selectLoadGenerator, type LoadToolChoice } from './load-generator.js';
import type { LoadGenerator } from './load-result.js';
import { wrkDelayMs } from './rate-cap.js';
import { which } from './which.js';
import { runWrk, wrkVersion } from './wrk.js';

/** A wrk load generator capped at about `rate` req/s over `connections`; the Lua script goes to `tempDir`. */
export async function rateCappedWrk(
  bin: string,
  tempDir: string,
  connections: number,
  rate: number,
): Promise<LoadGenerator> {
  const script = await rateCapScript(tempDir, connections, rate);
  const version = wrkVersion(bin) ?? 'wrk (unknown version)';
  return {
    name: 'wrk',
    version: `${version}, rate cap ~${rate} req/s`,
    run: (options) => runWrk(bin, { ...options, script }),
  };
}

/**
 * The load of a CPU-per-request bench: `measured` capped at about `rate` req/s (0: saturating, as
 * `saturating` is), and `saturating` for warm-ups, which are for V8's compiler and so pack in as many
 * requests as they can whatever the measured rate. A rate needs wrk (its Lua `delay()` caps it).
 */
export async function cpuBenchLoad(
  tool: LoadToolChoice,
  tempDir: string,
  connections: number,
  rate: number,
): Promise<{ readonly saturating: LoadGenerator; readonly measured: LoadGenerator }> {
  const saturating = selectLoadGenerator(tool);
  if (rate === 0) return { saturating, measured: saturating };
  const wrk = which('wrk');
  if (wrk === undefined) throw new Error('--rate needs wrk on PATH (its Lua delay() caps the rate)');
  return { saturating, measured: await rateCappedWrk(wrk, tempDir, connections, rate) };
}

/** Writes the Lua script that caps wrk at about `rate` req/s over `connections` into `tempDir`; returns its path. */
export async function rateCapScript(tempDir: string, connections: number, rate: number): Promise<string> {
  const script = join(tempDir, 'rate-cap.lua');
  await writeFile(script, `delay = function()\n  return ${wrkDelayMs(connections, rate)}\nend\n`);
  return script;
}
