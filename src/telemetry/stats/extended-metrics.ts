/**
 * KrakenD's `telemetry/metrics` component: the registry, its view of requests, the runtime keys and
 * the collection tick (router window counters rolled into totals and gauges, a snapshot kept for the
 * Influx push, histograms cleared). It is the stats source of its `/__stats` listener and Influx
 * pusher; in a cluster worker it only records, and the primary serves the sum of the workers.
 */
import type { AddressInfo } from 'node:net';
import type { CompiledRoute } from '../../backends/backend-route.js';
import type { GatewayConfig } from '../../config/types.js';
import type { Logger } from '../../log/logger.js';
import { memstatsOf, RuntimeStats } from './runtime-stats.js';
import {
  StatsRegistry,
  statsFromRaw,
  type RawStats,
  type StatCounter,
  type StatGauge,
  type StatsSnapshot,
} from './stats-registry.js';
import { StatsServer, type StatsSource } from './stats-server.js';
import type { StatsSettings } from '../../config/namespaces/metrics.js';
import { StatsView } from './stats-view.js';
import { ReadHooks } from '../read-hooks.js';

/**
 * The two variables Go's expvar package publishes in every process, next to the krakend.* keys:
 * `cmdline` (os.Args) and `memstats` (runtime.MemStats), read from the same snapshot as those keys.
 */
export function expvarExtra(stats: StatsSnapshot): Record<string, unknown> {
  return { cmdline: process.argv, memstats: memstatsOf(stats.gauges) };
}

export class ExtendedMetrics implements StatsSource {
  readonly registry = new StatsRegistry();
  readonly view: StatsView;
  readonly settings: StatsSettings;
  readonly #runtime: RuntimeStats;
  readonly #logger: Logger;
  readonly #totals: { total: StatCounter; gauge: StatGauge; window: StatCounter }[];
  #timer: NodeJS.Timeout | undefined;
  /** Run before every read of the registry: the views' queue of finished requests (telemetry/view-deferral.ts). */
  readonly #beforeRead = new ReadHooks();
  #server: StatsServer | undefined;
  /** The last collection tick, as pushed to Influx and (raw) sent to a cluster primary. */
  latestSnapshot: StatsSnapshot | undefined;
  latestRaw: RawStats | undefined;

  constructor(settings: StatsSettings, config: GatewayConfig, routes: readonly CompiledRoute[], logger: Logger) {
    this.settings = settings;
    this.#logger = logger;
    this.view = new StatsView(this.registry, settings, config, routes);
    this.#runtime = new RuntimeStats(this.registry);
    this.#totals = (['connected', 'disconnected'] as const).map((d) => ({
      window: d === 'connected' ? this.view.connected : this.view.disconnected,
      total: this.registry.counter(`krakend.router.${d}-total`),
      gauge: this.registry.gauge(`krakend.router.${d}-gauge`),
    }));
  }

  /**
   * One collection window ends, as in krakend-metrics every `collection_time`
   * (https://github.com/krakend/krakend-metrics/blob/HEAD/metrics.go).
   */
  tick(now = Date.now()): StatsSnapshot {
    this.#beforeRead.run();
    for (const t of this.#totals) {
      t.gauge.value = t.window.value;
      t.total.value += t.window.value;
      t.window.value = 0;
    }
    this.#runtime.collect();
    this.latestRaw = this.registry.raw(now);
    this.latestSnapshot = statsFromRaw(this.latestRaw);
    this.registry.clearHistograms();
    return this.latestSnapshot;
  }

  live(): Promise<{ stats: StatsSnapshot; extra: Record<string, unknown> }> {
    this.#beforeRead.run();
    this.#runtime.collect();
    const stats = this.registry.snapshot();
    return Promise.resolve({ stats, extra: expvarExtra(stats) });
  }

  /** Live values in raw form, for a cluster primary. */
  liveRaw(): RawStats {
    this.#beforeRead.run();
    this.#runtime.collect();
    return this.registry.raw();
  }

  /**
   * `fn` runs before every read of the registry (ticks, `/__stats`, a cluster primary's request), after
   * those added before it (read-hooks.ts, as for the metric store).
   */
  beforeRead(fn: () => void): void {
    this.#beforeRead.add(fn);
  }

  endWindow(): Promise<void> {
    this.tick();
    return Promise.resolve();
  }

  latest(): Promise<StatsSnapshot | undefined> {
    return Promise.resolve(this.latestSnapshot);
  }

  /**
   * Starts the collection tick and, unless disabled or `recordOnly` (a cluster worker), the `/__stats`
   * listener. A single process ticks every `collection_time` from now, as krakend-metrics' ticker
   * (metrics.go:158); a cluster worker ticks on the multiples of `collection_time` since the Unix
   * epoch, so every worker closes the same window at the same instant and the primary's sum is one
   * snapshot with one time (what Influx stamps), whenever each worker started.
   */
  async start(recordOnly = false): Promise<AddressInfo | undefined> {
    this.#runtime.start();
    if (recordOnly) this.#tickOnGrid();
    else {
      this.#timer = setInterval(() => this.tick(), this.settings.collectionMs);
      this.#timer.unref();
    }
    if (this.settings.endpointDisabled || recordOnly) return undefined;
    this.#server = new StatsServer(this.settings, this, this.#logger);
    return this.#server.start();
  }

  /**
   * One tick at the next multiple of the period after `previous` (and after now), stamped with that
   * instant, then the next. Counting from the previous tick, not from the clock: a timer may fire a
   * millisecond early, and the clock would then name the same instant again (a second, empty window
   * under the same time).
   */
  #tickOnGrid(previous = 0): void {
    const period = this.settings.collectionMs;
    const next = Math.max(previous + period, (Math.floor(Date.now() / period) + 1) * period);
    this.#timer = setTimeout(
      () => {
        this.tick(next);
        this.#tickOnGrid(next);
      },
      Math.max(0, next - Date.now()),
    );
    this.#timer.unref();
  }

  get address(): AddressInfo | undefined {
    return this.#server?.address;
  }

  async close(): Promise<void> {
    // clearTimeout and clearInterval clear either kind of timer.
    clearTimeout(this.#timer);
    this.#runtime.close();
    const server = this.#server;
    this.#server = undefined;
    await server?.close();
  }
}
