/**
 * The one metric store every exporter reads (OpenTelemetry JS MetricReader.collect() in spirit):
 * families are registered by views at start-up, tagged with the group they belong to, and read as an
 * immutable snapshot. Collectors (runtime metrics) refresh their gauges just before a snapshot.
 */
import type { Attributes, Cell, Exemplar } from './cells.js';
import { Family, type FamilyOptions, type FamilyType, type GaugeMerge } from './family.js';
import { ReadHooks } from '../read-hooks.js';

export type StoreGroup = 'otel' | 'process' | 'nodejs' | 'self' | (string & {});

export type SeriesSnapshot =
  | { readonly labels: string; readonly attributes: Attributes; readonly value: number }
  | {
      readonly labels: string;
      readonly attributes: Attributes;
      readonly counts: Float64Array;
      readonly sum: number;
      readonly count: number;
      readonly exemplars: readonly (Exemplar | undefined)[] | undefined;
    };

export interface FamilySnapshot {
  readonly type: FamilyType;
  readonly merge: GaugeMerge;
  readonly name: string;
  readonly otelName: string;
  readonly otelUnit: string;
  readonly group: StoreGroup;
  /** The name to expose for samples and TYPE in the text format (counters get `_total` unless told not to). */
  readonly exposedName: string;
  readonly help: string;
  readonly unit: string | undefined;
  readonly bounds: Float64Array;
  readonly series: readonly SeriesSnapshot[];
}

export interface Snapshot {
  /** Wall-clock time of the snapshot (ms since epoch). */
  readonly at: number;
  readonly families: readonly FamilySnapshot[];
}

/** Where exporters read from: one process's store, or the sum over cluster workers. */
export interface SnapshotSource {
  collect(groups?: ReadonlySet<StoreGroup>): Promise<Snapshot>;
}

export class MetricStore implements SnapshotSource {
  readonly #families: { group: StoreGroup; family: Family }[] = [];
  readonly #names = new Set<string>();
  readonly #collectors: { group: StoreGroup; collect: () => void }[] = [];
  readonly #beforeRead = new ReadHooks();

  counter(group: StoreGroup, options: FamilyOptions): Family<'counter'> {
    return this.#add(group, new Family('counter', options));
  }

  gauge(group: StoreGroup, options: FamilyOptions): Family<'gauge'> {
    return this.#add(group, new Family('gauge', options));
  }

  histogram(group: StoreGroup, options: FamilyOptions & { buckets: readonly number[] }): Family<'histogram'> {
    return this.#add(group, new Family('histogram', options));
  }

  /** A function run before each snapshot of its group (e.g. reading process or heap statistics). */
  addCollector(group: StoreGroup, collect: () => void): void {
    this.#collectors.push({ group, collect });
  }

  families(groups?: ReadonlySet<StoreGroup>): Family[] {
    return this.#families.filter((f) => groups === undefined || groups.has(f.group)).map((f) => f.family);
  }

  #add<T extends FamilyType>(group: StoreGroup, family: Family<T>): Family<T> {
    if (this.#names.has(family.name)) throw new Error(`metric family ${family.name} registered twice`);
    this.#names.add(family.name);
    this.#families.push({ group, family: family as Family });
    return family;
  }

  collect(groups?: ReadonlySet<StoreGroup>): Promise<Snapshot> {
    return Promise.resolve(this.snapshot(groups));
  }

  /** The registered families with their groups, in registration order (cells are appended, never removed). */
  registered(): readonly { readonly group: StoreGroup; readonly family: Family }[] {
    return this.#families;
  }

  /**
   * A function run before every read of any group, ahead of the collectors: the views' queue of
   * finished requests is written into the cells there (telemetry/view-deferral.ts).
   */
  beforeRead(fn: () => void): void {
    this.#beforeRead.add(fn);
  }

  /**
   * Runs the `beforeRead` functions, then refreshes the collector-fed gauges (runtime metrics) of the
   * given groups (all when omitted). Every read of the store starts here.
   */
  runCollectors(groups?: ReadonlySet<StoreGroup>): void {
    this.#beforeRead.run();
    for (const c of this.#collectors) if (groups === undefined || groups.has(c.group)) c.collect();
  }

  /** Copies the current values of the given groups (all when omitted); series without data are skipped. */
  snapshot(groups?: ReadonlySet<StoreGroup>, now = Date.now()): Snapshot {
    this.runCollectors(groups);
    const families: FamilySnapshot[] = [];
    for (const { group, family } of this.#families) {
      if (groups !== undefined && !groups.has(group)) continue;
      const series: SeriesSnapshot[] = [];
      for (const cell of family.cells) {
        if (!isEmpty(cell)) series.push(seriesOf(cell));
      }
      if (series.length > 0) families.push({ ...familyMeta(group, family), series });
    }
    return { at: now, families };
  }
}

/** A family's description without its series. */
export type FamilyMeta = Omit<FamilySnapshot, 'series'>;

export function familyMeta(group: StoreGroup, family: Family): FamilyMeta {
  const exposedName = family.type === 'counter' && !family.noTotalSuffix ? `${family.name}_total` : family.name;
  return {
    type: family.type,
    merge: family.merge,
    name: family.name,
    exposedName,
    otelName: family.otelName,
    otelUnit: family.otelUnit,
    group,
    help: family.help,
    unit: family.unit,
    bounds: family.bounds,
  };
}

/** A histogram nothing was observed in is not a series yet (counters and gauges are, from their binding). */
export function isEmpty(cell: Cell): boolean {
  return 'counts' in cell && cell.count === 0;
}

/** A copy of one cell's current values. */
export function seriesOf(cell: Cell): SeriesSnapshot {
  if ('counts' in cell)
    return {
      labels: cell.labels,
      attributes: cell.attributes,
      counts: cell.counts.slice(),
      sum: cell.sum,
      count: cell.count,
      exemplars: cell.exemplars?.slice(),
    };
  return { labels: cell.labels, attributes: cell.attributes, value: cell.value };
}
