// wrk with a Lua `delay()` that caps the rate (lib/rate-cap.ts): every
// connection waits `delayMs` after each response. At saturation the CPU a
// request costs depends a little on the rate itself (a busier event loop
// handles more requests per turn and per syscall), so comparing variants at
// one fixed rate, below the slowest one's saturation, removes that effect.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoadGenerator } from './load-result.js';
import { wrkDelayMs } from './rate-cap.js';
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

/** Writes the Lua script that caps wrk at about `rate` req/s over `connections` into `tempDir`; returns its path. */
export async function rateCapScript(tempDir: string, connections: number, rate: number): Promise<string> {
  const script = join(tempDir, 'rate-cap.lua');
  await writeFile(script, `delay = function()\n  return ${wrkDelayMs(connections, rate)}\nend\n`);
  return script;
}
