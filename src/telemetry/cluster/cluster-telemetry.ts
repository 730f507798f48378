/**
 * The cluster primary's telemetry: one metric source that is the sum over the workers (asked on each
 * read, with a bounded wait), plus the counts of workers that are gone so counters never go back, and
 * the readers of that source — /metrics, Kong's status listener, /__stats, OTLP and Influx pushes —
 * exactly as a single process has them.
 */
import type { GatewayConfig } from '../../config/types.js';
import type { Logger } from '../../log/logger.js';
import { TelemetryReaders } from '../readers.js';
import { mergeRawStats, statsFromRaw, type RawStats, type StatsSnapshot } from '../stats/stats-registry.js';
import { StatsServer, type StatsSource } from '../stats/stats-server.js';
import { expvarExtra } from '../stats/extended-metrics.js';
import type { CounterCell, GaugeCell } from '../store/cells.js';
import { MetricStore, type Snapshot, type SnapshotSource, type StoreGroup } from '../store/store.js';
import type { ReportRequest, WorkerTelemetry } from '../telemetry.js';
import { cumulativeOnly, mergeSnapshots } from './merge.js';
import type { DashboardSource } from '../dashboard/dashboard-server.js';
import { DASHBOARD_GROUP } from '../dashboard/dashboard-view.js';
import { mergeSlow, type SlowRequest } from '../dashboard/slow-log.js';

/** Fresh telemetry of every running worker; one that did not answer in time is represented by its last answer. */
export interface WorkerCollector {
  collect(want?: ReportRequest): Promise<readonly WorkerTelemetry[]>;
}

const DASHBOARD_GROUPS: ReadonlySet<StoreGroup> = new Set([DASHBOARD_GROUP]);
/** /__stats and the Influx push read telemetry/metrics values (and the runtime figures they carry). */
const STATS: ReportRequest = { groups: new Set(), stats: true, slow: false };

/** `/__stats` key with the number of workers that answered (Tollgate's; KrakenD runs one process). */
export const WORKERS_KEY = 'tollgate.cluster.workers';

/** Window counters of telemetry/metrics: they restart every collection, so a dead worker's are not kept. */
const WINDOW_COUNTERS = new Set(['krakend.router.connected', 'krakend.router.disconnected']);

function countersOnly(raw: RawStats): RawStats {
  return {
    at: raw.at,
    counters: new Map([...raw.counters].filter(([k]) => !WINDOW_COUNTERS.has(k))),
    gauges: new Map(),
    histograms: new Map(),
  };
}

export interface ClusterStats {
  readonly restarts: CounterCell;
  readonly collectTimeouts: CounterCell;
  readonly workers: GaugeCell;
  readonly reloadsApplied: CounterCell;
  readonly reloadsRejected: CounterCell;
}

export class ClusterTelemetry implements SnapshotSource, StatsSource, DashboardSource {
  /** The primary's own families (cluster self-metrics, pushes), merged into what it serves. */
  readonly store = new MetricStore();
  readonly cluster: ClusterStats;
  readonly #collector: WorkerCollector;
  readonly #logger: Logger;
  #config: GatewayConfig;
  #readers: TelemetryReaders;
  #statsServer: StatsServer | undefined;
  #retired: Snapshot = { at: 0, families: [] };
  #retiredStats: RawStats | undefined;
  #lastParts: readonly WorkerTelemetry[] = [];

  constructor(config: GatewayConfig, collector: WorkerCollector, logger: Logger) {
    this.#config = config;
    this.#collector = collector;
    this.#logger = logger;
    const s = this.store;
    const reloads = s.counter('self', {
      name: 'tollgate_cluster_reloads',
      help: 'Configuration reloads (SIGHUP or --watch), by outcome: applied, or rejected (invalid config or workers that failed to start).',
    });
    this.cluster = {
      restarts: s
        .counter('self', { name: 'tollgate_cluster_worker_restarts', help: 'Workers started again after they died.' })
        .bind([]),
      collectTimeouts: s
        .counter('self', {
          name: 'tollgate_cluster_collect_timeouts',
          help: 'Worker answers that missed the collection deadline (the worker was counted with its previous answer).',
        })
        .bind([]),
      workers: s
        .gauge('self', { name: 'tollgate_cluster_workers', help: 'Worker processes serving requests.' })
        .bind([]),
      reloadsApplied: reloads.bind([['outcome', 'applied']]),
      reloadsRejected: reloads.bind([['outcome', 'rejected']]),
    };
    this.#readers = this.#makeReaders(config);
  }

  #makeReaders(config: GatewayConfig): TelemetryReaders {
    return new TelemetryReaders(
      config,
      { metrics: this, stats: config.stats === undefined ? undefined : this, self: this.store, dashboard: this },
      this.#logger,
    );
  }

  get readers(): TelemetryReaders {
    return this.#readers;
  }

  get statsServer(): StatsServer | undefined {
    return this.#statsServer;
  }

  async collect(groups?: ReadonlySet<StoreGroup>): Promise<Snapshot> {
    return this.#merge(await this.#collector.collect({ groups, stats: false, slow: false }), groups);
  }

  #merge(parts: readonly WorkerTelemetry[], groups: ReadonlySet<StoreGroup> | undefined): Snapshot {
    this.#lastParts = parts;
    // Only the groups asked for are merged: Kong's scrape does not pay for the OTel families.
    const only = (s: Snapshot): Snapshot =>
      groups === undefined ? s : { at: s.at, families: s.families.filter((f) => groups.has(f.group)) };
    return mergeSnapshots(
      [only(this.#retired), ...parts.map((p) => only(p.store)), this.store.snapshot(groups)],
      Date.now(),
    );
  }

  async readDashboard(): Promise<{ snapshot: Snapshot; slow: SlowRequest[] }> {
    const parts = await this.#collector.collect({ groups: DASHBOARD_GROUPS, stats: false, slow: true });
    return { snapshot: this.#merge(parts, DASHBOARD_GROUPS), slow: mergeSlow(parts.map((p) => p.slow)) };
  }

  /** A worker is gone: its counters and histograms stay in every later sum. */
  retire(last: WorkerTelemetry): void {
    this.#retired = mergeSnapshots([this.#retired, cumulativeOnly(last.store)], Date.now());
    const stats = last.stats?.latest ?? last.stats?.live;
    if (stats !== undefined)
      this.#retiredStats = mergeRawStats(
        this.#retiredStats === undefined ? [countersOnly(stats)] : [this.#retiredStats, countersOnly(stats)],
        Math.max(this.#retiredStats?.at ?? 0, stats.at),
      );
  }

  /**
   * expvar's keys as one KrakenD process has them (`cmdline`, `memstats` summed over the workers, the
   * krakend.* keys), plus how many workers answered under a key of Tollgate's own.
   */
  async live(): Promise<{ stats: StatsSnapshot; extra: Record<string, unknown> }> {
    const parts = await this.#collector.collect(STATS);
    const live = parts.flatMap((p) => (p.stats === undefined ? [] : [p.stats.live]));
    const raw = mergeRawStats(this.#retiredStats === undefined ? live : [this.#retiredStats, ...live], Date.now());
    const stats = statsFromRaw(raw);
    return { stats, extra: { ...expvarExtra(stats), [WORKERS_KEY]: parts.length } };
  }

  /**
   * The sum of the workers' last collection ticks, stamped with the newest tick's time: it is the time
   * the snapshot was taken, as krakend-influx stamps its points (krakend-influx influxdb.go:102), so
   * pushing one snapshot again overwrites its points instead of adding new ones. Workers tick on one
   * grid (ExtendedMetrics.start), so their ticks share that time.
   */
  async latest(): Promise<StatsSnapshot | undefined> {
    const parts = await this.#collector.collect(STATS);
    const latest = parts.flatMap((p) => (p.stats?.latest === undefined ? [] : [p.stats.latest]));
    const retired = this.#retiredStats;
    if (latest.length === 0 && retired === undefined) return undefined;
    const at = latest.length === 0 ? (retired as RawStats).at : Math.max(...latest.map((l) => l.at));
    return statsFromRaw(mergeRawStats(retired === undefined ? latest : [retired, ...latest], at));
  }

  /** How many workers answered the last collection. */
  get lastWorkers(): number {
    return this.#lastParts.length;
  }

  async start(): Promise<void> {
    await this.#readers.start();
    const stats = this.#config.stats;
    if (stats !== undefined && !stats.endpointDisabled) {
      this.#statsServer = new StatsServer(stats, this, this.#logger);
      await this.#statsServer.start();
    }
  }

  /**
   * A reloaded config: the readers are rebuilt when their settings changed (new ports, exporters);
   * counts carry on either way, since they live in the workers and the retired totals.
   */
  async replaceConfig(config: GatewayConfig, deadlineMs: number): Promise<void> {
    const before = this.#config;
    this.#config = config;
    if (telemetryKey(before) === telemetryKey(config)) return;
    await this.close(deadlineMs);
    this.#readers = this.#makeReaders(config);
    await this.start();
  }

  async close(deadlineMs: number): Promise<void> {
    await Promise.all([this.#readers.close(deadlineMs), this.#statsServer?.close()]);
    this.#statsServer = undefined;
  }
}

function telemetryKey(c: GatewayConfig): string {
  const replacer = (_k: string, v: unknown): unknown =>
    v instanceof Set ? [...(v as Set<unknown>)] : v instanceof Map ? [...(v as Map<unknown, unknown>)] : v;
  return JSON.stringify({ otel: c.otel, kong: c.kong, stats: c.stats, influx: c.influx }, replacer);
}
