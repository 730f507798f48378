/**
 * Telemetry of one gateway: the metric store, the views that turn request records into metrics, and
 * the exporters that read the store. Built from the frozen config; listeners and timers start in
 * `start()` and stop in `close()`. A failing view never reaches request handling: it is caught and
 * logged (rate limited).
 */
import type { Target } from '../backends/balancer.js';
import type { GatewayConfig } from '../config/types.js';
import { RateLimitedLog, type Logger } from '../log/logger.js';
import { PrometheusExporterServer } from './exporters/prometheus-server.js';
import { SCOPE_LABELS } from './otel/families.js';
import { KrakendOtelView } from './otel/krakend-view.js';
import type { OtelSettings } from './otel/settings.js';
import type { RecordSink, RequestRecord } from './record.js';
import { NodeRuntimeMetrics } from './runtime/nodejs-metrics.js';
import { registerProcessMetrics } from './runtime/process-metrics.js';
import { MetricStore, type StoreGroup } from './store/store.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { createMetricExporter, createSpanExporter } from './exporters/otlp-exporters.js';
import { OtlpMetricPusher } from './exporters/otlp-metrics.js';
import { batcherOptionsFromEnv, SpanBatcher } from './tracing/span-batcher.js';
import { RequestTracer } from './tracing/request-tracer.js';
import type { BackendRecord } from './record.js';
import { ExtendedMetrics } from './stats/extended-metrics.js';
import { InfluxPusher } from './influx/influx-pusher.js';
import { ConnectionStats } from './kong/connections.js';
import { KongView } from './kong/kong-view.js';
import { KongStatusServer } from './kong/status-server.js';
import type { Server } from 'node:http';
import type { HealthChecker } from '../backends/health.js';
import { PassiveHealthView } from './passive-health.js';

/** Propagates a request's trace context into one backend request's headers. */
export type Injector = (rec: RequestRecord, br: BackendRecord, headers: Record<string, string | string[]>) => void;

export interface TelemetryOptions {
  readonly logger: Logger;
  readonly version: string;
  /** Health checkers per endpoint and backend (passive observations, Kong's target health). */
  readonly health?: readonly (readonly (HealthChecker | undefined)[])[];
}

export class Telemetry {
  readonly store = new MetricStore();
  readonly #sinks: RecordSink[] = [];
  readonly #exporters: PrometheusExporterServer[] = [];
  readonly #logger: Logger;
  readonly #errors = new RateLimitedLog();
  #runtime: NodeRuntimeMetrics | undefined;
  #tracer: RequestTracer | undefined;
  readonly #batchers: SpanBatcher[] = [];
  readonly #pushers: OtlpMetricPusher[] = [];
  /** `telemetry/metrics` (/__stats), when configured. */
  readonly stats: ExtendedMetrics | undefined;
  #influx: InfluxPusher | undefined;
  /** Data-listener connection accounting (Kong's nginx connection families). */
  readonly connections = new ConnectionStats();
  #kongStatus: KongStatusServer | undefined;

  constructor(config: GatewayConfig, targets: readonly (readonly (readonly Target[])[])[], options: TelemetryOptions) {
    this.#logger = options.logger;
    if (config.otel !== undefined) this.#setUpOtel(config, config.otel, targets);
    if (options.health?.some((list) => list.some((h) => h !== undefined)) === true) this.#sinks.push(new PassiveHealthView(options.health));
    if (config.kong !== undefined) {
      this.#sinks.push(new KongView(this.store, config.kong, config, targets, this.connections, options.version, options.health ?? []));
      this.#kongStatus = new KongStatusServer(config.kong, this.store, this.#logger);
    }
    if (config.stats !== undefined) {
      this.stats = new ExtendedMetrics(config.stats, config, this.#logger);
      this.#sinks.push(this.stats.view);
      if (config.influx !== undefined) {
        const batches = this.store.counter('self', { name: 'tollgate_telemetry_influx_batches', help: 'InfluxDB write batches, by outcome (written, failed, dropped from the full buffer).' });
        const stats = { written: batches.bind([['outcome', 'written']]), failed: batches.bind([['outcome', 'failed']]), dropped: batches.bind([['outcome', 'dropped']]) };
        this.#influx = new InfluxPusher(config.influx, this.stats, this.#logger, stats);
      }
    }
  }

  /** The Kong status listener, when `telemetry/kong-prometheus` is configured. */
  get kongStatus(): KongStatusServer | undefined {
    return this.#kongStatus;
  }

  /** Counts the data listener's connections (and in-flight requests through `inFlight`). */
  attach(server: Server, inFlight: () => number): void {
    this.connections.attach(server);
    this.connections.inFlightSource = inFlight;
  }

  /** The InfluxDB pusher, when configured (tests push on demand). */
  get influx(): InfluxPusher | undefined {
    return this.#influx;
  }

  #setUpOtel(config: GatewayConfig, otel: OtelSettings, targets: readonly (readonly (readonly Target[])[])[]): void {
    this.#sinks.push(new KrakendOtelView(this.store, otel, config, targets));
    const resource: [string, string][] = [
      ['service_name', otel.serviceName],
      ['service_version', otel.serviceVersion],
    ];
    if (otel.deployEnv !== '') resource.push(['deployment_environment', otel.deployEnv]);
    // Resource and scope as the Prometheus exporter shows them; OTLP carries them natively instead.
    this.store.gauge('otel-info', { name: 'target_info', help: 'Target metadata' }).bind(resource).set(1);
    this.store.gauge('otel-info', { name: 'otel_scope_info', help: 'Instrumentation Scope metadata' }).bind(SCOPE_LABELS).set(1);
    this.#setUpOtlp(config, otel);
    const active = otel.prometheus.filter((p) => !p.disableMetrics);
    if (active.some((p) => p.processMetrics)) registerProcessMetrics(this.store);
    if (active.some((p) => p.goMetrics)) this.#runtime = new NodeRuntimeMetrics(this.store);
    for (const p of active) {
      const groups = new Set<StoreGroup>(['otel', 'otel-info', 'self']);
      if (p.processMetrics) groups.add('process');
      if (p.goMetrics) groups.add('nodejs');
      this.#exporters.push(new PrometheusExporterServer({ name: p.name, port: p.port, listenIp: p.listenIp, groups }, this.store, this.#logger));
    }
  }

  #setUpOtlp(config: GatewayConfig, otel: OtelSettings): void {
    if (otel.otlp.length === 0) return;
    const attributes: Record<string, string> = { 'service.name': otel.serviceName, 'service.version': otel.serviceVersion };
    if (otel.deployEnv !== '') attributes['deployment.environment'] = otel.deployEnv;
    const resource: Resource = resourceFromAttributes(attributes);
    const spans = this.store.counter('self', { name: 'tollgate_telemetry_spans', help: 'Spans handled by each OTLP exporter, by outcome (exported, dropped when the queue is full, failed).' });
    const pushes = this.store.counter('self', { name: 'tollgate_telemetry_metric_pushes', help: 'OTLP metric pushes of each exporter, by outcome (exported, failed, skipped while one was in flight).' });
    const batcherOptions = batcherOptionsFromEnv(process.env, (message) => this.#logger.warn(message));
    for (const e of otel.otlp) {
      if (!e.disableTraces) {
        const stats = { exported: spans.bind([['exporter', e.name], ['outcome', 'exported']]), dropped: spans.bind([['exporter', e.name], ['outcome', 'dropped']]), failed: spans.bind([['exporter', e.name], ['outcome', 'failed']]) };
        this.#batchers.push(new SpanBatcher(createSpanExporter(e, attributes), stats, batcherOptions));
      }
      if (!e.disableMetrics) {
        const stats = { exported: pushes.bind([['exporter', e.name], ['outcome', 'exported']]), failed: pushes.bind([['exporter', e.name], ['outcome', 'failed']]), skipped: pushes.bind([['exporter', e.name], ['outcome', 'skipped']]) };
        const periodS = e.reportingPeriodS > 0 ? e.reportingPeriodS : otel.metricReportingPeriodS;
        this.#pushers.push(new OtlpMetricPusher(createMetricExporter(e), this.store, new Set(['otel']), resource, periodS * 1000, stats));
      }
    }
    if (this.#batchers.length > 0) {
      const batchers = this.#batchers;
      this.#tracer = new RequestTracer(otel, config, (spans: Buffer, count: number) => {
        for (const b of batchers) b.add(spans, count);
      });
    }
  }

  /** At the start of a request (before routing): trace sampling and ids, when tracing is on. */
  begin(rec: RequestRecord, req: IncomingMessage, res: ServerResponse): void {
    this.connections.requests++;
    if (this.#tracer !== undefined) this.#tracer.begin(rec, req, res);
  }

  /** The propagation hook of one backend, or undefined when nothing is traced. */
  injector(endpoint: number, backend: number): Injector | undefined {
    const tracer = this.#tracer;
    if (tracer === undefined) return undefined;
    return (rec, br, headers) => tracer.inject(rec, endpoint, backend, br, headers);
  }

  get exporters(): readonly PrometheusExporterServer[] {
    return this.#exporters;
  }

  /** Called once per finished request (from the response's `close` event). */
  record(rec: RequestRecord): void {
    // Spans first: they name the span ids the metric exemplars point to.
    if (this.#tracer !== undefined) {
      try {
        this.#tracer.record(rec);
      } catch (err) {
        this.#errors.maybe('tracer', (suppressed) => this.#logger.error({ err, suppressed }, 'tracing failed'));
      }
    }
    for (const sink of this.#sinks) {
      try {
        sink.record(rec);
      } catch (err) {
        this.#errors.maybe(sink.constructor.name, (suppressed) => this.#logger.error({ err, suppressed }, 'telemetry view failed'));
      }
    }
  }

  async start(): Promise<void> {
    this.#runtime?.start();
    for (const b of this.#batchers) b.start();
    for (const p of this.#pushers) p.start();
    this.#influx?.start();
    try {
      for (const e of this.#exporters) await e.start();
      await this.stats?.start();
      await this.#kongStatus?.start();
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /** Stops the listeners and flushes what the push exporters hold, within `deadlineMs`. */
  async close(deadlineMs = 5_000): Promise<void> {
    this.#runtime?.close();
    await Promise.all([
      ...this.#exporters.map((e) => e.close()),
      this.#influx?.close(deadlineMs),
      ...this.#batchers.map((b) => b.close(deadlineMs)),
      ...this.#pushers.map((p) => p.close(deadlineMs)),
    ]);
    await this.stats?.close();
    await this.#kongStatus?.close();
  }
}
