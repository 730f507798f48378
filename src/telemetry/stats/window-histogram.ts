/**
 * KrakenD's extended-metrics histogram (go-metrics with a uniform reservoir of 1028 samples): count,
 * min, max, mean, standard deviation and percentiles over the current collection window, cleared on
 * every collection tick. Recording is a few arithmetic operations and one array write.
 *
 * Variance and standard deviation are the population ones (divided by n, not n − 1), as go-metrics'
 * SampleVariance computes them (rcrowley/go-metrics sample.go:384). Count, min, max, mean and variance
 * cover the whole window; go-metrics takes min, max, mean and variance from its reservoir, which is
 * the same thing while a window holds at most 1028 values (docs/stats.md, differences).
 */
const RESERVOIR = 1028;

export interface WindowSnapshot {
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly stddev: number;
  readonly variance: number;
  percentile(p: number): number;
}

export class WindowHistogram {
  count = 0;
  #min = 0;
  #max = 0;
  #sum = 0;
  /** Welford's running mean and sum of squared deviations: no cancellation as in Σv² − n·mean². */
  #mean = 0;
  #m2 = 0;
  readonly #samples = new Float64Array(RESERVOIR);

  update(v: number): void {
    const n = this.count++;
    if (n === 0 || v < this.#min) this.#min = v;
    if (n === 0 || v > this.#max) this.#max = v;
    this.#sum += v;
    const d = v - this.#mean;
    this.#mean += d / (n + 1);
    this.#m2 += d * (v - this.#mean);
    if (n < RESERVOIR) this.#samples[n] = v;
    else {
      // Algorithm R: every value seen so far has the same chance to be in the reservoir.
      const r = Math.floor(Math.random() * (n + 1));
      if (r < RESERVOIR) this.#samples[r] = v;
    }
  }

  clear(): void {
    this.count = 0;
    this.#min = this.#max = this.#sum = this.#mean = this.#m2 = 0;
  }

  /** The window's state, structured-clone friendly (cluster workers send it to the primary). */
  raw(): RawWindow {
    return {
      count: this.count,
      min: this.#min,
      max: this.#max,
      sum: this.#sum,
      m2: this.#m2,
      samples: this.#samples.slice(0, Math.min(this.count, RESERVOIR)),
    };
  }

  snapshot(): WindowSnapshot {
    return windowSnapshot(this.raw());
  }
}

export interface RawWindow {
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly sum: number;
  /** Σ (v − mean)² over the window. */
  readonly m2: number;
  /** The reservoir (at most RESERVOIR uniform samples of the window). */
  readonly samples: Float64Array;
}

export function windowSnapshot(raw: RawWindow): WindowSnapshot {
  const { count } = raw;
  const size = raw.samples.length;
  const sorted = raw.samples.slice().sort();
  const mean = count === 0 ? 0 : raw.sum / count;
  // The population variance, as go-metrics' SampleVariance (sum of squared deviations / n).
  const variance = count === 0 ? 0 : Math.max(0, raw.m2 / count);
  return {
    count,
    min: raw.min,
    max: raw.max,
    mean,
    variance,
    stddev: Math.sqrt(variance),
    percentile(p: number): number {
      if (size === 0) return 0;
      // go-metrics' interpolation: position p·(n+1), clamped to the ends.
      const pos = p * (size + 1);
      if (pos < 1) return sorted[0] as number;
      if (pos >= size) return sorted[size - 1] as number;
      const lower = sorted[Math.floor(pos) - 1] as number;
      const upper = sorted[Math.floor(pos)] as number;
      return lower + (pos - Math.floor(pos)) * (upper - lower);
    },
  };
}

/**
 * Several windows (one per cluster worker) as one: exact count, min, max, sum and sum of squares; the
 * reservoir drawn from each worker's samples in proportion to its count, so a busy worker's latencies
 * weigh as much as its requests.
 */
export function mergeWindows(parts: readonly RawWindow[]): RawWindow {
  const live = parts.filter((p) => p.count > 0);
  if (live.length === 0) return { count: 0, min: 0, max: 0, sum: 0, m2: 0, samples: new Float64Array(0) };
  if (live.length === 1) return live[0] as RawWindow;
  const count = live.reduce((n, p) => n + p.count, 0);
  const size = Math.min(
    RESERVOIR,
    live.reduce((n, p) => n + p.samples.length, 0),
  );
  const samples = new Float64Array(size);
  let at = 0;
  live.forEach((p, i) => {
    const share = i === live.length - 1 ? size - at : Math.min(p.samples.length, Math.round((size * p.count) / count));
    for (let k = 0; k < share && at < size; k++)
      samples[at++] = p.samples[Math.floor((k * p.samples.length) / Math.max(1, share))] as number;
  });
  return {
    count,
    min: Math.min(...live.map((p) => p.min)),
    max: Math.max(...live.map((p) => p.max)),
    sum: live.reduce((n, p) => n + p.sum, 0),
    m2: mergedM2(live, count),
    samples: samples.subarray(0, at),
  };
}

/** Chan et al.'s pairwise update: Σ m2ᵢ plus each part's count times its mean's squared distance from the whole mean. */
function mergedM2(parts: readonly RawWindow[], count: number): number {
  const mean = parts.reduce((n, p) => n + p.sum, 0) / count;
  return parts.reduce((n, p) => {
    const d = p.sum / p.count - mean;
    return n + p.m2 + p.count * d * d;
  }, 0);
}
