/**
 * A worker's metric store as the cluster primary sees it, sent as deltas. A series travels in full
 * (labels, attributes, values) once; after that only when its values changed, and then as numbers
 * packed in one Float64Array, which the IPC channel copies as bytes instead of walking an object
 * graph. A scrape thus costs the worker a walk over its cells comparing numbers and a copy of what
 * changed — not a copy and serialization of every series on every read, which stalled requests
 * when /metrics is megabytes. The channel is ordered and lossless, so the primary's mirror, applying
 * every report in turn, always holds the worker's whole store (also what a dead worker's retired
 * counts are taken from).
 */
import type { Exemplar, HistogramCell } from '../store/cells.js';
import {
  familyMeta,
  isEmpty,
  seriesOf,
  type FamilyMeta,
  type MetricStore,
  type SeriesSnapshot,
  type Snapshot,
  type StoreGroup,
} from '../store/store.js';

/** Series the primary has not seen yet, in full. */
export interface FamilyAdded {
  /** Registration index of the family in the worker's store. */
  readonly index: number;
  /** The family's description, in the first report that has series of it. */
  readonly meta: FamilyMeta | undefined;
  /** Positions of the series among the family's cells. */
  readonly positions: readonly number[];
  readonly series: readonly SeriesSnapshot[];
}

/** A new exemplar of a known histogram series' bucket. */
export interface ExemplarUpdate {
  readonly family: number;
  readonly position: number;
  readonly bucket: number;
  readonly exemplar: Exemplar;
}

export interface StoreDelta {
  readonly at: number;
  readonly added: readonly FamilyAdded[];
  /**
   * Changed values of known series, back to back: `family, position, value` for a counter or gauge;
   * `family, position, count, sum, bucket counts…` for a histogram (its family says how many buckets).
   */
  readonly values: Float64Array;
  readonly exemplars: readonly ExemplarUpdate[];
}

/** Worker side: what changed since the last `next()`. */
export class StoreDeltaWriter {
  readonly #store: MetricStore;
  /** Per family, per cell: the value (counter, gauge) or count (histogram) last reported; NaN = never. */
  readonly #sent: Float64Array[] = [];
  /** Per family, per histogram cell: the exemplars last reported (the cell replaces one per sampled observation). */
  readonly #sentExemplars: ((Exemplar | undefined)[] | undefined)[][] = [];
  readonly #described: boolean[] = [];
  #values = new Float64Array(4096);

  constructor(store: MetricStore) {
    this.#store = store;
  }

  /**
   * What changed in `groups` (all when omitted) since it was last reported, after running their
   * runtime collectors. The result's `values` is a view valid until the next call (send it, then
   * forget it).
   */
  next(now = Date.now(), groups?: ReadonlySet<StoreGroup>): StoreDelta {
    this.#store.runCollectors(groups);
    const added: FamilyAdded[] = [];
    const exemplars: ExemplarUpdate[] = [];
    let n = 0;
    const registered = this.#store.registered();
    for (let f = 0; f < registered.length; f++) {
      const { group, family } = registered[f] as (typeof registered)[number];
      // Families of other groups keep their marks and go out with the next report that asks for them.
      if (groups !== undefined && !groups.has(group)) continue;
      const cells = family.cells;
      const sent = this.#marks(f, cells.length);
      const sentExemplars = (this.#sentExemplars[f] ??= []);
      let positions: number[] | undefined;
      let series: SeriesSnapshot[] | undefined;
      for (let i = 0; i < cells.length; i++) {
        const cell = cells[i];
        if (cell === undefined || isEmpty(cell)) continue;
        const histogram = 'counts' in cell;
        const mark = histogram ? cell.count : cell.value;
        const known = !Number.isNaN(sent[i] as number);
        // A NaN gauge never equals its mark: it is simply sent every time.
        if (mark === sent[i]) continue;
        sent[i] = mark;
        if (!known) {
          (positions ??= []).push(i);
          (series ??= []).push(seriesOf(cell));
          if (histogram) sentExemplars[i] = cell.exemplars?.slice();
          continue;
        }
        if (!histogram) {
          n = this.#reserve(n, 3);
          this.#values[n++] = f;
          this.#values[n++] = i;
          this.#values[n++] = cell.value;
          continue;
        }
        n = this.#reserve(n, 4 + cell.counts.length);
        const v = this.#values;
        v[n++] = f;
        v[n++] = i;
        v[n++] = cell.count;
        v[n++] = cell.sum;
        v.set(cell.counts, n);
        n += cell.counts.length;
        if (cell.exemplars !== undefined) sentExemplars[i] = changedExemplars(f, i, cell, sentExemplars[i], exemplars);
      }
      if (positions === undefined || series === undefined) continue;
      const meta = this.#described[f] === true ? undefined : familyMeta(group, family);
      this.#described[f] = true;
      added.push({ index: f, meta, positions, series });
    }
    // A view, not a copy: the IPC channel copies it while sending, and a fresh 100 KB+ array per
    // report is external memory that brings the worker's next full GC (a 10 ms pause) forward.
    return { at: now, added, values: this.#values.subarray(0, n), exemplars };
  }

  #marks(f: number, cells: number): Float64Array {
    const sent = this.#sent[f];
    if (sent !== undefined && sent.length >= cells) return sent;
    const grown = new Float64Array(Math.max(cells, (sent?.length ?? 0) * 2, 8)).fill(Number.NaN);
    if (sent !== undefined) grown.set(sent);
    this.#sent[f] = grown;
    return grown;
  }

  #reserve(n: number, more: number): number {
    if (n + more > this.#values.length) {
      const grown = new Float64Array(Math.max(n + more, this.#values.length * 2));
      grown.set(this.#values.subarray(0, n));
      this.#values = grown;
    }
    return n;
  }
}

/** Pushes the buckets whose exemplar was replaced since `before`; returns what is now reported. */
function changedExemplars(
  family: number,
  position: number,
  cell: HistogramCell,
  before: (Exemplar | undefined)[] | undefined,
  out: ExemplarUpdate[],
): (Exemplar | undefined)[] | undefined {
  const now = cell.exemplars as (Exemplar | undefined)[];
  const pushed = out.length;
  for (let b = 0; b < now.length; b++) {
    const e = now[b];
    if (e !== undefined && e !== before?.[b]) out.push({ family, position, bucket: b, exemplar: e });
  }
  // Copied only when something changed (the cell replaces its entries in place).
  return out.length === pushed ? before : now.slice();
}

type Histogram = Extract<SeriesSnapshot, { counts: Float64Array }>;

/** Primary side: a worker's whole store, kept up to date by its deltas. */
export class StoreMirror {
  readonly #families: ({ meta: FamilyMeta; series: (SeriesSnapshot | undefined)[] } | undefined)[] = [];
  #at = 0;
  #snapshot: Snapshot | undefined;

  apply(delta: StoreDelta): void {
    this.#at = delta.at;
    this.#snapshot = undefined;
    for (const d of delta.added) {
      let entry = this.#families[d.index];
      if (entry === undefined) {
        // A family's description comes with its first series; a delta without it is out of step.
        if (d.meta === undefined) continue;
        this.#families[d.index] = entry = { meta: d.meta, series: [] };
      }
      for (let i = 0; i < d.positions.length; i++) entry.series[d.positions[i] as number] = d.series[i];
    }
    // Series are replaced, never changed in place: a snapshot handed out earlier stays as it was.
    const v = delta.values;
    for (let n = 0; n < v.length;) {
      const entry = this.#families[v[n] as number];
      const position = v[n + 1] as number;
      const prev = entry?.series[position];
      if (entry === undefined || prev === undefined) break; // out of step; the rest cannot be read
      if (!('counts' in prev)) {
        entry.series[position] = { labels: prev.labels, attributes: prev.attributes, value: v[n + 2] as number };
        n += 3;
        continue;
      }
      const buckets = prev.counts.length;
      entry.series[position] = {
        labels: prev.labels,
        attributes: prev.attributes,
        count: v[n + 2] as number,
        sum: v[n + 3] as number,
        counts: v.slice(n + 4, n + 4 + buckets),
        exemplars: prev.exemplars,
      };
      n += 4 + buckets;
    }
    for (const x of delta.exemplars) {
      const entry = this.#families[x.family];
      const prev = entry?.series[x.position] as Histogram | undefined;
      if (entry === undefined || prev === undefined) continue;
      const exemplars = prev.exemplars?.slice() ?? new Array<Exemplar | undefined>(prev.counts.length);
      exemplars[x.bucket] = x.exemplar;
      entry.series[x.position] = { ...prev, exemplars };
    }
  }

  /** The worker's store as of its last report (the same snapshot until the next one). */
  snapshot(): Snapshot {
    if (this.#snapshot !== undefined) return this.#snapshot;
    const families = [];
    for (const entry of this.#families) {
      if (entry === undefined) continue;
      const series = entry.series.filter((s): s is SeriesSnapshot => s !== undefined);
      if (series.length > 0) families.push({ ...entry.meta, series });
    }
    this.#snapshot = { at: this.#at, families };
    return this.#snapshot;
  }
}
