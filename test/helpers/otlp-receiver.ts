/**
 * A real OTLP receiver for tests: OTLP/gRPC (via @grpc/grpc-js) and OTLP/HTTP (protobuf or JSON) on 127.0.0.1:0.
 *
 * It decodes with the official OpenTelemetry `.proto` files (github.com/open-telemetry/opentelemetry-proto, as
 * copied unchanged into the `@elastic/mockotlpserver` dev dependency, which ships them under `opentelemetry/`;
 * the OpenTelemetry JS packages no longer ship .proto files), loaded at run time with protobufjs, so what the
 * gateway sends is checked against the wire format a real collector would parse (not against the SDK's own
 * serializer, which could share a bug with it).
 *
 * Every request is recorded (transport, signal, headers/metadata, time, the decoded request as a plain object, and
 * what the receiver answered). `spans()` / `metrics()` flatten the requests that were *accepted* into one row per span
 * or data point, so retried batches after a fault are not counted twice. `setBehaviour()` injects faults at run time.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, isAbsolute, join } from 'node:path';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync, inflateSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';

// ---------------------------------------------------------------------------------------------------------------------
// Proto loading

const require = createRequire(import.meta.url);

/** Root of the `.proto` tree shipped by that package (imports are relative to it). */
export const OTLP_PROTO_DIR: string = dirname(require.resolve('@elastic/mockotlpserver/package.json'));

const SERVICE_FILES = [
  'opentelemetry/proto/collector/trace/v1/trace_service.proto',
  'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
] as const;

export type OtlpSignal = 'traces' | 'metrics';
export type OtlpTransport = 'grpc' | 'http';

export interface OtlpProtos {
  readonly root: protobuf.Root;
  readonly ExportTraceServiceRequest: protobuf.Type;
  readonly ExportTraceServiceResponse: protobuf.Type;
  readonly ExportMetricsServiceRequest: protobuf.Type;
  readonly ExportMetricsServiceResponse: protobuf.Type;
  readonly TraceService: protobuf.Service;
  readonly MetricsService: protobuf.Service;
  /** `google.rpc.Status`, the body OTLP/HTTP puts in error responses (not in the shipped protos, so defined here). */
  readonly RpcStatus: protobuf.Type;
}

let protosCache: OtlpProtos | undefined;

/** Loads (once per process) the OTLP collector protos and their imports. */
export function loadOtlpProtos(): OtlpProtos {
  if (protosCache) return protosCache;
  const root = new protobuf.Root();
  // The protos import each other as "opentelemetry/proto/...", relative to the tree root, not to the importing file.
  root.resolvePath = (_origin, target) => (isAbsolute(target) ? target : join(OTLP_PROTO_DIR, target));
  root.loadSync([...SERVICE_FILES]);
  // google.rpc.Status { int32 code = 1; string message = 2; } — `details` (repeated Any) is omitted: we never send any.
  root
    .define('google.rpc')
    .add(
      new protobuf.Type('Status')
        .add(new protobuf.Field('code', 1, 'int32'))
        .add(new protobuf.Field('message', 2, 'string')),
    );
  root.resolveAll();
  protosCache = {
    root,
    ExportTraceServiceRequest: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
    ExportTraceServiceResponse: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
    ExportMetricsServiceRequest: root.lookupType(
      'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
    ),
    ExportMetricsServiceResponse: root.lookupType(
      'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse',
    ),
    TraceService: root.lookupService('opentelemetry.proto.collector.trace.v1.TraceService'),
    MetricsService: root.lookupService('opentelemetry.proto.collector.metrics.v1.MetricsService'),
    RpcStatus: root.lookupType('google.rpc.Status'),
  };
  return protosCache;
}

/** The conversion the brief fixes for recorded requests: longs and bytes as strings (base64), enums by name. */
export const TO_OBJECT_OPTIONS: protobuf.IConversionOptions = {
  longs: String,
  bytes: String,
  defaults: true,
  enums: String,
};

/** Plain object in, encoded bytes out; `fromObject` accepts ids as Buffers or base64 strings and longs as strings. */
export function encodeExportRequest(signal: OtlpSignal, request: Record<string, unknown>): Buffer {
  const p = loadOtlpProtos();
  const type = signal === 'traces' ? p.ExportTraceServiceRequest : p.ExportMetricsServiceRequest;
  return Buffer.from(type.encode(type.fromObject(request)).finish());
}

type PlainMessage = Record<string, unknown>;

function serviceFor(signal: OtlpSignal): protobuf.Service {
  const p = loadOtlpProtos();
  return signal === 'traces' ? p.TraceService : p.MetricsService;
}

/**
 * A grpc-js client-side service definition built from the protobufjs reflection of the service, so the gRPC path
 * (`/opentelemetry.proto.collector.trace.v1.TraceService/Export`) and the message types come from the `.proto` files.
 * Use with `grpc.makeGenericClientConstructor(def, 'TraceService')`; requests are plain objects (see encodeExportRequest).
 */
export function otlpGrpcClientDefinition(signal: OtlpSignal): grpc.ServiceDefinition {
  const service = serviceFor(signal);
  const def: Record<string, grpc.MethodDefinition<PlainMessage, PlainMessage>> = {};
  for (const method of service.methodsArray) {
    method.resolve();
    const req = method.resolvedRequestType;
    const res = method.resolvedResponseType;
    if (!req || !res) throw new Error(`unresolved types for ${method.fullName}`);
    def[method.name] = {
      path: `/${service.fullName.replace(/^\./, '')}/${method.name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (value) => Buffer.from(req.encode(req.fromObject(value)).finish()),
      requestDeserialize: (bytes) => req.toObject(req.decode(bytes), TO_OBJECT_OPTIONS),
      responseSerialize: (value) => Buffer.from(res.encode(res.fromObject(value)).finish()),
      responseDeserialize: (bytes) => res.toObject(res.decode(bytes), TO_OBJECT_OPTIONS),
    };
  }
  return def;
}

/**
 * Server side: requests stay raw bytes until the handler, so a request that fails to decode is still recorded (grpc-js
 * would otherwise answer INTERNAL before our code ever saw the call).
 */
function serverDefinition(signal: OtlpSignal): grpc.ServiceDefinition {
  const service = serviceFor(signal);
  const def: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  for (const method of service.methodsArray) {
    def[method.name] = {
      path: `/${service.fullName.replace(/^\./, '')}/${method.name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (b) => b,
      requestDeserialize: (b) => b,
      responseSerialize: (b) => b,
      responseDeserialize: (b) => b,
    };
  }
  return def;
}

// ---------------------------------------------------------------------------------------------------------------------
// Shapes of the decoded requests (what `Type.toObject(msg, TO_OBJECT_OPTIONS)` yields for these protos)

/** AnyValue: a oneof, so exactly one member is present (toObject does not default oneof members). */
export interface OtlpAnyValueObject {
  readonly stringValue?: string;
  readonly boolValue?: boolean;
  /** int64 → decimal string (longs: String). */
  readonly intValue?: string;
  readonly doubleValue?: number;
  readonly arrayValue?: { readonly values: readonly OtlpAnyValueObject[] };
  readonly kvlistValue?: { readonly values: readonly OtlpKeyValueObject[] };
  /** base64 (bytes: String). */
  readonly bytesValue?: string;
}
export interface OtlpKeyValueObject {
  readonly key: string;
  readonly value: OtlpAnyValueObject | null;
}
export interface OtlpResourceObject {
  readonly attributes: readonly OtlpKeyValueObject[];
  readonly droppedAttributesCount: number;
}
export interface OtlpScopeObject {
  readonly name: string;
  readonly version: string;
}
export interface OtlpSpanEventObject {
  readonly timeUnixNano: string;
  readonly name: string;
  readonly attributes: readonly OtlpKeyValueObject[];
  readonly droppedAttributesCount: number;
}
export interface OtlpSpanLinkObject {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceState: string;
  readonly attributes: readonly OtlpKeyValueObject[];
  readonly droppedAttributesCount: number;
}
export interface OtlpSpanObject {
  /** base64 */
  readonly traceId: string;
  readonly spanId: string;
  readonly traceState: string;
  readonly parentSpanId: string;
  readonly name: string;
  /** e.g. "SPAN_KIND_SERVER" */
  readonly kind: string;
  readonly startTimeUnixNano: string;
  readonly endTimeUnixNano: string;
  readonly attributes: readonly OtlpKeyValueObject[];
  readonly droppedAttributesCount: number;
  readonly events: readonly OtlpSpanEventObject[];
  readonly droppedEventsCount: number;
  readonly links: readonly OtlpSpanLinkObject[];
  readonly droppedLinksCount: number;
  /** e.g. { code: "STATUS_CODE_ERROR", message: "" } */
  readonly status: { readonly code: string; readonly message: string } | null;
}
export interface OtlpResourceSpansObject {
  readonly resource: OtlpResourceObject | null;
  readonly scopeSpans: readonly {
    readonly scope: OtlpScopeObject | null;
    readonly spans: readonly OtlpSpanObject[];
    readonly schemaUrl: string;
  }[];
  /** Deprecated pre-1.0 field (1000); still read so old senders are not silently dropped. */
  readonly instrumentationLibrarySpans: readonly {
    readonly instrumentationLibrary: OtlpScopeObject | null;
    readonly spans: readonly OtlpSpanObject[];
    readonly schemaUrl: string;
  }[];
  readonly schemaUrl: string;
}
export interface ExportTraceServiceRequestObject {
  readonly resourceSpans: readonly OtlpResourceSpansObject[];
}

export interface OtlpExemplarObject {
  readonly filteredAttributes: readonly OtlpKeyValueObject[];
  readonly timeUnixNano: string;
  readonly asDouble?: number;
  readonly asInt?: string;
  readonly spanId: string;
  readonly traceId: string;
}
interface OtlpPointBaseObject {
  readonly attributes: readonly OtlpKeyValueObject[];
  readonly startTimeUnixNano: string;
  readonly timeUnixNano: string;
  readonly flags: number;
}
export interface OtlpNumberDataPointObject extends OtlpPointBaseObject {
  readonly asDouble?: number;
  readonly asInt?: string;
  readonly exemplars: readonly OtlpExemplarObject[];
}
export interface OtlpHistogramDataPointObject extends OtlpPointBaseObject {
  readonly count: string;
  /** proto3 `optional`: absent when the sender did not set it. */
  readonly sum?: number;
  readonly bucketCounts: readonly string[];
  readonly explicitBounds: readonly number[];
  readonly exemplars: readonly OtlpExemplarObject[];
  readonly min?: number;
  readonly max?: number;
}
export interface OtlpExponentialBucketsObject {
  readonly offset: number;
  readonly bucketCounts: readonly string[];
}
export interface OtlpExponentialHistogramDataPointObject extends OtlpPointBaseObject {
  readonly count: string;
  readonly sum?: number;
  readonly scale: number;
  readonly zeroCount: string;
  readonly positive: OtlpExponentialBucketsObject | null;
  readonly negative: OtlpExponentialBucketsObject | null;
  readonly exemplars: readonly OtlpExemplarObject[];
  readonly min?: number;
  readonly max?: number;
}
export interface OtlpSummaryDataPointObject extends OtlpPointBaseObject {
  readonly count: string;
  readonly sum: number;
  readonly quantileValues: readonly { readonly quantile: number; readonly value: number }[];
}
export interface OtlpMetricObject {
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  readonly gauge?: { readonly dataPoints: readonly OtlpNumberDataPointObject[] };
  readonly sum?: {
    readonly dataPoints: readonly OtlpNumberDataPointObject[];
    readonly aggregationTemporality: string;
    readonly isMonotonic: boolean;
  };
  readonly histogram?: {
    readonly dataPoints: readonly OtlpHistogramDataPointObject[];
    readonly aggregationTemporality: string;
  };
  readonly exponentialHistogram?: {
    readonly dataPoints: readonly OtlpExponentialHistogramDataPointObject[];
    readonly aggregationTemporality: string;
  };
  readonly summary?: { readonly dataPoints: readonly OtlpSummaryDataPointObject[] };
}
export interface OtlpResourceMetricsObject {
  readonly resource: OtlpResourceObject | null;
  readonly scopeMetrics: readonly {
    readonly scope: OtlpScopeObject | null;
    readonly metrics: readonly OtlpMetricObject[];
    readonly schemaUrl: string;
  }[];
  readonly instrumentationLibraryMetrics: readonly {
    readonly instrumentationLibrary: OtlpScopeObject | null;
    readonly metrics: readonly OtlpMetricObject[];
    readonly schemaUrl: string;
  }[];
  readonly schemaUrl: string;
}
export interface ExportMetricsServiceRequestObject {
  readonly resourceMetrics: readonly OtlpResourceMetricsObject[];
}

// ---------------------------------------------------------------------------------------------------------------------
// Flattening

/** An OTLP AnyValue as plain JS: ints become numbers (strings beyond 2^53), bytes stay base64, kvlists become records. */
export type AttributeValue =
  string | number | boolean | null | readonly AttributeValue[] | { readonly [key: string]: AttributeValue };
export type AttributeRecord = Readonly<Record<string, AttributeValue>>;

/** base64 (as toObject renders bytes) or raw bytes → lowercase hex; '' for an absent id. */
export function idToHex(id: string | Uint8Array): string {
  return (typeof id === 'string' ? Buffer.from(id, 'base64') : Buffer.from(id)).toString('hex');
}

/** A decimal int64 string → number, kept as the string when a number would lose precision. */
function intValue(s: string): number | string {
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : s;
}

/** Counts (fixed64) are safe integers in any realistic test; a number keeps assertions simple. */
function count(s: string): number {
  return Number(s);
}

export function anyValueToPlain(v: OtlpAnyValueObject | null | undefined): AttributeValue {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return intValue(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return v.arrayValue.values.map(anyValueToPlain);
  if (v.kvlistValue) return attributesToRecord(v.kvlistValue.values);
  if (v.bytesValue !== undefined) return v.bytesValue;
  return null;
}

export function attributesToRecord(kvs: readonly OtlpKeyValueObject[] | undefined): AttributeRecord {
  const out: Record<string, AttributeValue> = {};
  for (const kv of kvs ?? []) out[kv.key] = anyValueToPlain(kv.value);
  return out;
}

export interface FlatScope {
  readonly name: string;
  readonly version: string;
}

export interface FlatSpanEvent {
  readonly name: string;
  readonly attributes: AttributeRecord;
  readonly timeUnixNano: string;
}

export interface FlatSpanLink {
  readonly traceId: string;
  readonly spanId: string;
  readonly attributes: AttributeRecord;
}

export interface FlatSpan {
  readonly transport: OtlpTransport;
  readonly resource: AttributeRecord;
  readonly scope: FlatScope;
  /** Lowercase hex (32 chars). */
  readonly traceId: string;
  /** Lowercase hex (16 chars). */
  readonly spanId: string;
  /** Lowercase hex, '' for a root span. */
  readonly parentSpanId: string;
  readonly traceState: string;
  readonly name: string;
  /** Enum name, e.g. "SPAN_KIND_SERVER". */
  readonly kind: string;
  /** Decimal nanoseconds since the epoch (strings: nanos overflow a double). */
  readonly startTimeUnixNano: string;
  readonly endTimeUnixNano: string;
  /** end − start, computed exactly on bigints, then in milliseconds. */
  readonly durationMs: number;
  readonly attributes: AttributeRecord;
  readonly events: readonly FlatSpanEvent[];
  readonly links: readonly FlatSpanLink[];
  /** code is the enum name, e.g. "STATUS_CODE_ERROR"; UNSET when the span had no status. */
  readonly status: { readonly code: string; readonly message: string };
}

export interface FlatExemplar {
  /** Lowercase hex, '' when the exemplar was not sampled inside a span. */
  readonly traceId: string;
  readonly spanId: string;
  readonly value: number;
  readonly timeUnixNano: string;
  readonly filteredAttributes: AttributeRecord;
}

interface FlatPointBase {
  readonly transport: OtlpTransport;
  readonly resource: AttributeRecord;
  readonly scope: FlatScope;
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  readonly attributes: AttributeRecord;
  readonly startTimeUnixNano: string;
  readonly timeUnixNano: string;
  readonly exemplars: readonly FlatExemplar[];
}

export interface FlatSumPoint extends FlatPointBase {
  readonly kind: 'sum';
  readonly monotonic: boolean;
  /** e.g. "AGGREGATION_TEMPORALITY_CUMULATIVE" */
  readonly temporality: string;
  readonly value: number;
  /** Which oneof member carried the value (asInt vs asDouble): instruments declared as INT must arrive as int. */
  readonly valueType: 'int' | 'double';
}

export interface FlatGaugePoint extends FlatPointBase {
  readonly kind: 'gauge';
  readonly value: number;
  readonly valueType: 'int' | 'double';
}

export interface FlatHistogramPoint extends FlatPointBase {
  readonly kind: 'histogram';
  readonly temporality: string;
  readonly count: number;
  readonly sum: number | undefined;
  readonly min: number | undefined;
  readonly max: number | undefined;
  readonly bucketCounts: readonly number[];
  readonly explicitBounds: readonly number[];
}

export interface FlatExponentialHistogramPoint extends FlatPointBase {
  readonly kind: 'exponential_histogram';
  readonly temporality: string;
  readonly count: number;
  readonly sum: number | undefined;
  readonly min: number | undefined;
  readonly max: number | undefined;
  readonly scale: number;
  readonly zeroCount: number;
  readonly positive: { readonly offset: number; readonly bucketCounts: readonly number[] };
  readonly negative: { readonly offset: number; readonly bucketCounts: readonly number[] };
}

export interface FlatSummaryPoint extends FlatPointBase {
  readonly kind: 'summary';
  readonly count: number;
  readonly sum: number;
  readonly quantiles: readonly { readonly quantile: number; readonly value: number }[];
}

/** One row per data point; narrow on `kind`. */
export type FlatMetric =
  FlatSumPoint | FlatGaugePoint | FlatHistogramPoint | FlatExponentialHistogramPoint | FlatSummaryPoint;

function scopeOf(s: OtlpScopeObject | null | undefined): FlatScope {
  return { name: s?.name ?? '', version: s?.version ?? '' };
}

function nanosDiffMs(start: string, end: string): number {
  try {
    return Number(BigInt(end) - BigInt(start)) / 1e6;
  } catch {
    return Number.NaN;
  }
}

export function flattenTraceRequest(req: ExportTraceServiceRequestObject, transport: OtlpTransport): FlatSpan[] {
  const out: FlatSpan[] = [];
  for (const rs of req.resourceSpans) {
    const resource = attributesToRecord(rs.resource?.attributes);
    const groups = [
      ...rs.scopeSpans.map((ss) => ({ scope: scopeOf(ss.scope), spans: ss.spans })),
      ...(rs.instrumentationLibrarySpans ?? []).map((il) => ({
        scope: scopeOf(il.instrumentationLibrary),
        spans: il.spans,
      })),
    ];
    for (const { scope, spans } of groups) {
      for (const s of spans) {
        out.push({
          transport,
          resource,
          scope,
          traceId: idToHex(s.traceId),
          spanId: idToHex(s.spanId),
          parentSpanId: idToHex(s.parentSpanId),
          traceState: s.traceState,
          name: s.name,
          kind: String(s.kind),
          startTimeUnixNano: s.startTimeUnixNano,
          endTimeUnixNano: s.endTimeUnixNano,
          durationMs: nanosDiffMs(s.startTimeUnixNano, s.endTimeUnixNano),
          attributes: attributesToRecord(s.attributes),
          events: s.events.map((e) => ({
            name: e.name,
            attributes: attributesToRecord(e.attributes),
            timeUnixNano: e.timeUnixNano,
          })),
          links: s.links.map((l) => ({
            traceId: idToHex(l.traceId),
            spanId: idToHex(l.spanId),
            attributes: attributesToRecord(l.attributes),
          })),
          status: { code: String(s.status?.code ?? 'STATUS_CODE_UNSET'), message: s.status?.message ?? '' },
        });
      }
    }
  }
  return out;
}

function numberValue(p: { readonly asDouble?: number; readonly asInt?: string }): {
  value: number;
  valueType: 'int' | 'double';
} {
  if (p.asInt !== undefined) return { value: Number(p.asInt), valueType: 'int' };
  return { value: p.asDouble ?? 0, valueType: 'double' };
}

function exemplarsOf(exs: readonly OtlpExemplarObject[] | undefined): FlatExemplar[] {
  return (exs ?? []).map((e) => ({
    traceId: idToHex(e.traceId),
    spanId: idToHex(e.spanId),
    value: numberValue(e).value,
    timeUnixNano: e.timeUnixNano,
    filteredAttributes: attributesToRecord(e.filteredAttributes),
  }));
}

function bucketsOf(b: OtlpExponentialBucketsObject | null | undefined): { offset: number; bucketCounts: number[] } {
  return { offset: b?.offset ?? 0, bucketCounts: (b?.bucketCounts ?? []).map(count) };
}

export function flattenMetricsRequest(req: ExportMetricsServiceRequestObject, transport: OtlpTransport): FlatMetric[] {
  const out: FlatMetric[] = [];
  for (const rm of req.resourceMetrics) {
    const resource = attributesToRecord(rm.resource?.attributes);
    const groups = [
      ...rm.scopeMetrics.map((sm) => ({ scope: scopeOf(sm.scope), metrics: sm.metrics })),
      ...(rm.instrumentationLibraryMetrics ?? []).map((il) => ({
        scope: scopeOf(il.instrumentationLibrary),
        metrics: il.metrics,
      })),
    ];
    for (const { scope, metrics } of groups) {
      for (const m of metrics) {
        const base = (
          p: OtlpPointBaseObject & { readonly exemplars?: readonly OtlpExemplarObject[] },
        ): FlatPointBase => ({
          transport,
          resource,
          scope,
          name: m.name,
          description: m.description,
          unit: m.unit,
          attributes: attributesToRecord(p.attributes),
          startTimeUnixNano: p.startTimeUnixNano,
          timeUnixNano: p.timeUnixNano,
          exemplars: exemplarsOf(p.exemplars),
        });
        if (m.sum) {
          for (const p of m.sum.dataPoints) {
            out.push({
              ...base(p),
              kind: 'sum',
              monotonic: m.sum.isMonotonic,
              temporality: String(m.sum.aggregationTemporality),
              ...numberValue(p),
            });
          }
        } else if (m.gauge) {
          for (const p of m.gauge.dataPoints) out.push({ ...base(p), kind: 'gauge', ...numberValue(p) });
        } else if (m.histogram) {
          for (const p of m.histogram.dataPoints) {
            out.push({
              ...base(p),
              kind: 'histogram',
              temporality: String(m.histogram.aggregationTemporality),
              count: count(p.count),
              sum: p.sum,
              min: p.min,
              max: p.max,
              bucketCounts: p.bucketCounts.map(count),
              explicitBounds: [...p.explicitBounds],
            });
          }
        } else if (m.exponentialHistogram) {
          for (const p of m.exponentialHistogram.dataPoints) {
            out.push({
              ...base(p),
              kind: 'exponential_histogram',
              temporality: String(m.exponentialHistogram.aggregationTemporality),
              count: count(p.count),
              sum: p.sum,
              min: p.min,
              max: p.max,
              scale: p.scale,
              zeroCount: count(p.zeroCount),
              positive: bucketsOf(p.positive),
              negative: bucketsOf(p.negative),
            });
          }
        } else if (m.summary) {
          for (const p of m.summary.dataPoints) {
            out.push({
              ...base(p),
              kind: 'summary',
              count: count(p.count),
              sum: p.sum,
              quantiles: p.quantileValues.map((q) => ({ quantile: q.quantile, value: q.value })),
            });
          }
        }
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------------
// Receiver

/**
 * Fault injection, read per request (so `setBehaviour` takes effect for the next request):
 * - `ok`: accept (HTTP 200 / gRPC OK).
 * - `unavailable`: retryable failure — HTTP 503 / gRPC UNAVAILABLE (14).
 * - `status`: answer `httpStatus` (default 400) / `grpcCode` (default INVALID_ARGUMENT, 3): non-retryable by default.
 * - `slow`: accept, but only after `delayMs` (default 1000).
 * - `refuse-after-headers`: read the request headers, then drop the connection without any answer (HTTP: the socket
 *   is destroyed; gRPC: the HTTP/2 session carrying the call is destroyed), the way a crashing collector looks.
 * `delayMs`, when set, delays the answer in every mode (e.g. a 503 that also takes 2 s).
 */
export interface ReceiverBehaviour {
  readonly mode: 'ok' | 'unavailable' | 'slow' | 'refuse-after-headers' | 'status';
  readonly delayMs?: number;
  readonly httpStatus?: number;
  readonly grpcCode?: number;
}

interface ReceivedBase {
  readonly transport: OtlpTransport;
  /** Request path, e.g. "/v1/traces" or "/opentelemetry.proto.collector.trace.v1.TraceService/Export". */
  readonly path: string;
  /**
   * Lowercase names. HTTP: the request headers (repeats joined with ", "). gRPC: the call metadata (repeats joined
   * with ", ", `-bin` values base64), e.g. "authorization", "user-agent", plus "grpc-encoding" ("identity"/"gzip"),
   * which grpc-js would otherwise hide.
   */
  readonly headers: Readonly<Record<string, string>>;
  /** Date.now() when the request arrived. */
  readonly time: number;
  /** The behaviour in force when it arrived. */
  readonly behaviour: ReceiverBehaviour;
  /** True once the receiver answered success; only accepted requests feed spans()/metrics(). */
  readonly accepted: boolean;
  /** What was answered (undefined while pending, or when refused). */
  readonly httpStatus?: number;
  readonly grpcCode?: number;
  /** The connection was dropped on purpose (refuse-after-headers). */
  readonly refused: boolean;
  /** Size of the (decompressed) body. */
  readonly bodyBytes?: number;
  /** Why the body could not be decoded, if it could not. */
  readonly error?: string;
}
export interface ReceivedTraceRequest extends ReceivedBase {
  readonly signal: 'traces';
  readonly request?: ExportTraceServiceRequestObject;
}
export interface ReceivedMetricsRequest extends ReceivedBase {
  readonly signal: 'metrics';
  readonly request?: ExportMetricsServiceRequestObject;
}
export type ReceivedRequest = ReceivedTraceRequest | ReceivedMetricsRequest;

export interface OtlpReceiverOptions {
  /** Serve OTLP/gRPC (default true). */
  readonly grpc?: boolean;
  /** Serve OTLP/HTTP (default true). */
  readonly http?: boolean;
  /** PEM server certificate and key: gRPC and HTTP are then served over TLS (https:// URLs). */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  readonly behaviour?: ReceiverBehaviour;
}

export interface OtlpReceiver {
  /** Throws when gRPC is disabled. */
  readonly grpcPort: number;
  readonly httpPort: number;
  /** e.g. "http://127.0.0.1:PORT" (https when tls). */
  readonly grpcUrl: string;
  /** Base URL without path, e.g. "http://127.0.0.1:PORT"; signal paths are /v1/traces and /v1/metrics. */
  readonly httpUrl: string;
  /** Every request received, in arrival order, including rejected and refused ones. */
  readonly requests: readonly ReceivedRequest[];
  readonly behaviour: ReceiverBehaviour;
  setBehaviour(behaviour: ReceiverBehaviour): void;
  /** Spans from accepted requests, flattened. */
  spans(): FlatSpan[];
  /** Data points from accepted requests, flattened. */
  metrics(): FlatMetric[];
  /** Export requests received for a signal (every attempt, accepted or not): retries show up here. */
  count(signal: OtlpSignal): number;
  /** Polls `predicate` every 20 ms; rejects with a summary of what arrived when `timeoutMs` passes. */
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  /** Forget everything recorded so far (keeps the servers and the behaviour). */
  reset(): void;
  close(): Promise<void>;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Entry = Mutable<ReceivedTraceRequest> | Mutable<ReceivedMetricsRequest>;

const GRPC_OK = grpc.status.OK;

function joinHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

function httpHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    const s = joinHeader(v);
    if (s !== undefined) out[k.toLowerCase()] = s;
  }
  return out;
}

function grpcHeaders(md: grpc.Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, values] of Object.entries(md.toJSON())) {
    out[k.toLowerCase()] = values.map((v) => (typeof v === 'string' ? v : v.toString('base64'))).join(', ');
  }
  return out;
}

const ID_KEYS = new Set(['traceId', 'spanId', 'parentSpanId']);

/**
 * OTLP/JSON encodes trace/span ids as hex, where proto3 JSON (and protobufjs fromObject) would read base64; turn them
 * into bytes first. Everything else (lowerCamelCase keys, enums as ints, int64 as strings) fromObject already accepts.
 */
function hexIdsToBytes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(hexIdsToBytes);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = ID_KEYS.has(k) && typeof v === 'string' ? Buffer.from(v, 'hex') : hexIdsToBytes(v);
  }
  return out;
}

function decode(
  signal: OtlpSignal,
  body: Buffer,
  json: boolean,
): ExportTraceServiceRequestObject | ExportMetricsServiceRequestObject {
  const p = loadOtlpProtos();
  const type = signal === 'traces' ? p.ExportTraceServiceRequest : p.ExportMetricsServiceRequest;
  const msg = json
    ? type.fromObject(hexIdsToBytes(JSON.parse(body.toString('utf8'))) as PlainMessage)
    : type.decode(body);
  // toObject yields an untyped record; its shape is fixed by the .proto schema and mirrored by the interfaces above.
  return type.toObject(msg, TO_OBJECT_OPTIONS) as unknown as
    ExportTraceServiceRequestObject | ExportMetricsServiceRequestObject;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * grpc-js keeps the HTTP/2 stream and the request's `grpc-encoding` on an internal object behind the call (present
 * when no server interceptors are installed, as here). Both are read defensively: undefined if grpc-js changes.
 */
interface GrpcCallInternals {
  readonly stream?: ServerHttp2Stream;
  readonly incomingEncoding?: string;
}
function grpcInternals(call: grpc.ServerUnaryCall<Buffer, Buffer>): GrpcCallInternals {
  return (call as unknown as { call?: GrpcCallInternals }).call ?? {};
}

function grpcHeadersOf(call: grpc.ServerUnaryCall<Buffer, Buffer>): Record<string, string> {
  const headers = grpcHeaders(call.metadata);
  // grpc-js strips grpc-* headers from the metadata; put back the one tests care about (was the export compressed?).
  const encoding = grpcInternals(call).incomingEncoding;
  if (typeof encoding === 'string') headers['grpc-encoding'] = encoding;
  return headers;
}

export async function startOtlpReceiver(t: TestContext, opts: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  const protos = loadOtlpProtos();
  let behaviour: ReceiverBehaviour = opts.behaviour ?? { mode: 'ok' };
  const requests: Entry[] = [];
  // Aborted on close so pending 'slow' delays stop holding the event loop (and never answer on a closed server).
  const closing = new AbortController();
  const scheme = opts.tls ? 'https' : 'http';

  const wait = async (ms: number): Promise<boolean> => {
    if (ms <= 0) return true;
    try {
      await sleep(ms, undefined, { signal: closing.signal });
      return true;
    } catch {
      return false;
    }
  };
  const delayFor = (b: ReceiverBehaviour): number => b.delayMs ?? (b.mode === 'slow' ? 1000 : 0);

  const record = (
    signal: OtlpSignal,
    transport: OtlpTransport,
    path: string,
    headers: Record<string, string>,
  ): Entry => {
    const entry: Entry = {
      signal,
      transport,
      path,
      headers,
      time: Date.now(),
      behaviour,
      accepted: false,
      refused: false,
    };
    requests.push(entry);
    return entry;
  };

  const setDecoded = (entry: Entry, body: Buffer, json: boolean): boolean => {
    entry.bodyBytes = body.length;
    try {
      // The union is split by signal at the call site; the cast keeps `request` matched to `signal`.
      (entry as Mutable<ReceivedBase> & { request?: unknown }).request = decode(entry.signal, body, json);
      return true;
    } catch (e) {
      entry.error = errorMessage(e);
      return false;
    }
  };

  // ------------------------------------------------------------------------------------------------- OTLP/HTTP
  let httpServer: HttpServer | undefined;
  let httpPort = 0;
  if (opts.http !== false) {
    const sendStatus = (res: ServerResponse, status: number, message: string, json: boolean): void => {
      const body = json
        ? Buffer.from(JSON.stringify({ code: grpc.status.UNKNOWN, message }))
        : Buffer.from(
            protos.RpcStatus.encode(protos.RpcStatus.fromObject({ code: grpc.status.UNKNOWN, message })).finish(),
          );
      res.writeHead(status, {
        'content-type': json ? 'application/json' : 'application/x-protobuf',
        'content-length': body.length,
      });
      res.end(body);
    };
    const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      const path = new URL(req.url ?? '/', 'http://receiver').pathname;
      const signal: OtlpSignal | undefined =
        path === '/v1/traces' ? 'traces' : path === '/v1/metrics' ? 'metrics' : undefined;
      if (!signal) {
        res.writeHead(404).end();
        return;
      }
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'POST' }).end();
        return;
      }
      const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      const json = contentType === 'application/json';
      const entry = record(signal, 'http', path, httpHeaders(req));
      const b = entry.behaviour;
      if (b.mode === 'refuse-after-headers') {
        if (!(await wait(b.delayMs ?? 0))) return;
        entry.refused = true;
        req.socket.destroy();
        return;
      }
      if (!json && contentType !== 'application/x-protobuf') {
        entry.httpStatus = 415;
        sendStatus(res, 415, `unsupported content-type ${contentType}`, false);
        return;
      }
      let body: Buffer;
      try {
        const raw = await readBody(req);
        const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
        if (encoding === 'gzip') body = gunzipSync(raw);
        else if (encoding === 'deflate') body = inflateSync(raw);
        else if (encoding === 'identity') body = raw;
        else throw new Error(`unsupported content-encoding ${encoding}`);
      } catch (e) {
        entry.error = errorMessage(e);
        entry.httpStatus = 400;
        sendStatus(res, 400, entry.error, json);
        return;
      }
      if (!setDecoded(entry, body, json)) {
        entry.httpStatus = 400;
        sendStatus(res, 400, entry.error ?? 'bad request', json);
        return;
      }
      if (!(await wait(delayFor(b)))) return;
      if (b.mode === 'unavailable') {
        entry.httpStatus = 503;
        sendStatus(res, 503, 'receiver unavailable (test fault)', json);
        return;
      }
      if (b.mode === 'status') {
        entry.httpStatus = b.httpStatus ?? 400;
        sendStatus(res, entry.httpStatus, 'rejected (test fault)', json);
        return;
      }
      const responseType =
        signal === 'traces' ? protos.ExportTraceServiceResponse : protos.ExportMetricsServiceResponse;
      const out = json ? Buffer.from('{}') : Buffer.from(responseType.encode(responseType.create({})).finish());
      entry.httpStatus = 200;
      entry.accepted = true;
      res.writeHead(200, {
        'content-type': json ? 'application/json' : 'application/x-protobuf',
        'content-length': out.length,
      });
      res.end(out);
    };
    const listener = (req: IncomingMessage, res: ServerResponse): void => {
      handler(req, res).catch((e: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(errorMessage(e));
      });
    };
    httpServer = opts.tls
      ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, listener)
      : createHttpServer(listener);
    const server = httpServer;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    httpPort = (server.address() as AddressInfo).port;
  }

  // ------------------------------------------------------------------------------------------------- OTLP/gRPC
  let grpcServer: grpc.Server | undefined;
  let grpcPort = 0;
  if (opts.grpc !== false) {
    // Large batches from a busy gateway exceed grpc-js's 4 MiB default; a collector accepts them.
    grpcServer = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
    const handlerFor =
      (signal: OtlpSignal): grpc.handleUnaryCall<Buffer, Buffer> =>
      (call, callback) => {
        const entry = record(signal, 'grpc', call.getPath(), grpcHeadersOf(call));
        const b = entry.behaviour;
        const answer = async (): Promise<void> => {
          if (b.mode === 'refuse-after-headers') {
            if (!(await wait(b.delayMs ?? 0))) return;
            const stream = grpcInternals(call).stream;
            entry.refused = true;
            if (stream?.session) {
              stream.session.destroy();
              return;
            }
            // Fallback if grpc-js internals moved: the closest answer a client can observe.
            entry.refused = false;
            entry.grpcCode = grpc.status.UNAVAILABLE;
            callback({ code: grpc.status.UNAVAILABLE, details: 'connection refused (test fault)' });
            return;
          }
          if (!setDecoded(entry, call.request, false)) {
            entry.grpcCode = grpc.status.INVALID_ARGUMENT;
            callback({ code: grpc.status.INVALID_ARGUMENT, details: entry.error ?? 'bad request' });
            return;
          }
          if (!(await wait(delayFor(b)))) return;
          if (b.mode === 'unavailable') {
            entry.grpcCode = grpc.status.UNAVAILABLE;
            callback({ code: grpc.status.UNAVAILABLE, details: 'receiver unavailable (test fault)' });
            return;
          }
          if (b.mode === 'status') {
            entry.grpcCode = b.grpcCode ?? grpc.status.INVALID_ARGUMENT;
            callback({ code: entry.grpcCode, details: 'rejected (test fault)' });
            return;
          }
          const responseType =
            signal === 'traces' ? protos.ExportTraceServiceResponse : protos.ExportMetricsServiceResponse;
          entry.grpcCode = GRPC_OK;
          entry.accepted = true;
          callback(null, Buffer.from(responseType.encode(responseType.create({})).finish()));
        };
        answer().catch((e: unknown) => callback({ code: grpc.status.INTERNAL, details: errorMessage(e) }));
      };
    grpcServer.addService(serverDefinition('traces'), { Export: handlerFor('traces') });
    grpcServer.addService(serverDefinition('metrics'), { Export: handlerFor('metrics') });
    const creds = opts.tls
      ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: opts.tls.cert, private_key: opts.tls.key }], false)
      : grpc.ServerCredentials.createInsecure();
    const server = grpcServer;
    grpcPort = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', creds, (err, port) => (err ? reject(err) : resolve(port)));
    });
  }

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      closing.abort();
      // forceShutdown, not tryShutdown: a pending 'slow' call must not hold the test run open.
      grpcServer?.forceShutdown();
      if (httpServer) {
        const server = httpServer;
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    })();
    return closed;
  };
  t.after(close);

  const accepted = (): Entry[] => requests.filter((r) => r.accepted && r.request !== undefined);
  const spans = (): FlatSpan[] =>
    accepted().flatMap((r) => (r.signal === 'traces' && r.request ? flattenTraceRequest(r.request, r.transport) : []));
  const metrics = (): FlatMetric[] =>
    accepted().flatMap((r) =>
      r.signal === 'metrics' && r.request ? flattenMetricsRequest(r.request, r.transport) : [],
    );
  const countOf = (signal: OtlpSignal): number => requests.filter((r) => r.signal === signal).length;
  const disabled = (what: string): never => {
    throw new Error(`OTLP receiver started without ${what}`);
  };

  return {
    get grpcPort() {
      return grpcServer ? grpcPort : disabled('grpc');
    },
    get httpPort() {
      return httpServer ? httpPort : disabled('http');
    },
    get grpcUrl() {
      return grpcServer ? `${scheme}://127.0.0.1:${grpcPort}` : disabled('grpc');
    },
    get httpUrl() {
      return httpServer ? `${scheme}://127.0.0.1:${httpPort}` : disabled('http');
    },
    requests,
    get behaviour() {
      return behaviour;
    },
    setBehaviour(b: ReceiverBehaviour) {
      behaviour = b;
    },
    spans,
    metrics,
    count: countOf,
    async waitFor(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (predicate()) return;
        if (Date.now() >= deadline) {
          const summary = `${countOf('traces')} trace requests (${spans().length} spans accepted), ${countOf('metrics')} metrics requests (${metrics().length} points accepted)`;
          throw new Error(`OTLP receiver: condition not met within ${timeoutMs} ms; received ${summary}`);
        }
        await sleep(20);
      }
    },
    reset() {
      requests.length = 0;
    },
    close,
  };
}
