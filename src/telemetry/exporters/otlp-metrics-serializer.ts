/**
 * Serializes an OTLP ExportMetricsServiceRequest (opentelemetry/proto/metrics/v1/metrics.proto)
 * including histogram exemplars, which the official JS serializer does not write. Field numbers are
 * those of the .proto; the response side stays the official deserializer. Plugged into the official
 * exporters' delegates (gRPC and HTTP), so transport, retries and TLS are theirs.
 */
import type { Attributes, AttributeValue, HrTime } from '@opentelemetry/api';
import { ProtobufMetricsSerializer, type IExportMetricsServiceResponse, type ISerializer } from '@opentelemetry/otlp-transformer';
import { AggregationTemporality, DataPointType, type DataPoint, type Histogram, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Exemplar } from '../store/cells.js';
import { ProtoWriter } from './protobuf-writer.js';

/** A histogram data point may carry the store's exemplars (one per bucket at most). */
export type DataPointWithExemplars = DataPoint<Histogram> & { readonly exemplars?: readonly (Exemplar | undefined)[] };

function nanos(t: HrTime): bigint {
  return BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);
}

function anyValue(w: ProtoWriter, v: AttributeValue): void {
  if (typeof v === 'string') w.string(1, v);
  else if (typeof v === 'boolean') w.bool(2, v);
  else if (typeof v === 'number') {
    if (Number.isInteger(v)) w.uint(3, BigInt(v));
    else w.double(4, v);
  } else if (Array.isArray(v)) {
    w.message(5, (arr) => {
      for (const item of v) if (item !== null && item !== undefined) arr.message(1, (x) => anyValue(x, item));
    });
  }
}

function attributes(w: ProtoWriter, field: number, attrs: Attributes): void {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined) continue;
    w.message(field, (kv) => {
      kv.string(1, key);
      kv.message(2, (av) => anyValue(av, value));
    });
  }
}

function temporality(t: AggregationTemporality): number {
  return t === AggregationTemporality.DELTA ? 1 : 2;
}

function numberPoint(w: ProtoWriter, dp: DataPoint<number>): void {
  w.fixed64(2, nanos(dp.startTime)).fixed64(3, nanos(dp.endTime)).double(4, dp.value);
  attributes(w, 7, dp.attributes);
}

function histogramPoint(w: ProtoWriter, dp: DataPointWithExemplars): void {
  const h = dp.value;
  w.fixed64(2, nanos(dp.startTime)).fixed64(3, nanos(dp.endTime)).fixed64(4, BigInt(h.count));
  if (h.sum !== undefined) w.double(5, h.sum);
  w.packedFixed64(6, h.buckets.counts).packedDouble(7, h.buckets.boundaries);
  for (const e of dp.exemplars ?? []) {
    if (e === undefined) continue;
    w.message(8, (x) => {
      x.fixed64(2, BigInt(Math.round(e.timestampMs)) * 1_000_000n).double(3, e.value);
      x.bytes(4, Buffer.from(e.spanId, 'hex')).bytes(5, Buffer.from(e.traceId, 'hex'));
    });
  }
  attributes(w, 9, dp.attributes);
  if (h.min !== undefined) w.double(11, h.min);
  if (h.max !== undefined) w.double(12, h.max);
}

function metric(w: ProtoWriter, m: MetricData): void {
  w.string(1, m.descriptor.name).string(2, m.descriptor.description).string(3, m.descriptor.unit);
  switch (m.dataPointType) {
    case DataPointType.GAUGE:
      w.message(5, (g) => m.dataPoints.forEach((dp) => g.message(1, (p) => numberPoint(p, dp))));
      break;
    case DataPointType.SUM:
      w.message(7, (s) => {
        m.dataPoints.forEach((dp) => s.message(1, (p) => numberPoint(p, dp)));
        s.uint(2, temporality(m.aggregationTemporality)).bool(3, m.isMonotonic);
      });
      break;
    case DataPointType.HISTOGRAM:
      w.message(9, (hist) => {
        m.dataPoints.forEach((dp) => hist.message(1, (p) => histogramPoint(p, dp)));
        hist.uint(2, temporality(m.aggregationTemporality));
      });
      break;
    default:
      break;
  }
}

export function serializeMetricsRequest(rm: ResourceMetrics): Uint8Array {
  const w = new ProtoWriter();
  w.message(1, (r) => {
    r.message(1, (res) => attributes(res, 1, rm.resource.attributes));
    for (const sm of rm.scopeMetrics) {
      r.message(2, (s) => {
        s.message(1, (scope) => {
          scope.string(1, sm.scope.name);
          if (sm.scope.version !== undefined) scope.string(2, sm.scope.version);
        });
        for (const m of sm.metrics) s.message(2, (x) => metric(x, m));
      });
    }
  });
  return w.finish();
}

export const ExemplarMetricsSerializer: ISerializer<ResourceMetrics, IExportMetricsServiceResponse> = {
  serializeRequest: (rm) => serializeMetricsRequest(rm),
  deserializeResponse: (data) => ProtobufMetricsSerializer.deserializeResponse(data),
};
