/**
 * OTLP metric push for one exporter: every period the store's `otel` families are read as a
 * snapshot, turned into the SDK's ResourceMetrics shape (cumulative temporality, the instrument
 * names and typed attributes krakend-otel uses) and handed to the official exporter. One push in
 * flight at a time: a slow collector makes pushes skip (counted), never pile up.
 */
import { ValueType } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  type MetricData,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { RateLimitedLog, type Logger } from '../../log/logger.js';
import type { CounterCell } from '../store/cells.js';
import type { Snapshot, SnapshotSource, StoreGroup } from '../store/store.js';
import { SCOPE } from '../tracing/span-data.js';
import { withDeadline } from '../../util/with-deadline.js';

export interface PusherStats {
  readonly exported: CounterCell;
  readonly failed: CounterCell;
  readonly skipped: CounterCell;
}

function hr(ms: number): [number, number] {
  const s = Math.floor(ms / 1000);
  return [s, Math.round((ms - s * 1000) * 1e6)];
}

/** A snapshot as OTLP metric data (pure; exported for tests). */
export function toResourceMetrics(snapshot: Snapshot, resource: Resource, startMs: number): ResourceMetrics {
  const start = hr(startMs);
  const end = hr(snapshot.at);
  const metrics: MetricData[] = [];
  for (const f of snapshot.families) {
    const descriptor = { name: f.otelName, description: f.help, unit: f.otelUnit, valueType: ValueType.DOUBLE };
    if (f.type === 'histogram') {
      metrics.push({
        descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints: f.series.flatMap((s) =>
          'counts' in s
            ? [
                {
                  startTime: start,
                  endTime: end,
                  attributes: s.attributes,
                  value: {
                    buckets: { boundaries: Array.from(f.bounds), counts: Array.from(s.counts) },
                    sum: s.sum,
                    count: s.count,
                  },
                  exemplars: s.exemplars,
                },
              ]
            : [],
        ),
      });
    } else {
      const dataPoints = f.series.flatMap((s) =>
        'value' in s ? [{ startTime: start, endTime: end, attributes: s.attributes, value: s.value }] : [],
      );
      metrics.push(
        f.type === 'counter'
          ? {
              descriptor,
              aggregationTemporality: AggregationTemporality.CUMULATIVE,
              dataPointType: DataPointType.SUM,
              isMonotonic: true,
              dataPoints,
            }
          : {
              descriptor,
              aggregationTemporality: AggregationTemporality.CUMULATIVE,
              dataPointType: DataPointType.GAUGE,
              dataPoints,
            },
      );
    }
  }
  return { resource, scopeMetrics: [{ scope: SCOPE, metrics }] };
}

export class OtlpMetricPusher {
  readonly #exporter: PushMetricExporter;
  readonly #store: SnapshotSource;
  readonly #groups: ReadonlySet<StoreGroup>;
  readonly #resource: Resource;
  readonly #periodMs: number;
  readonly #stats: PusherStats;
  readonly #startMs = Date.now();
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  readonly #logger: Logger;
  readonly #errors = new RateLimitedLog();

  constructor(
    exporter: PushMetricExporter,
    store: SnapshotSource,
    groups: ReadonlySet<StoreGroup>,
    resource: Resource,
    periodMs: number,
    stats: PusherStats,
    logger: Logger,
  ) {
    this.#exporter = exporter;
    this.#store = store;
    this.#groups = groups;
    this.#resource = resource;
    this.#periodMs = periodMs;
    this.#stats = stats;
    this.#logger = logger;
  }

  start(): void {
    this.#timer = setInterval(() => {
      this.push().catch(() => undefined);
    }, this.#periodMs);
    this.#timer.unref();
  }

  /**
   * One push now (skipped, and counted, while the previous one is still in flight). Never rejects: a
   * read or an export that fails is counted as failed and logged (rate limited), and the next period
   * pushes again.
   */
  push(): Promise<void> {
    if (this.#inFlight !== undefined) {
      this.#stats.skipped.add(1);
      return this.#inFlight;
    }
    this.#inFlight = this.#pushOnce().finally(() => (this.#inFlight = undefined));
    return this.#inFlight;
  }

  async #pushOnce(): Promise<void> {
    let ok = false;
    try {
      const snapshot = await this.#store.collect(this.#groups);
      ok = await this.#send(toResourceMetrics(snapshot, this.#resource, this.#startMs));
    } catch (err) {
      this.#errors.maybe('push', (suppressed) => this.#logger.warn({ err, suppressed }, 'OTLP metric push failed'));
    }
    (ok ? this.#stats.exported : this.#stats.failed).add(1);
  }

  /** Whether the exporter reports success; one that throws is a failure. */
  #send(data: ResourceMetrics): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      try {
        this.#exporter.export(data, (r) => resolve(r.code === ExportResultCode.SUCCESS));
      } catch {
        resolve(false);
      }
    });
  }

  /** A last push with the final counts (within `deadlineMs`), then the exporter is shut down. */
  async close(deadlineMs: number): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    // One deadline for all three steps: a collector that never answers must not get it three times.
    const until = Date.now() + deadlineMs;
    await withDeadline(this.#inFlight ?? Promise.resolve(), until);
    await withDeadline(this.push(), until);
    await withDeadline(
      this.#exporter.shutdown().catch(() => undefined),
      until,
    );
  }
}
