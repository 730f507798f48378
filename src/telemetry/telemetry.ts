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

export interface TelemetryOptions {
  readonly logger: Logger;
  readonly version: string;
}

export class Telemetry {
  readonly store = new MetricStore();
  readonly #sinks: RecordSink[] = [];
  readonly #exporters: PrometheusExporterServer[] = [];
  readonly #logger: Logger;
  readonly #errors = new RateLimitedLog();
  #runtime: NodeRuntimeMetrics | undefined;

  constructor(config: GatewayConfig, targets: readonly (readonly (readonly Target[])[])[], options: TelemetryOptions) {
    this.#logger = options.logger;
    if (config.otel !== undefined) this.#setUpOtel(config, config.otel, targets);
  }

  #setUpOtel(config: GatewayConfig, otel: OtelSettings, targets: readonly (readonly (readonly Target[])[])[]): void {
    this.#sinks.push(new KrakendOtelView(this.store, otel, config, targets));
    const resource: [string, string][] = [
      ['service_name', otel.serviceName],
      ['service_version', otel.serviceVersion],
    ];
    if (otel.deployEnv !== '') resource.push(['deployment_environment', otel.deployEnv]);
    this.store.gauge('otel', { name: 'target_info', help: 'Target metadata' }).bind(resource).set(1);
    this.store.gauge('otel', { name: 'otel_scope_info', help: 'Instrumentation Scope metadata' }).bind(SCOPE_LABELS).set(1);
    const active = otel.prometheus.filter((p) => !p.disableMetrics);
    if (active.some((p) => p.processMetrics)) registerProcessMetrics(this.store);
    if (active.some((p) => p.goMetrics)) this.#runtime = new NodeRuntimeMetrics(this.store);
    for (const p of active) {
      const groups = new Set<StoreGroup>(['otel', 'self']);
      if (p.processMetrics) groups.add('process');
      if (p.goMetrics) groups.add('nodejs');
      this.#exporters.push(new PrometheusExporterServer({ name: p.name, port: p.port, listenIp: p.listenIp, groups }, this.store, this.#logger));
    }
  }

  get exporters(): readonly PrometheusExporterServer[] {
    return this.#exporters;
  }

  /** Called once per finished request (from the response's `close` event). */
  record(rec: RequestRecord): void {
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
    try {
      for (const e of this.#exporters) await e.start();
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    this.#runtime?.close();
    await Promise.all(this.#exporters.map((e) => e.close()));
  }
}
