// Measures how busy the machine is while every benchmark process is idle.
// On a 2-core box any foreign load (a test suite, a compiler) shifts req/s
// by tens of percent, so each measurement records this figure and the report
// flags runs that were not taken on a quiet machine.

import { cpus } from 'node:os';

interface CpuTotals {
  readonly idle: number;
  readonly total: number;
}

function totals(): CpuTotals {
  let idle = 0;
  let total = 0;
  for (const { times } of cpus()) {
    idle += times.idle;
    total += times.user + times.nice + times.sys + times.idle + times.irq;
  }
  return { idle, total };
}

/** Percentage of all CPUs busy over `sampleMs`, 0–100. */
export async function backgroundCpuBusyPercent(sampleMs = 300): Promise<number> {
  const before = totals();
  await new Promise((resolve) => setTimeout(resolve, sampleMs));
  const after = totals();
  const total = after.total - before.total;
  if (total <= 0) return 0;
  return (100 * (total - (after.idle - before.idle))) / total;
}

/** Above this, a measurement is reported as taken on a busy machine. */
export const NOISY_BACKGROUND_PERCENT = 10;
