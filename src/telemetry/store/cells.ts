/**
 * The cells a view increments on the hot path: plain numbers and one Float64Array per histogram.
 * A cell is bound to its label set at start-up (or the first time a closed-set value such as a
 * status code appears), so recording is an array write, never a lookup by labels.
 */

/** OTel attributes of a series (typed, original keys), for OTLP; Prometheus uses `labels`. */
export type Attributes = Readonly<Record<string, string | number | boolean>>;

export class CounterCell {
  value = 0;
  constructor(
    readonly labels: string,
    readonly attributes: Attributes,
  ) {}

  add(n: number): void {
    this.value += n;
  }
}

export class GaugeCell {
  value = 0;
  constructor(
    readonly labels: string,
    readonly attributes: Attributes,
  ) {}

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
    readonly attributes: Attributes,
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

  /** `observe` for a sampled request: the observation also becomes its bucket's exemplar. */
  observeWithExemplar(v: number, traceId: string, spanId: string, timestampMs: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > (b[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += v;
    this.count++;
    this.exemplars ??= new Array<Exemplar | undefined>(b.length + 1);
    this.exemplars[i] = { traceId, spanId, value: v, timestampMs };
  }
}

export type Cell = CounterCell | GaugeCell | HistogramCell;
