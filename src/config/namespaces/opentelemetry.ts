/**
 * `telemetry/opentelemetry` at its three scopes: the schema (krakend-schema v2.13
 * telemetry/opentelemetry*.json), and the settings normalised with KrakenD's defaulting rules: no
 * `layers` ⇒ everything on; a missing sub-object ⇒ its all-on defaults; a present sub-object is taken
 * literally (omitted booleans are false). Endpoint `proxy` and backend `backend` overrides replace the
 * service-level options; endpoint `global` static attributes add to the service's. The checks the
 * schema cannot express are in opentelemetry-checks.ts.
 */
import { DEFAULT_ENVIRONMENT, type BatcherOptions, type Environment } from '../environment.js';
import { arrayAt, isObject, objectAt, stringAt, stringsAt, type RawObject } from '../raw.js';

const bool = { type: 'boolean' } as const;
/** `trace_sampler` (Tollgate extension): which sampler `trace_sample_rate` feeds (telemetry/tracing/sampler.ts). */
export const TRACE_SAMPLERS = ['krakend', 'parentbased_traceidratio'] as const;
export type TraceSamplerName = (typeof TRACE_SAMPLERS)[number];
const stringList = { type: 'array', items: { type: 'string' } } as const;
// `[{key, value}]` as documented; the `{key: value}` map of pre-release krakend-otel examples is
// accepted too, so those configs keep loading.
const attributesSchema = {
  anyOf: [
    {
      type: 'array',
      items: {
        type: 'object',
        required: ['key', 'value'],
        properties: { key: { type: 'string' }, value: { type: 'string' } },
      },
    },
    { type: 'object', additionalProperties: { type: 'string' } },
  ],
} as const;
const port = { type: 'integer', minimum: 0, maximum: 65535 } as const;
const buckets = { type: 'array', minItems: 1, items: { type: 'number' } } as const;

const globalLayer = {
  type: 'object',
  properties: {
    disable_metrics: bool,
    disable_traces: bool,
    disable_propagation: bool,
    report_headers: bool,
    skip_headers: stringList,
    metrics_static_attributes: attributesSchema,
    traces_static_attributes: attributesSchema,
    semantic_convention: { type: 'string' },
  },
} as const;

const proxyLayer = {
  type: 'object',
  properties: {
    disable_metrics: bool,
    disable_traces: bool,
    report_headers: bool,
    skip_headers: stringList,
    metrics_static_attributes: attributesSchema,
    traces_static_attributes: attributesSchema,
  },
} as const;

const backendMetrics = {
  type: 'object',
  properties: {
    disable_stage: bool,
    round_trip: bool,
    read_payload: bool,
    detailed_connection: bool,
    static_attributes: attributesSchema,
  },
} as const;

const backendTraces = {
  type: 'object',
  properties: { ...backendMetrics.properties, report_headers: bool, skip_headers: stringList },
} as const;

const backendLayer = { type: 'object', properties: { metrics: backendMetrics, traces: backendTraces } } as const;

const prometheusExporter = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1 },
    port,
    listen_ip: { type: 'string' },
    host: { type: 'string' },
    process_metrics: bool,
    go_metrics: bool,
    disable_metrics: bool,
    custom_metric_reporting_period: { type: 'integer', minimum: 0 },
  },
} as const;

const otlpExporter = {
  type: 'object',
  required: ['name', 'host'],
  properties: {
    name: { type: 'string', minLength: 1 },
    host: { type: 'string', minLength: 1 },
    port,
    use_http: bool,
    disable_metrics: bool,
    disable_traces: bool,
    custom_metric_reporting_period: { type: 'integer', minimum: 0 },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    ca_cert: { type: 'string' },
  },
} as const;

export const OTEL_ROOT_SCHEMA = {
  type: 'object',
  required: ['exporters'],
  properties: {
    service_name: { type: 'string' },
    service_version: { type: 'string' },
    deploy_env: { type: 'string' },
    metric_reporting_period: { type: 'integer', minimum: 0 },
    trace_sample_rate: { type: 'number', minimum: 0, maximum: 1 },
    trace_sampler: { type: 'string', enum: TRACE_SAMPLERS },
    skip_paths: stringList,
    propagators: {
      type: 'array',
      items: { type: 'string', enum: ['tracecontext', 'baggage', 'b3', 'b3multi', 'jaeger', 'none'] },
    },
    histograms: { type: 'object', properties: { time_buckets: buckets, size_buckets: buckets } },
    exporters: {
      type: 'object',
      minProperties: 1,
      properties: {
        prometheus: { type: 'array', minItems: 1, items: prometheusExporter },
        otlp: { type: 'array', minItems: 1, items: otlpExporter },
      },
    },
    layers: { type: 'object', properties: { global: globalLayer, proxy: proxyLayer, backend: backendLayer } },
  },
} as const;

export const OTEL_ENDPOINT_SCHEMA = {
  type: 'object',
  properties: {
    proxy: proxyLayer,
    global: {
      type: 'object',
      properties: { metrics_static_attributes: attributesSchema, traces_static_attributes: attributesSchema },
    },
  },
} as const;

export const OTEL_BACKEND_SCHEMA = { type: 'object', properties: { backend: backendLayer } } as const;

/** Keys read by Tollgate at each level of the namespace; the rest goes to the ignored-settings warning. */
export const OTEL_KEYS = new Set([
  ...Object.keys(OTEL_ROOT_SCHEMA.properties),
  ...Object.keys(OTEL_ENDPOINT_SCHEMA.properties),
  ...Object.keys(OTEL_BACKEND_SCHEMA.properties),
]);

export type Attributes = readonly (readonly [string, string])[];

export interface GlobalLayer {
  readonly disableMetrics: boolean;
  readonly disableTraces: boolean;
  readonly disablePropagation: boolean;
  readonly reportHeaders: boolean;
  readonly skipHeaders: readonly string[];
  readonly metricsStatic: Attributes;
  readonly tracesStatic: Attributes;
  readonly semconv: 'legacy' | '1.27';
}

export interface ProxyLayer {
  readonly disableMetrics: boolean;
  readonly disableTraces: boolean;
  readonly reportHeaders: boolean;
  readonly skipHeaders: readonly string[];
  readonly metricsStatic: Attributes;
  readonly tracesStatic: Attributes;
}

export interface BackendLayerOptions {
  readonly disableStage: boolean;
  readonly roundTrip: boolean;
  readonly readPayload: boolean;
  readonly detailedConnection: boolean;
  readonly staticAttributes: Attributes;
  readonly reportHeaders: boolean;
  readonly skipHeaders: readonly string[];
}

export interface BackendLayer {
  readonly metrics: BackendLayerOptions;
  readonly traces: BackendLayerOptions;
}

export interface PrometheusExporterSettings {
  readonly name: string;
  readonly port: number;
  readonly listenIp: string;
  readonly processMetrics: boolean;
  readonly goMetrics: boolean;
  readonly disableMetrics: boolean;
}

export interface OtlpExporterSettings {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly useHttp: boolean;
  readonly disableMetrics: boolean;
  readonly disableTraces: boolean;
  readonly reportingPeriodS: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Tollgate extension: PEM file of the CA that signed the collector's certificate. */
  readonly caCert: string | undefined;
}

export interface OtelSettings {
  readonly serviceName: string;
  readonly serviceVersion: string;
  readonly deployEnv: string;
  readonly metricReportingPeriodS: number;
  readonly traceSampleRate: number;
  /** Tollgate extension: `krakend` (KrakenD's rule) or `parentbased_traceidratio` (the parent decides at every rate). */
  readonly traceSampler: TraceSamplerName;
  /** Tollgate extension: propagators by name; `OTEL_PROPAGATORS` when the config names none (W3C when neither). */
  readonly propagators: readonly string[] | undefined;
  /** The span batcher's settings (`OTEL_BSP_*`, read at load). */
  readonly spanBatch: BatcherOptions;
  readonly skipPaths: ReadonlySet<string>;
  readonly timeBuckets: readonly number[];
  readonly sizeBuckets: readonly number[];
  readonly prometheus: readonly PrometheusExporterSettings[];
  readonly otlp: readonly OtlpExporterSettings[];
  readonly global: GlobalLayer;
  readonly proxy: ProxyLayer;
  readonly backend: BackendLayer;
}

/** KrakenD's fixed buckets (https://github.com/krakend/krakend-otel/blob/HEAD/config/histogram_buckets.go), also the schema defaults of `histograms`. */
export const DEFAULT_TIME_BUCKETS = [
  0.01, 0.02, 0.05, 0.075, 0.1, 0.125, 0.15, 0.175, 0.2, 0.25, 0.3, 0.35, 0.5, 0.75, 1, 1.5, 2, 3.5, 5, 10,
];
export const DEFAULT_SIZE_BUCKETS = [
  128, 256, 512, 1024, 4096, 8192, 16384, 32768, 65536, 262144, 524288, 1048576, 4194304, 16777216, 67108864,
];
export const DEFAULT_SKIP_PATHS = ['/__health', '/__debug/', '/__echo/', '/__stats/'];

/** Metrics listeners bind to loopback unless configured (a Tollgate default; KrakenD binds all). */
export const DEFAULT_METRICS_LISTEN_IP = '127.0.0.1';

const flag = (o: RawObject, k: string): boolean => o[k] === true;

function attributes(raw: unknown): Attributes {
  const list: unknown[] = Array.isArray(raw)
    ? raw
    : isObject(raw)
      ? Object.entries(raw).map(([key, value]) => ({ key, value }))
      : [];
  return list.flatMap((a) =>
    isObject(a) && typeof a.key === 'string' && typeof a.value === 'string' && a.key !== '' && a.value !== ''
      ? [[a.key, a.value] as const]
      : [],
  );
}

export function parseGlobal(raw: unknown): GlobalLayer {
  const o = isObject(raw) ? raw : {};
  return {
    disableMetrics: flag(o, 'disable_metrics'),
    disableTraces: flag(o, 'disable_traces'),
    disablePropagation: flag(o, 'disable_propagation'),
    reportHeaders: flag(o, 'report_headers'),
    skipHeaders: stringsAt(o, 'skip_headers') ?? [],
    metricsStatic: attributes(o.metrics_static_attributes),
    tracesStatic: attributes(o.traces_static_attributes),
    semconv: o.semantic_convention === '1.27' ? '1.27' : 'legacy',
  };
}

export function parseProxy(raw: unknown): ProxyLayer {
  const o = isObject(raw) ? raw : {};
  return {
    disableMetrics: flag(o, 'disable_metrics'),
    disableTraces: flag(o, 'disable_traces'),
    reportHeaders: flag(o, 'report_headers'),
    skipHeaders: stringsAt(o, 'skip_headers') ?? [],
    metricsStatic: attributes(o.metrics_static_attributes),
    tracesStatic: attributes(o.traces_static_attributes),
  };
}

const ALL_ON: BackendLayerOptions = {
  disableStage: false,
  roundTrip: true,
  readPayload: true,
  detailedConnection: true,
  staticAttributes: [],
  reportHeaders: false,
  skipHeaders: [],
};

function parseBackendOptions(raw: unknown): BackendLayerOptions {
  if (!isObject(raw)) return ALL_ON;
  return {
    disableStage: flag(raw, 'disable_stage'),
    roundTrip: flag(raw, 'round_trip'),
    readPayload: flag(raw, 'read_payload'),
    detailedConnection: flag(raw, 'detailed_connection'),
    staticAttributes: attributes(raw.static_attributes),
    reportHeaders: flag(raw, 'report_headers'),
    skipHeaders: stringsAt(raw, 'skip_headers') ?? [],
  };
}

export function parseBackendLayer(raw: unknown): BackendLayer {
  const o = isObject(raw) ? raw : {};
  return { metrics: parseBackendOptions(o.metrics), traces: parseBackendOptions(o.traces) };
}

export function parseOtelSettings(
  raw: RawObject,
  rootName: string,
  version: string,
  environment: Environment = DEFAULT_ENVIRONMENT,
): OtelSettings {
  const layers = objectAt(raw, 'layers');
  const histograms = objectAt(raw, 'histograms');
  const exporters = objectAt(raw, 'exporters');
  const skip = stringsAt(raw, 'skip_paths') ?? [];
  return {
    serviceName: stringAt(raw, 'service_name') || rootName || 'KrakenD',
    serviceVersion: stringAt(raw, 'service_version') || version,
    deployEnv: stringAt(raw, 'deploy_env') ?? '',
    metricReportingPeriodS:
      typeof raw.metric_reporting_period === 'number' && raw.metric_reporting_period > 0
        ? raw.metric_reporting_period
        : 30,
    traceSampleRate: typeof raw.trace_sample_rate === 'number' ? raw.trace_sample_rate : 1,
    traceSampler: raw.trace_sampler === 'parentbased_traceidratio' ? 'parentbased_traceidratio' : 'krakend',
    propagators: stringsAt(raw, 'propagators') ?? environment.propagators,
    spanBatch: environment.spanBatch,
    skipPaths: new Set(skip.length === 0 ? DEFAULT_SKIP_PATHS : skip),
    timeBuckets: numbers(histograms.time_buckets) ?? DEFAULT_TIME_BUCKETS,
    sizeBuckets: numbers(histograms.size_buckets) ?? DEFAULT_SIZE_BUCKETS,
    prometheus: arrayAt(exporters, 'prometheus')
      .filter(isObject)
      .map((e) => ({
        name: stringAt(e, 'name') ?? '',
        port: typeof e.port === 'number' ? e.port : 9090,
        listenIp: stringAt(e, 'listen_ip') ?? stringAt(e, 'host') ?? DEFAULT_METRICS_LISTEN_IP,
        processMetrics: flag(e, 'process_metrics'),
        goMetrics: flag(e, 'go_metrics'),
        disableMetrics: flag(e, 'disable_metrics'),
      })),
    otlp: arrayAt(exporters, 'otlp')
      .filter(isObject)
      .map((e) => ({
        name: stringAt(e, 'name') ?? '',
        host: stringAt(e, 'host') ?? 'localhost',
        port: typeof e.port === 'number' && e.port > 0 ? e.port : e.use_http === true ? 4318 : 4317,
        useHttp: flag(e, 'use_http'),
        disableMetrics: flag(e, 'disable_metrics'),
        disableTraces: flag(e, 'disable_traces'),
        reportingPeriodS:
          typeof e.custom_metric_reporting_period === 'number' && e.custom_metric_reporting_period >= 1
            ? e.custom_metric_reporting_period
            : 0,
        headers: Object.fromEntries(
          Object.entries(objectAt(e, 'headers')).filter((kv): kv is [string, string] => typeof kv[1] === 'string'),
        ),
        caCert: stringAt(e, 'ca_cert'),
      })),
    global: parseGlobal(layers.global),
    proxy: parseProxy(layers.proxy),
    backend: parseBackendLayer(layers.backend),
  };
}

function numbers(v: unknown): number[] | undefined {
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number') ? (v as number[]) : undefined;
}

/** Endpoint-level overrides: `proxy` replaces, `global` static attributes add. */
export interface EndpointOtel {
  readonly proxy: ProxyLayer | undefined;
  readonly globalMetricsStatic: Attributes;
  readonly globalTracesStatic: Attributes;
}

export function parseEndpointOtel(raw: unknown): EndpointOtel | undefined {
  if (!isObject(raw)) return undefined;
  const g = objectAt(raw, 'global');
  return {
    proxy: isObject(raw.proxy) ? parseProxy(raw.proxy) : undefined,
    globalMetricsStatic: attributes(g.metrics_static_attributes),
    globalTracesStatic: attributes(g.traces_static_attributes),
  };
}

/** Backend-level override: `backend` replaces the service-level backend options. */
export function parseBackendOtel(raw: unknown): BackendLayer | undefined {
  if (!isObject(raw) || !isObject(raw.backend)) return undefined;
  return parseBackendLayer(raw.backend);
}

/** The OTLP resource of Tollgate's spans and metrics (service.name, service.version, deployment.environment). */
export function otlpResourceAttributes(otel: OtelSettings): Record<string, string> {
  const attributes: Record<string, string> = {
    'service.name': otel.serviceName,
    'service.version': otel.serviceVersion,
  };
  if (otel.deployEnv !== '') attributes['deployment.environment'] = otel.deployEnv;
  return attributes;
}

/**
 * Where an `exporters.otlp[]` entry sends, and how. `host` may carry `http://` (plaintext) or
 * `https://` (TLS) — for gRPC too, which KrakenD CE cannot do (krakend-otel #37); no scheme means
 * plaintext. A path in `host` is ignored, as in CE. Default port 4317 for gRPC, 4318 for HTTP.
 */
export interface OtlpEndpoint {
  readonly tls: boolean;
  /** `scheme://host:port` */
  readonly base: string;
}

export function otlpEndpoint(s: Pick<OtlpExporterSettings, 'host' | 'port'>): OtlpEndpoint {
  const m = /^(https?):\/\//i.exec(s.host);
  const tls = m?.[1]?.toLowerCase() === 'https';
  const rest = m === null ? s.host : s.host.slice(m[0].length);
  const hostPort = rest.split('/')[0] ?? rest;
  const u = new URL(`http://${hostPort}`);
  // `host: "collector:4317"` (a port in host) is honoured; otherwise `port` (or its default).
  const port = u.port !== '' ? Number(u.port) : s.port;
  return {
    tls,
    base: `${tls ? 'https' : 'http'}://${u.hostname.includes(':') ? `[${u.hostname}]` : u.hostname}:${port}`,
  };
}
