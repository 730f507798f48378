/**
 * A metric family: name, help, unit, type, its label names and every series bound so far. The series
 * limit (OTel's default cardinality limit, 2000) caps memory: past it, new label sets share one
 * overflow series labelled `otel_metric_overflow="true"`, as the OTel SDK does.
 */
import { CounterCell, GaugeCell, HistogramCell, type Attributes } from './cells.js';
import { dedupePairs, renderLabels, sortPairs, type LabelPairs } from './labels.js';

/**
 * How a gauge of several processes (cluster workers) becomes one value: `sum` for amounts that add up
 * (connections, memory), `max` for flags and metadata (info gauges, target health), `min` for start
 * times. Counters and histograms always add up.
 */
export type GaugeMerge = 'sum' | 'max' | 'min';

export type FamilyType = 'counter' | 'gauge' | 'histogram';

const DEFAULT_SERIES_LIMIT = 2000;

export interface FamilyOptions {
  /** Prometheus name without the `_total` suffix of counters. */
  readonly name: string;
  /** Instrument name for OTLP (`http.server.duration`); defaults to `name`. */
  readonly otelName?: string;
  /** Instrument unit for OTLP (`s`, `By`); empty when none. */
  readonly otelUnit?: string;
  readonly help: string;
  /** Unit word for OpenMetrics `# UNIT` (only written when the name ends with it). */
  readonly unit?: string;
  readonly buckets?: readonly number[];
  readonly seriesLimit?: number;
  /** Labels every series of this family carries (e.g. the OTel scope), merged in at bind time. */
  readonly constLabels?: LabelPairs;
  /** Keep labels in the order given (Kong declares its order) instead of sorting them by name. */
  readonly declaredOrder?: boolean;
  /** How cluster workers' values of a gauge combine (default `max`); see GaugeMerge. */
  readonly merge?: GaugeMerge;
  /** A counter whose exposed name is `name` as is (Kong's `kong_bandwidth_bytes`): no `_total` added. */
  readonly noTotalSuffix?: boolean;
}

type CellOf<T extends FamilyType> = T extends 'counter' ? CounterCell : T extends 'gauge' ? GaugeCell : HistogramCell;

export class Family<T extends FamilyType = FamilyType> {
  readonly type: T;
  readonly name: string;
  readonly otelName: string;
  readonly otelUnit: string;
  readonly help: string;
  readonly unit: string | undefined;
  readonly bounds: Float64Array;
  readonly seriesLimit: number;
  readonly noTotalSuffix: boolean;
  readonly merge: GaugeMerge;
  readonly #declaredOrder: boolean;
  readonly cells: CellOf<T>[] = [];
  readonly #constLabels: LabelPairs;
  readonly #byLabels = new Map<string, CellOf<T>>();
  #overflow: CellOf<T> | undefined;
  /** How many bindings were refused by the series limit (exported as a self-metric). */
  overflowed = 0;

  constructor(type: T, options: FamilyOptions) {
    this.type = type;
    this.name = options.name;
    this.otelName = options.otelName ?? options.name;
    this.otelUnit = options.otelUnit ?? '';
    this.help = options.help;
    this.unit = options.unit;
    this.bounds = Float64Array.from(options.buckets ?? []);
    this.seriesLimit = options.seriesLimit ?? DEFAULT_SERIES_LIMIT;
    this.#constLabels = options.constLabels ?? [];
    this.#declaredOrder = options.declaredOrder === true;
    this.noTotalSuffix = options.noTotalSuffix === true;
    this.merge = options.merge ?? 'max';
  }

  /**
   * The cell of a label set, created on first use. Call at bind time (start-up, or once per new
   * closed-set value); the same label set always returns the same cell.
   */
  bind(pairs: LabelPairs): CellOf<T> {
    const all = [...pairs, ...this.#constLabels];
    const labels = renderLabels(this.#declaredOrder ? [...dedupePairs(all).entries()] : sortPairs(all));
    const existing = this.#byLabels.get(labels);
    if (existing !== undefined) return existing;
    if (this.cells.length >= this.seriesLimit) {
      this.overflowed++;
      return this.#overflowCell();
    }
    const cell = this.#make(labels, Object.fromEntries(dedupePairs(pairs)));
    this.#byLabels.set(labels, cell);
    this.cells.push(cell);
    return cell;
  }

  /** One cell per value of `label` (next to the fixed `pairs`), keyed by that value: the outcome cells of an exporter. */
  bindEach<K extends string>(pairs: LabelPairs, label: string, values: readonly K[]): Record<K, CellOf<T>> {
    const out = {} as Record<K, CellOf<T>>;
    for (const v of values) out[v] = this.bind([...pairs, [label, v]]);
    return out;
  }

  /**
   * The overflow series, for a label set its caller refuses before the family's limit is reached (a
   * status past its route's budget, store/status-budget.ts); counted like a refused binding.
   */
  overflow(): CellOf<T> {
    this.overflowed++;
    return this.#overflowCell();
  }

  #overflowCell(): CellOf<T> {
    if (this.#overflow === undefined) {
      this.#overflow = this.#make(renderLabels(sortPairs([['otel_metric_overflow', 'true'], ...this.#constLabels])), {
        'otel.metric.overflow': true,
      });
      this.cells.push(this.#overflow);
    }
    return this.#overflow;
  }

  #make(labels: string, attributes: Attributes): CellOf<T> {
    if (this.type === 'counter') return new CounterCell(labels, attributes) as CellOf<T>;
    if (this.type === 'gauge') return new GaugeCell(labels, attributes) as CellOf<T>;
    return new HistogramCell(labels, attributes, this.bounds) as CellOf<T>;
  }
}
