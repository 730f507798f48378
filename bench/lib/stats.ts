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

export interface Interval {
  readonly low: number;
  readonly high: number;
}

/**
 * A distribution-free confidence interval for the median: the order statistics whose ranks
 * Binomial(n, ½) puts around the middle with at least `level` coverage. Undefined when n is too
 * small for that coverage (fewer than 6 values at 95 %).
 */
export function medianInterval(values: readonly number[], level = 0.95): Interval | undefined {
  const n = values.length;
  const sorted = [...values].sort((a, b) => a - b);
  // P(X ≤ j) for X ~ Binomial(n, ½), accumulated term by term.
  let term = 0.5 ** n;
  let below = 0;
  let k = 0;
  for (let j = 0; j < n; j++) {
    if (2 * (below + term) > 1 - level) break;
    below += term;
    term = (term * (n - j)) / (j + 1);
    k = j + 1;
  }
  // P(median < k-th lowest) = P(X ≤ k - 1) ≤ (1 - level) / 2, and the same above the k-th highest.
  if (k === 0) return undefined;
  return { low: sorted[k - 1] as number, high: sorted[n - k] as number };
}
