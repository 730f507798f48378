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
  /**
   * Latest sampled observation per bucket, as plain fields: a sampled request writes here on the hot
   * path, and an object per observation stored into this long-lived cell made that store the costliest
   * line of a traced request in a worker profile (each one outlives a young-generation collection
   * because the old cell points at it). Readers get `Exemplar` objects, made on the first read after a
   * write (`exemplars`).
   */
  #exTraceIds: (string | undefined)[] | undefined;
  #exSpanIds: string[] = [];
  #exValues: Float64Array | undefined;
  #exTimes: Float64Array | undefined;
  /** Objects handed to readers, per bucket; cleared when the bucket gets a newer exemplar, so one object stands for one observation. */
  #exObjects: (Exemplar | undefined)[] = [];

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
    let traces = this.#exTraceIds;
    if (traces === undefined) {
      const n = b.length + 1;
      traces = this.#exTraceIds = new Array<string | undefined>(n).fill(undefined);
      this.#exSpanIds = new Array<string>(n).fill('');
      this.#exValues = new Float64Array(n);
      this.#exTimes = new Float64Array(n);
      this.#exObjects = new Array<Exemplar | undefined>(n).fill(undefined);
    }
    traces[i] = traceId;
    this.#exSpanIds[i] = spanId;
    (this.#exValues as Float64Array)[i] = v;
    (this.#exTimes as Float64Array)[i] = timestampMs;
    this.#exObjects[i] = undefined;
  }

  /**
   * Latest exemplar per bucket (undefined before the first sampled observation). The same object is
   * returned for a bucket until it gets a newer exemplar, so readers can tell a replaced one by identity.
   */
  get exemplars(): readonly (Exemplar | undefined)[] | undefined {
    const traces = this.#exTraceIds;
    if (traces === undefined) return undefined;
    const objects = this.#exObjects;
    for (let i = 0; i < traces.length; i++) {
      const traceId = traces[i];
      if (traceId === undefined || objects[i] !== undefined) continue;
      objects[i] = {
        traceId,
        spanId: this.#exSpanIds[i] as string,
        value: (this.#exValues as Float64Array)[i] as number,
        timestampMs: (this.#exTimes as Float64Array)[i] as number,
      };
    }
    return objects;
  }
}

export type Cell = CounterCell | GaugeCell | HistogramCell;
