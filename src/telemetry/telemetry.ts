/**
 * Telemetry of one gateway process: the metric store, the views that turn request records into
 * metrics, span batching, and — unless the process is a cluster worker, whose metrics the primary
 * serves — the readers (exporters, pushers, status listeners) of the store. Built from the frozen
 * config; listeners and timers start in `start()` and stop in `close()`. A failing view never reaches
 * request handling: it is caught and logged (rate limited).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { CompiledRoute } from '../backends/backend-route.js';
import type { GatewayConfig } from '../config/types.js';
import { RateLimitedLog, type Logger } from '../log/logger.js';
import type { PrometheusExporterServer } from './exporters/prometheus-server.js';
import { createSpanExporter } from './exporters/otlp-exporters.js';
import type { InfluxPusher } from './influx/influx-pusher.js';
import { ConnectionStats } from './kong/connections.js';
import { KongView } from './kong/kong-view.js';
import type { KongStatusServer } from './kong/status-server.js';
import { SCOPE_LABELS } from './otel/families.js';
import { KrakendOtelView } from './otel/krakend-view.js';
import { otlpResourceAttributes, type OtelSettings } from '../config/namespaces/opentelemetry.js';
import { TelemetryReaders } from './readers.js';
import { viewQueue } from './view-deferral.js';
import type { GroupQueue } from './group-queue.js';
import { DashboardView, DASHBOARD_GROUP } from './dashboard/dashboard-view.js';
import type { SlowRequest } from './dashboard/slow-log.js';
import type { DashboardServer } from './dashboard/dashboard-server.js';
import type { RecordSink, RequestRecord } from './record.js';
import { NodeRuntimeMetrics } from './runtime/nodejs-metrics.js';
import { registerProcessMetrics } from './runtime/process-metrics.js';
import { ExtendedMetrics } from './stats/extended-metrics.js';
import type { RawStats } from './stats/stats-registry.js';
import { MetricStore, type Snapshot, type StoreGroup } from './store/store.js';
import { StoreDeltaWriter, type StoreDelta } from './cluster/store-delta.js';
import { RequestTracer } from './tracing/request-tracer.js';
import { SpanDeferral } from './tracing/span-deferral.js';
import type { TraceInjector } from './tracing/trace-injector.js';
import { SpanBatcher } from './tracing/span-batcher.js';

/** What a cluster worker sends its primary: all its metrics, and its `telemetry/metrics` values. */
export interface WorkerTelemetry {
  readonly store: Snapshot;
  readonly stats: { readonly live: RawStats; readonly latest: RawStats | undefined } | undefined;
  /** The slowest recent requests (live dashboard), empty without `telemetry/dashboard`. */
  readonly slow: readonly SlowRequest[];
}

/** What the primary asks a worker to report (the store always; the rest only when a reader needs it). */
export interface ReportRequest {
  /** The groups to report (their changed series, after running their runtime collectors); all when omitted. */
  readonly groups?: ReadonlySet<StoreGroup> | undefined;
  readonly stats: boolean;
  readonly slow: boolean;
}

/**
 * A worker's report over IPC: its store as a delta (StoreMirror in the primary makes it whole
 * again); `stats` and `slow` are undefined when not asked for (the primary keeps the previous ones),
 * `stats` is null when the worker has no `telemetry/metrics`.
 */
export interface WorkerReport {
  readonly store: StoreDelta;
  readonly stats: WorkerTelemetry['stats'] | null | undefined;
  readonly slow: WorkerTelemetry['slow'] | undefined;
}

export interface TelemetryOptions {
  readonly logger: Logger;
  readonly version: string;
  /**
   * Trace propagation, made from the config before the routes (tracing/trace-injector.ts): tracing
   * is on exactly when there is one, and the tracer reads remote parents with its propagators.
   */
  readonly injector: TraceInjector | undefined;
  /** A cluster worker records and traces, but its metrics are read by the primary, not served. */
  readonly worker?: boolean;
}

export class Telemetry {
  readonly store = new MetricStore();
  readonly #sinks: RecordSink[] = [];
  readonly #logger: Logger;
  readonly #worker: boolean;
  readonly #readers: TelemetryReaders | undefined;
  readonly #errors = new RateLimitedLog();
  /** Finished requests on their way to the sinks, a group at a time (view-deferral.ts); none without sinks. */
  readonly #views: GroupQueue<RequestRecord> | undefined;
  #runtime: NodeRuntimeMetrics | undefined;
  #tracer: RequestTracer | undefined;
  /** Sampled requests whose spans wait to be encoded with the next few (span-deferral.ts). */
  #spans: SpanDeferral | undefined;
  readonly #batchers: SpanBatcher[] = [];
  /** What the cluster primary has been sent of the store (workers only, made on the first report). */
  #delta: StoreDeltaWriter | undefined;
  /** `telemetry/metrics` (/__stats), when configured. */
  readonly stats: ExtendedMetrics | undefined;
  /** Data-listener connection accounting (Kong's nginx connection families). */
  readonly connections = new ConnectionStats();

  /** `routes` are the compiled routes (server/compile-routes.ts), in `endpoints` order: the views bind their cells from them. */
  constructor(config: GatewayConfig, routes: readonly CompiledRoute[], options: TelemetryOptions) {
    this.#logger = options.logger;
    this.#worker = options.worker === true;
    if (config.otel !== undefined) this.#setUpOtel(config, config.otel, routes, options.injector);
    if (config.kong !== undefined)
      this.#sinks.push(new KongView(this.store, config.kong, config, routes, this.connections, options.version));
    if (config.stats !== undefined) {
      this.stats = new ExtendedMetrics(config.stats, config, routes, this.#logger);
      this.#sinks.push(this.stats.view);
    }
    const dashboard = config.dashboard === undefined ? undefined : new DashboardView(this.store, config, routes);
    if (dashboard !== undefined) this.#sinks.push(dashboard);
    this.#dashboardView = dashboard;
    if (this.#sinks.length > 0) {
      const views = viewQueue(this.#sinks, (sink, err) =>
        this.#errors.maybe(sink.constructor.name, (suppressed) =>
          this.#logger.error({ err, suppressed }, 'telemetry view failed'),
        ),
      );
      this.#views = views;
      // Every reader (a scrape, a push, /__stats, a worker's report, the last push at close) starts with
      // a store or /__stats read: each one sees every request finished before it.
      const flush = (): void => views.flush();
      this.store.beforeRead(flush);
      this.stats?.beforeRead(flush);
    }
    const groups = new Set([DASHBOARD_GROUP]);
    const dashboardSource =
      dashboard === undefined
        ? undefined
        : {
            readDashboard: () =>
              Promise.resolve({ snapshot: this.store.snapshot(groups), slow: dashboard.slow.list() }),
          };
    if (!this.#worker)
      this.#readers = new TelemetryReaders(
        config,
        { metrics: this.store, stats: this.stats, self: this.store, dashboard: dashboardSource },
        this.#logger,
      );
  }

  readonly #dashboardView: DashboardView | undefined;

  /** The live dashboard listener, when `telemetry/dashboard` is configured (not in a cluster worker). */
  get dashboard(): DashboardServer | undefined {
    return this.#readers?.dashboard;
  }

  /**
   * This process's metrics for the cluster primary: the series changed since the previous report,
   * and the `telemetry/metrics` values and slow-request log when asked for.
   */
  workerReport(want: ReportRequest): WorkerReport {
    this.#delta ??= new StoreDeltaWriter(this.store);
    const stats = this.stats;
    return {
      store: this.#delta.next(Date.now(), want.groups),
      stats: !want.stats ? undefined : stats === undefined ? null : { live: stats.liveRaw(), latest: stats.latestRaw },
      slow: want.slow ? (this.#dashboardView?.slow.list() ?? []) : undefined,
    };
  }

  /** The Kong status listener, when `telemetry/kong-prometheus` is configured. */
  get kongStatus(): KongStatusServer | undefined {
    return this.#readers?.kongStatus;
  }

  /** Counts the data listener's connections (and in-flight requests through `inFlight`). */
  attach(server: Server, inFlight: () => number): void {
    this.connections.attach(server);
    this.connections.inFlightSource = inFlight;
  }

  /** The InfluxDB pusher, when configured (tests push on demand). */
  get influx(): InfluxPusher | undefined {
    return this.#readers?.influx;
  }

  #setUpOtel(
    config: GatewayConfig,
    otel: OtelSettings,
    routes: readonly CompiledRoute[],
    injector: TraceInjector | undefined,
  ): void {
    this.#sinks.push(new KrakendOtelView(this.store, otel, config, routes));
    const resource: [string, string][] = [
      ['service_name', otel.serviceName],
      ['service_version', otel.serviceVersion],
    ];
    if (otel.deployEnv !== '') resource.push(['deployment_environment', otel.deployEnv]);
    // Resource and scope as the Prometheus exporter shows them; OTLP carries them natively instead.
    this.store.gauge('otel-info', { name: 'target_info', help: 'Target metadata' }).bind(resource).set(1);
    this.store
      .gauge('otel-info', { name: 'otel_scope_info', help: 'Instrumentation Scope metadata' })
      .bind(SCOPE_LABELS)
      .set(1);
    if (injector !== undefined) this.#setUpTracing(config, otel, routes, injector);
    const active = otel.prometheus.filter((p) => !p.disableMetrics);
    if (active.some((p) => p.processMetrics)) registerProcessMetrics(this.store);
    if (active.some((p) => p.goMetrics)) this.#runtime = new NodeRuntimeMetrics(this.store);
  }

  #setUpTracing(
    config: GatewayConfig,
    otel: OtelSettings,
    routes: readonly CompiledRoute[],
    injector: TraceInjector,
  ): void {
    const traced = otel.otlp.filter((e) => !e.disableTraces);
    const attributes = otlpResourceAttributes(otel);
    const spans = this.store.counter('self', {
      name: 'tollgate_telemetry_spans',
      help: 'Spans handled by each OTLP exporter, by outcome (exported, dropped when the queue is full, failed).',
    });
    for (const e of traced) {
      const stats = spans.bindEach([['exporter', e.name]], 'outcome', ['exported', 'dropped', 'failed']);
      this.#batchers.push(new SpanBatcher(createSpanExporter(e, attributes), stats, otel.spanBatch));
    }
    const batchers = this.#batchers;
    this.#tracer = new RequestTracer(otel, config, routes, injector.propagation, (list: Buffer, count: number) => {
      for (const b of batchers) b.add(list, count);
    });
    this.#spans = new SpanDeferral(this.#tracer, (err) => this.#tracingFailed(err));
  }

  /** At the start of a request (before routing): trace sampling and ids, when tracing is on. */
  begin(rec: RequestRecord, req: IncomingMessage, res: ServerResponse): void {
    this.connections.requests++;
    if (this.#tracer !== undefined) this.#tracer.begin(rec, req, res);
  }

  get exporters(): readonly PrometheusExporterServer[] {
    return this.#readers?.exporters ?? [];
  }

  /** Called once per finished request, when its response and its proxy are both done (completion.ts). */
  record(rec: RequestRecord): void {
    // Spans first: admitting them names the span ids the metric exemplars point to.
    if (this.#spans !== undefined) {
      try {
        this.#spans.add(rec);
      } catch (err) {
        this.#tracingFailed(err);
      }
    }
    this.#views?.add(rec);
  }

  #tracingFailed(err: unknown): void {
    this.#errors.maybe('tracer', (suppressed) => this.#logger.error({ err, suppressed }, 'tracing failed'));
  }

  async start(): Promise<void> {
    this.#runtime?.start();
    for (const b of this.#batchers) b.start();
    try {
      await this.#readers?.start();
      await this.stats?.start(this.#worker);
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /** Stops the listeners and flushes what the push exporters hold, within `deadlineMs`. */
  async close(deadlineMs = 5_000): Promise<void> {
    this.#runtime?.close();
    // Spans still waiting to be encoded join the batches the batchers send last.
    this.#spans?.flush();
    await Promise.all([this.#readers?.close(deadlineMs), ...this.#batchers.map((b) => b.close(deadlineMs))]);
    await this.stats?.close();
  }
}
