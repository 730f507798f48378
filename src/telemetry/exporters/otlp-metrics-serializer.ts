/**
 * Serializes an OTLP ExportMetricsServiceRequest (opentelemetry/proto/metrics/v1/metrics.proto)
 * including histogram exemplars, which the official JS serializer does not write. Field numbers are
 * those of the .proto; the response side stays the official deserializer. Plugged into the official
 * exporters' delegates (gRPC and HTTP), so transport, retries and TLS are theirs.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import {
  ProtobufMetricsSerializer,
  type IExportMetricsServiceResponse,
  type ISerializer,
} from '@opentelemetry/otlp-transformer';
import {
  AggregationTemporality,
  DataPointType,
  type DataPoint,
  type Histogram,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { Exemplar } from '../store/cells.js';
import { ProtobufWriter } from '../tracing/protobuf-writer.js';
import { writeAttribute } from '../tracing/otlp-attributes.js';

/** A histogram data point may carry the store's exemplars (one per bucket at most). */
export type DataPointWithExemplars = DataPoint<Histogram> & { readonly exemplars?: readonly (Exemplar | undefined)[] };

function time(w: ProtobufWriter, field: number, t: HrTime): void {
  w.tag(field, 1);
  w.fixed64Hr(t[0], t[1]);
}

function attributes(w: ProtobufWriter, field: number, attrs: Attributes): void {
  for (const [key, value] of Object.entries(attrs)) if (value !== undefined) writeAttribute(w, field, key, value);
}

function double(w: ProtobufWriter, field: number, v: number): void {
  w.tag(field, 1);
  w.double(v);
}

function temporality(w: ProtobufWriter, t: AggregationTemporality): void {
  w.tag(2, 0);
  w.varint(t === AggregationTemporality.DELTA ? 1 : 2);
}

function numberPoint(w: ProtobufWriter, dp: DataPoint<number>): void {
  time(w, 2, dp.startTime);
  time(w, 3, dp.endTime);
  double(w, 4, dp.value);
  attributes(w, 7, dp.attributes);
}

function histogramPoint(w: ProtobufWriter, dp: DataPointWithExemplars): void {
  const h = dp.value;
  time(w, 2, dp.startTime);
  time(w, 3, dp.endTime);
  w.tag(4, 1);
  w.fixed64Int(h.count);
  if (h.sum !== undefined) double(w, 5, h.sum);
  const counts = w.open(6);
  for (const c of h.buckets.counts) w.fixed64Int(Math.round(c));
  w.close(counts);
  const bounds = w.open(7);
  for (const b of h.buckets.boundaries) w.double(b);
  w.close(bounds);
  for (const e of dp.exemplars ?? []) {
    if (e === undefined) continue;
    const x = w.open(8);
    w.tag(2, 1);
    w.fixed64Nanos(Math.round(e.timestampMs));
    double(w, 3, e.value);
    w.hex(4, e.spanId);
    w.hex(5, e.traceId);
    w.close(x);
  }
  attributes(w, 9, dp.attributes);
  if (h.min !== undefined) double(w, 11, h.min);
  if (h.max !== undefined) double(w, 12, h.max);
}

function points<T>(w: ProtobufWriter, list: readonly T[], write: (w: ProtobufWriter, dp: T) => void): void {
  for (const dp of list) {
    const p = w.open(1);
    write(w, dp);
    w.close(p);
  }
}

function metric(w: ProtobufWriter, m: MetricData): void {
  w.string(1, m.descriptor.name);
  w.string(2, m.descriptor.description);
  w.string(3, m.descriptor.unit);
  switch (m.dataPointType) {
    case DataPointType.GAUGE: {
      const g = w.open(5);
      points(w, m.dataPoints, numberPoint);
      w.close(g);
      break;
    }
    case DataPointType.SUM: {
      const sum = w.open(7);
      points(w, m.dataPoints, numberPoint);
      temporality(w, m.aggregationTemporality);
      w.tag(3, 0);
      w.varint(m.isMonotonic ? 1 : 0);
      w.close(sum);
      break;
    }
    case DataPointType.HISTOGRAM: {
      const hist = w.open(9);
      points(w, m.dataPoints as readonly DataPointWithExemplars[], histogramPoint);
      temporality(w, m.aggregationTemporality);
      w.close(hist);
      break;
    }
    default:
      break;
  }
}

function serializeMetricsRequest(rm: ResourceMetrics): Uint8Array {
  const w = new ProtobufWriter(16 * 1024);
  const r = w.open(1);
  const res = w.open(1);
  attributes(w, 1, rm.resource.attributes);
  w.close(res);
  for (const sm of rm.scopeMetrics) {
    const s = w.open(2);
    const scope = w.open(1);
    w.string(1, sm.scope.name);
    if (sm.scope.version !== undefined) w.string(2, sm.scope.version);
    w.close(scope);
    for (const m of sm.metrics) {
      const x = w.open(2);
      metric(w, m);
      w.close(x);
    }
    w.close(s);
  }
  w.close(r);
  return w.take();
}

export const ExemplarMetricsSerializer: ISerializer<ResourceMetrics, IExportMetricsServiceResponse> = {
  serializeRequest: (rm) => serializeMetricsRequest(rm),
  deserializeResponse: (data) => ProtobufMetricsSerializer.deserializeResponse(data),
};
