/**
 * The checks on `telemetry/opentelemetry` the schema cannot express: exporter names unique across
 * both lists, two Prometheus exporters on one port, buckets in increasing order, OTLP hosts and
 * headers that would fail at export, static attributes that become reserved label names.
 */
import { readFileSync } from 'node:fs';
import type { ConfigIssue } from '../issue.js';
import { formatPath, type PathSegment } from '../json-path.js';
import { sanitizeName } from '../label-name.js';
import { arrayAt, isObject, objectAt, type RawObject } from '../raw.js';
import { otlpEndpoint } from './opentelemetry.js';

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
      if (first !== undefined)
        issues.push({ path: at, message: `duplicate exporter name "${e.name}" (also at ${first})` });
      else names.set(e.name, at);
      if (kind === 'prometheus' && e.disable_metrics !== true) {
        const p = typeof e.port === 'number' ? e.port : 9090;
        const ip = typeof e.listen_ip === 'string' ? e.listen_ip : typeof e.host === 'string' ? e.host : '';
        const key = `${ip}:${p}`;
        const portAt = formatPath([...base, 'exporters', kind, i, 'port']);
        const other = ports.get(key);
        if (other !== undefined && p !== 0)
          issues.push({ path: portAt, message: `port ${p} is already used by ${other}` });
        else ports.set(key, portAt);
      }
    });
  }
  arrayAt(exporters, 'otlp').forEach((e, i) => {
    if (isObject(e)) issues.push(...checkOtlpExporter(e, [...base, 'exporters', 'otlp', i]));
  });
  issues.push(...checkStaticKeys(root));
  const histograms = objectAt(ns, 'histograms');
  for (const key of ['time_buckets', 'size_buckets']) {
    const list = arrayAt(histograms, key);
    if (
      list.every((v) => typeof v === 'number') &&
      list.some((v, i) => i > 0 && (v as number) <= (list[i - 1] as number))
    ) {
      issues.push({
        path: formatPath([...base, 'histograms', key]),
        message: 'bucket bounds must be strictly increasing',
      });
    }
  }
  return issues;
}

/** HTTP field names are tokens (RFC 9110 §5.1); gRPC metadata keys are narrower (lower-cased by grpc-js). */
const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const GRPC_KEY = /^[0-9A-Za-z_.-]+$/;
/** gRPC ASCII metadata values are printable ASCII; HTTP field values may not hold CR, LF or NUL. */
const GRPC_VALUE = /^[\x20-\x7e]*$/;
const HTTP_VALUE = /^[^\r\n\0]*$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** What the exporter constructors would otherwise throw on: a host that makes no URL, bad headers, a CA file that cannot be read. */
function checkOtlpExporter(e: RawObject, at: PathSegment[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (typeof e.host === 'string') {
    try {
      otlpEndpoint({ host: e.host, port: typeof e.port === 'number' ? e.port : 4317 });
    } catch {
      issues.push({
        path: formatPath([...at, 'host']),
        message: `"${e.host}" is not a valid host (host, host:port or http(s)://host:port)`,
      });
    }
  }
  const grpc = e.use_http !== true;
  for (const [name, value] of Object.entries(objectAt(e, 'headers'))) {
    const path = formatPath([...at, 'headers', name]);
    if (!(grpc ? GRPC_KEY : HTTP_TOKEN).test(name))
      issues.push({
        path,
        message: grpc
          ? 'a gRPC metadata key may only hold letters, digits, "_", "." and "-"'
          : 'is not a valid HTTP header name',
      });
    // The value is a secret: it is never repeated in the message.
    else if (typeof value === 'string') {
      const binary = grpc && name.toLowerCase().endsWith('-bin');
      const ok = (binary ? BASE64 : grpc ? GRPC_VALUE : HTTP_VALUE).test(value);
      if (!ok)
        issues.push({
          path,
          message: binary
            ? 'a binary (-bin) gRPC metadata value must be base64'
            : grpc
              ? 'a gRPC metadata value must be printable ASCII'
              : 'a header value cannot hold CR, LF or NUL',
        });
    }
  }
  if (typeof e.ca_cert === 'string') {
    try {
      readFileSync(e.ca_cert);
    } catch (err) {
      issues.push({
        path: formatPath([...at, 'ca_cert']),
        message: `cannot read "${e.ca_cert}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      });
    }
  }
  return issues;
}

/**
 * Static attribute keys become label names of every family they apply to, histograms included:
 * `le` would collide with the bucket label and names starting with `__` are reserved (Prometheus
 * data model); promtool and the OpenMetrics parser reject the whole exposition.
 */
function checkStaticKeys(root: RawObject): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const check = (attrs: unknown, at: PathSegment[]): void => {
    const pairs: [string, PathSegment[]][] = Array.isArray(attrs)
      ? attrs.flatMap((a, i): [string, PathSegment[]][] =>
          isObject(a) && typeof a.key === 'string' ? [[a.key, [...at, i, 'key']]] : [],
        )
      : isObject(attrs)
        ? Object.keys(attrs).map((k): [string, PathSegment[]] => [k, [...at, k]])
        : [];
    for (const [key, path] of pairs) {
      const label = sanitizeName(key);
      if (key !== '' && (label === 'le' || label.startsWith('__')))
        issues.push({
          path: formatPath(path),
          message: `"${key}" becomes the label name "${label}", which Prometheus reserves`,
        });
    }
  };
  const layers = (ns: RawObject, at: PathSegment[]): void => {
    check(objectAt(ns, 'global').metrics_static_attributes, [...at, 'global', 'metrics_static_attributes']);
    check(objectAt(ns, 'proxy').metrics_static_attributes, [...at, 'proxy', 'metrics_static_attributes']);
    check(objectAt(objectAt(ns, 'backend'), 'metrics').static_attributes, [
      ...at,
      'backend',
      'metrics',
      'static_attributes',
    ]);
  };
  const OTEL = 'telemetry/opentelemetry';
  layers(objectAt(objectAt(objectAt(root, 'extra_config'), OTEL), 'layers'), ['extra_config', OTEL, 'layers']);
  arrayAt(root, 'endpoints').forEach((ep, i) => {
    if (!isObject(ep)) return;
    layers(objectAt(objectAt(ep, 'extra_config'), OTEL), ['endpoints', i, 'extra_config', OTEL]);
    arrayAt(ep, 'backend').forEach((be, j) => {
      if (isObject(be))
        layers(objectAt(objectAt(be, 'extra_config'), OTEL), ['endpoints', i, 'backend', j, 'extra_config', OTEL]);
    });
  });
  return issues;
}
