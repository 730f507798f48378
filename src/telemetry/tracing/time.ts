/** Monotonic `performance.now()` milliseconds → wall-clock epoch milliseconds (span timestamps, exemplars). */
import { performance } from 'node:perf_hooks';

const ORIGIN = performance.timeOrigin;

export function epochMs(monotonicMs: number): number {
  return ORIGIN + monotonicMs;
}
