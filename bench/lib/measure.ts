// The steps every measured load run starts with: a settle and a background-CPU sample while every
// bench process is idle, then an unmeasured warm-up.

import { backgroundCpuBusyPercent } from './cpu-quiet.js';
import { sleep } from './driver.js';
import type { LoadGenerator, LoadOptions } from './load-result.js';

/**
 * Lets the previous run's connections close (250 ms), then samples the machine's CPU while every
 * bench process is idle: anything busy now is foreign load. Busy %, one decimal.
 */
export async function idleBackgroundCpu(): Promise<number> {
  await sleep(250);
  return Math.round((await backgroundCpuBusyPercent()) * 10) / 10;
}

/** An unmeasured run of `seconds` (none when 0), so V8 has optimised the hot path and pools are full; its completed requests. */
export async function warmUp(
  generator: LoadGenerator,
  base: Omit<LoadOptions, 'durationSeconds'>,
  seconds: number,
): Promise<number> {
  return seconds > 0 ? (await generator.run({ ...base, durationSeconds: seconds })).requests : 0;
}
