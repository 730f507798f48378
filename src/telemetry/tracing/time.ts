/** Monotonic `performance.now()` milliseconds → OTel HrTime on the wall clock. */
import type { HrTime } from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';

const ORIGIN = performance.timeOrigin;

export function hrTime(monotonicMs: number): HrTime {
  const t = ORIGIN + monotonicMs;
  const s = Math.floor(t / 1000);
  return [s, Math.round((t - s * 1000) * 1e6)];
}

export function hrDuration(fromMs: number, toMs: number): HrTime {
  const d = Math.max(0, toMs - fromMs);
  const s = Math.floor(d / 1000);
  return [s, Math.round((d - s * 1000) * 1e6)];
}

export function epochMs(monotonicMs: number): number {
  return ORIGIN + monotonicMs;
}
