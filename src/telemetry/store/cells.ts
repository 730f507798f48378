/**
 * The cells a view increments on the hot path: plain numbers and one Float64Array per histogram.
 * A cell is bound to its label set at start-up (or the first time a closed-set value such as a
 * status code appears), so recording is an array write, never a lookup by labels.
 */

export class CounterCell {
  value = 0;
  constructor(readonly labels: string) {}

  add(n: number): void {
    this.value += n;
  }
}

export class GaugeCell {
  value = 0;
  constructor(readonly labels: string) {}

  set(n: number): void {
    this.value = n;
  }
}

/** An exemplar as OpenMetrics carries it: the trace of one sampled observation (issue 4 fills it). */
export interface Exemplar {
  readonly traceId: string;
  readonly spanId: string;
  readonly value: number;
  readonly timestampMs: number;
}

export class HistogramCell {
  /** Non-cumulative counts per bucket; the last slot is the +Inf overflow bucket. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  /** Latest exemplar per bucket, when tracing provides one. */
  exemplars: (Exemplar | undefined)[] | undefined;

  constructor(
    readonly labels: string,
    readonly bounds: Float64Array,
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > (b[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += v;
    this.count++;
  }

  /** Bucket index of a value (for an exemplar on the bucket it landed in). */
  bucketOf(v: number): number {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > (b[i] as number)) i++;
    return i;
  }
}

export type Cell = CounterCell | GaugeCell | HistogramCell;
