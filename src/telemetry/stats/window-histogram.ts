/**
 * KrakenD's extended-metrics histogram (go-metrics with a uniform reservoir of 1028 samples): count,
 * min, max, mean, standard deviation and percentiles over the current collection window, cleared on
 * every collection tick. Recording is a few arithmetic operations and one array write.
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
  #sumSq = 0;
  readonly #samples = new Float64Array(RESERVOIR);

  update(v: number): void {
    const n = this.count++;
    if (n === 0 || v < this.#min) this.#min = v;
    if (n === 0 || v > this.#max) this.#max = v;
    this.#sum += v;
    this.#sumSq += v * v;
    if (n < RESERVOIR) this.#samples[n] = v;
    else {
      // Algorithm R: every value seen so far has the same chance to be in the reservoir.
      const r = Math.floor(Math.random() * (n + 1));
      if (r < RESERVOIR) this.#samples[r] = v;
    }
  }

  clear(): void {
    this.count = 0;
    this.#min = this.#max = this.#sum = this.#sumSq = 0;
  }

  snapshot(): WindowSnapshot {
    const count = this.count;
    const size = Math.min(count, RESERVOIR);
    const sorted = this.#samples.slice(0, size).sort();
    const mean = count === 0 ? 0 : this.#sum / count;
    // go-metrics reports the sample variance of the reservoir; over the full window is as useful
    // and exact while the window fits in the reservoir.
    const variance = count < 2 ? 0 : Math.max(0, (this.#sumSq - count * mean * mean) / (count - 1));
    return {
      count,
      min: this.#min,
      max: this.#max,
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
}
