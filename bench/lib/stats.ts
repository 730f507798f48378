// Order statistics for the reports.

/** Median (mean of the two middle values for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The q-quantile (0..1) of an ascending array by the nearest-rank method; NaN when empty. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/** The q-quantile (0..1) of samples in any order by the nearest-rank method; NaN when empty. */
export function quantile(samples: readonly number[], q: number): number {
  return quantileSorted(
    [...samples].sort((a, b) => a - b),
    q,
  );
}

/** The largest sample; NaN when empty (Math.max alone would say -Infinity). */
export const maxOf = (samples: readonly number[]): number => (samples.length === 0 ? Number.NaN : Math.max(...samples));
