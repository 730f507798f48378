/**
 * Schema of `telemetry/opentelemetry` at its three scopes (krakend-schema v2.13
 * telemetry/opentelemetry*.json), and the checks the schema cannot express: exporter names unique
 * across both lists, two Prometheus exporters on one port, buckets in increasing order.
 */
import type { ConfigIssue } from '../validate.js';
import { formatPath, type PathSegment } from '../json-path.js';
import { arrayAt, isObject, objectAt, type RawObject } from '../raw.js';

const bool = { type: 'boolean' } as const;
const stringList = { type: 'array', items: { type: 'string' } } as const;
// `[{key, value}]` as documented; the `{key: value}` map of pre-release krakend-otel examples is
// accepted too, so those configs keep loading.
const attributes = {
  anyOf: [
    { type: 'array', items: { type: 'object', required: ['key', 'value'], properties: { key: { type: 'string' }, value: { type: 'string' } } } },
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
    metrics_static_attributes: attributes,
    traces_static_attributes: attributes,
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
    metrics_static_attributes: attributes,
    traces_static_attributes: attributes,
  },
} as const;

const backendMetrics = {
  type: 'object',
  properties: { disable_stage: bool, round_trip: bool, read_payload: bool, detailed_connection: bool, static_attributes: attributes },
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
    skip_paths: stringList,
    propagators: { type: 'array', items: { type: 'string', enum: ['tracecontext', 'baggage', 'b3', 'b3multi', 'jaeger', 'none'] } },
    histograms: { type: 'object', properties: { time_buckets: buckets, size_buckets: buckets } },
    exporters: {
      type: 'object',
      minProperties: 1,
      properties: { prometheus: { type: 'array', minItems: 1, items: prometheusExporter }, otlp: { type: 'array', minItems: 1, items: otlpExporter } },
    },
    layers: { type: 'object', properties: { global: globalLayer, proxy: proxyLayer, backend: backendLayer } },
  },
} as const;

export const OTEL_ENDPOINT_SCHEMA = {
  type: 'object',
  properties: {
    proxy: proxyLayer,
    global: { type: 'object', properties: { metrics_static_attributes: attributes, traces_static_attributes: attributes } },
  },
} as const;

export const OTEL_BACKEND_SCHEMA = { type: 'object', properties: { backend: backendLayer } } as const;

/** Keys read by Tollgate at each level of the namespace; the rest goes to the ignored-settings warning. */
export const OTEL_KEYS = new Set([...Object.keys(OTEL_ROOT_SCHEMA.properties), ...Object.keys(OTEL_ENDPOINT_SCHEMA.properties), ...Object.keys(OTEL_BACKEND_SCHEMA.properties)]);

export function checkOtel(root: RawObject): ConfigIssue[] {
  const ns = objectAt(objectAt(root, 'extra_config'), 'telemetry/opentelemetry');
  const base: PathSegment[] = ['extra_config', 'telemetry/opentelemetry'];
  const issues: ConfigIssue[] = [];
  const names = new Map<string, string>();
  const ports = new Map<string, string>();
  const exporters = objectAt(ns, 'exporters');
  for (const kind of ['prometheus', 'otlp'] as const) {
    arrayAt(exporters, kind).forEach((e, i) => {
      if (!isObject(e) || typeof e.name !== 'string') return;
      const at = formatPath([...base, 'exporters', kind, i, 'name']);
      const first = names.get(e.name);
      if (first !== undefined) issues.push({ path: at, message: `duplicate exporter name "${e.name}" (also at ${first})` });
      else names.set(e.name, at);
      if (kind === 'prometheus' && e.disable_metrics !== true) {
        const p = typeof e.port === 'number' ? e.port : 9090;
        const ip = typeof e.listen_ip === 'string' ? e.listen_ip : typeof e.host === 'string' ? e.host : '';
        const key = `${ip}:${p}`;
        const portAt = formatPath([...base, 'exporters', kind, i, 'port']);
        const other = ports.get(key);
        if (other !== undefined && p !== 0) issues.push({ path: portAt, message: `port ${p} is already used by ${other}` });
        else ports.set(key, portAt);
      }
    });
  }
  const histograms = objectAt(ns, 'histograms');
  for (const key of ['time_buckets', 'size_buckets']) {
    const list = arrayAt(histograms, key);
    if (list.every((v) => typeof v === 'number') && list.some((v, i) => i > 0 && (v as number) <= (list[i - 1] as number))) {
      issues.push({ path: formatPath([...base, 'histograms', key]), message: 'bucket bounds must be strictly increasing' });
    }
  }
  return issues;
}
