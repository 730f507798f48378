// The quiet-machine gate: another benchmark on a 2-core box makes every figure meaningless, so a
// driver waits for it to finish before the run and (optionally) before every measurement, within
// one budget for the whole run. Before a measurement it can also wait a while for foreign CPU load
// (a test suite, a compiler: not a benchmark process, but as bad) to settle.

import { isShuttingDown } from './cleanup.js';
import { backgroundCpuBusyPercent, NOISY_BACKGROUND_PERCENT } from './cpu-quiet.js';
import { log } from './driver.js';
import { waitForQuietBench } from './otlp-bench-util.js';

/** Longest wait, before one measurement, for foreign CPU load to go away. */
const CPU_QUIET_MAX_MS = 60_000;

/** Waits for quiet (polling every `pollMs`); `cpuToo` also waits for background CPU to settle. */
export type QuietGate = (pollMs: number, cpuToo?: boolean) => Promise<void>;

/**
 * A gate with `budgetMs` of waiting in total (0: never waits). When other benchmarks are still
 * running at the end of the budget it logs `<tag>: <warning>` and stops waiting for the rest of the run.
 */
export function createQuietGate(tag: string, budgetMs: number, warning: string): QuietGate {
  let waitLeftMs = budgetMs;
  return async (pollMs, cpuToo = false) => {
    if (waitLeftMs <= 0) return;
    const t = Date.now();
    const others = await waitForQuietBench(log, tag, waitLeftMs, pollMs);
    if (others.length > 0) {
      log(`${tag}: ${warning}`);
      waitLeftMs = 0;
      return;
    }
    if (cpuToo) await waitForQuietCpu(tag, Math.min(Date.now() + CPU_QUIET_MAX_MS, t + waitLeftMs));
    waitLeftMs -= Date.now() - t;
  };
}

async function waitForQuietCpu(tag: string, until: number): Promise<void> {
  let busy = await backgroundCpuBusyPercent(500);
  if (busy <= NOISY_BACKGROUND_PERCENT) return;
  log(
    `${tag}: background CPU ${Math.round(busy)}% before the run; waiting up to ${Math.round(CPU_QUIET_MAX_MS / 1000)} s for it to settle`,
  );
  while (busy > NOISY_BACKGROUND_PERCENT && Date.now() < until && !isShuttingDown()) {
    await new Promise((r) => setTimeout(r, 1500));
    busy = await backgroundCpuBusyPercent(500);
  }
  log(
    `${tag}: background CPU now ${Math.round(busy)}%${busy > NOISY_BACKGROUND_PERCENT ? ' (still busy; measuring anyway)' : ''}`,
  );
}

/** Before a soak: waits up to 15 min for other benchmarks (when `wait`), then carries on with `<tag>: <warning>`. */
export function waitForQuietStart(tag: string, wait: boolean, warning: string): Promise<void> {
  return createQuietGate(tag, wait ? 15 * 60_000 : 0, warning)(20_000);
}
