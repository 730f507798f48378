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
   * write (`exemplars`). Made at the first sampled observation: most cells never get one.
   */
  #ex: ExemplarSlots | undefined;

  constructor(
    readonly labels: string,
    readonly attributes: Attributes,
    readonly bounds: Float64Array,
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(v: number): void {
    this.#add(v);
  }

  /** `observe` for a sampled request: the observation also becomes its bucket's exemplar. */
  observeWithExemplar(v: number, traceId: string, spanId: string, timestampMs: number): void {
    const i = this.#add(v);
    const ex = (this.#ex ??= new ExemplarSlots(this.counts.length));
    ex.traceIds[i] = traceId;
    ex.spanIds[i] = spanId;
    ex.values[i] = v;
    ex.times[i] = timestampMs;
    ex.objects[i] = undefined;
  }

  /** Counts `v` in its bucket; returns the bucket's index. */
  #add(v: number): number {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > (b[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += v;
    this.count++;
    return i;
  }

  /**
   * Latest exemplar per bucket (undefined before the first sampled observation). The same object is
   * returned for a bucket until it gets a newer exemplar, so readers can tell a replaced one by identity.
   */
  get exemplars(): readonly (Exemplar | undefined)[] | undefined {
    const ex = this.#ex;
    if (ex === undefined) return undefined;
    const objects = ex.objects;
    for (let i = 0; i < objects.length; i++) {
      const traceId = ex.traceIds[i];
      if (traceId === undefined || objects[i] !== undefined) continue;
      objects[i] = {
        traceId,
        spanId: ex.spanIds[i] as string,
        value: ex.values[i] as number,
        timestampMs: ex.times[i] as number,
      };
    }
    return objects;
  }
}

/** The per-bucket fields of a histogram cell's exemplars, and the objects handed to readers. */
class ExemplarSlots {
  readonly traceIds: (string | undefined)[];
  readonly spanIds: string[];
  readonly values: Float64Array;
  readonly times: Float64Array;
  /** Cleared when the bucket gets a newer exemplar, so one object stands for one observation. */
  readonly objects: (Exemplar | undefined)[];

  constructor(buckets: number) {
    this.traceIds = new Array<string | undefined>(buckets).fill(undefined);
    this.spanIds = new Array<string>(buckets).fill('');
    this.values = new Float64Array(buckets);
    this.times = new Float64Array(buckets);
    this.objects = new Array<Exemplar | undefined>(buckets).fill(undefined);
  }
}

export type Cell = CounterCell | GaugeCell | HistogramCell;
