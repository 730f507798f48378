/**
 * Everything that reads metrics out of the gateway: the Prometheus pull exporters, the OTLP metric
 * pushers, Kong's status listener and the Influx push. They read a snapshot source — one process's
 * store, or (in a cluster primary) the sum over the workers — so one set of readers serves both.
 */
import { resourceFromAttributes } from '@opentelemetry/resources';
import { timerMs } from '../config/duration.js';
import type { GatewayConfig } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import { createMetricExporter } from './exporters/otlp-exporters.js';
import { OtlpMetricPusher } from './exporters/otlp-metrics.js';
import { PrometheusExporterServer } from './exporters/prometheus-server.js';
import { InfluxPusher } from './influx/influx-pusher.js';
import { KongStatusServer } from './kong/status-server.js';
import { DashboardServer, type DashboardSource } from './dashboard/dashboard-server.js';
import { otlpResourceAttributes, type OtelSettings } from '../config/namespaces/opentelemetry.js';
import type { StatsSource } from './stats/stats-server.js';
import type { MetricStore, SnapshotSource, StoreGroup } from './store/store.js';

export interface ReaderSources {
  /** What the readers render. */
  readonly metrics: SnapshotSource;
  /** `telemetry/metrics` values, for the Influx push. */
  readonly stats: StatsSource | undefined;
  /** Where the readers count their own outcomes (pushes, Influx batches). */
  readonly self: MetricStore;
  /** The live dashboard's data, when `telemetry/dashboard` is configured. */
  readonly dashboard?: DashboardSource | undefined;
}

/** The store groups a Prometheus exporter of `telemetry/opentelemetry` serves. */
function prometheusGroups(p: OtelSettings['prometheus'][number]): Set<StoreGroup> {
  const groups = new Set<StoreGroup>(['otel', 'otel-info', 'self']);
  if (p.processMetrics) groups.add('process');
  if (p.goMetrics) groups.add('nodejs');
  return groups;
}

export class TelemetryReaders {
  readonly exporters: PrometheusExporterServer[] = [];
  readonly pushers: OtlpMetricPusher[] = [];
  readonly kongStatus: KongStatusServer | undefined;
  readonly influx: InfluxPusher | undefined;
  readonly dashboard: DashboardServer | undefined;

  constructor(config: GatewayConfig, sources: ReaderSources, logger: Logger) {
    const otel = config.otel;
    if (otel !== undefined) {
      for (const p of otel.prometheus.filter((e) => !e.disableMetrics)) {
        this.exporters.push(
          new PrometheusExporterServer(
            { name: p.name, port: p.port, listenIp: p.listenIp, groups: prometheusGroups(p) },
            sources.metrics,
            logger,
          ),
        );
      }
      const withMetrics = otel.otlp.filter((e) => !e.disableMetrics);
      if (withMetrics.length > 0) {
        const attributes = otlpResourceAttributes(otel);
        const resource = resourceFromAttributes(attributes);
        const pushes = sources.self.counter('self', {
          name: 'tollgate_telemetry_metric_pushes',
          help: 'OTLP metric pushes of each exporter, by outcome (exported, failed, skipped while one was in flight).',
        });
        for (const e of withMetrics) {
          const stats = pushes.bindEach([['exporter', e.name]], 'outcome', ['exported', 'failed', 'skipped']);
          const periodS = e.reportingPeriodS > 0 ? e.reportingPeriodS : otel.metricReportingPeriodS;
          this.pushers.push(
            new OtlpMetricPusher(
              createMetricExporter(e),
              sources.metrics,
              new Set(['otel']),
              resource,
              timerMs(periodS * 1000),
              stats,
              logger,
            ),
          );
        }
      }
    }
    if (config.kong !== undefined) this.kongStatus = new KongStatusServer(config.kong, sources.metrics, logger);
    if (config.dashboard !== undefined && sources.dashboard !== undefined)
      this.dashboard = new DashboardServer(config.dashboard, sources.dashboard, logger);
    if (config.influx !== undefined && sources.stats !== undefined) {
      const batches = sources.self.counter('self', {
        name: 'tollgate_telemetry_influx_batches',
        help: 'InfluxDB write batches, by outcome (written, failed, dropped from the full buffer).',
      });
      const stats = {
        written: batches.bind([['outcome', 'written']]),
        failed: batches.bind([['outcome', 'failed']]),
        dropped: batches.bind([['outcome', 'dropped']]),
      };
      this.influx = new InfluxPusher(config.influx, sources.stats, logger, stats);
    }
  }

  async start(): Promise<void> {
    for (const p of this.pushers) p.start();
    this.influx?.start();
    for (const e of this.exporters) await e.start();
    await this.kongStatus?.start();
    await this.dashboard?.start();
  }

  /** Stops the listeners; the pushers send their last values within `deadlineMs`. */
  async close(deadlineMs: number): Promise<void> {
    await Promise.all([
      ...this.exporters.map((e) => e.close()),
      this.influx?.close(deadlineMs),
      ...this.pushers.map((p) => p.close(deadlineMs)),
      this.kongStatus?.close(),
      this.dashboard?.close(),
    ]);
  }
}
