/**
 * OpenCensus exporters (https://www.krakend.io/docs/telemetry/opencensus/) → OpenTelemetry exporters
 * (https://www.krakend.io/docs/telemetry/opentelemetry/; docs/migrate.md). Prometheus follows
 * KrakenD's documented rules (object → array item, `namespace` → `name`, `tag_*` dropped); Datadog is
 * renamed to an OTLP entry as datadog.md says. Of the others, only those whose destination receives
 * OTLP itself become `otlp[]` entries (Jaeger ≥ 1.35, an OpenCensus agent that is an OpenTelemetry
 * Collector); Zipkin, X-Ray, Stackdriver and the logger have no OTLP endpoint at their address, so they
 * are reported, not guessed. InfluxDB keeps its database through `telemetry/influx`.
 */
import type { PathSegment } from '../config/json-path.js';
import { isCommentKey, isObject, stringAt, type RawObject } from '../config/raw.js';
import { hostOf, isCount, isPort, noteUnused } from './fields.js';
import type { MigrationReport } from './report.js';

export interface ServiceNameCandidate {
  readonly name: string;
  readonly at: readonly PathSegment[];
}

export interface ExporterOutcome {
  readonly prometheus: RawObject[];
  readonly otlp: RawObject[];
  /** `telemetry/influx` settings, when the influxdb exporter could be carried over. */
  readonly influx: RawObject | undefined;
  readonly serviceNames: ServiceNameCandidate[];
}

const OTLP_GRPC_PORT = 4317;
const TAGS = ['tag_host', 'tag_path', 'tag_method', 'tag_statuscode'];
// go.opencensus.io/stats/view: views are reported every 10 s unless reporting_period says otherwise.
const OPENCENSUS_DEFAULT_PERIOD_S = 10;

const VIA_COLLECTOR: Readonly<Record<string, string>> = {
  zipkin:
    'Zipkin does not receive OTLP; send through an OpenTelemetry Collector with a zipkin exporter and list the collector under exporters.otlp',
  xray: 'AWS X-Ray does not receive OTLP; send through an OpenTelemetry Collector with the awsxray exporter and list the collector under exporters.otlp',
  stackdriver:
    'Google Cloud does not receive OTLP from the gateway here; send through an OpenTelemetry Collector with the googlecloud exporter and list the collector under exporters.otlp',
  logger: 'Tollgate does not write metrics or spans to its log',
};

export function convertExporters(
  raw: unknown,
  at: readonly PathSegment[],
  reportingPeriodS: number | undefined,
  r: MigrationReport,
): ExporterOutcome {
  const out: ExporterOutcome = { prometheus: [], otlp: [], influx: undefined, serviceNames: [] };
  if (raw === undefined) return out;
  if (!isObject(raw)) {
    r.invalid(at, 'must be an object of exporters');
    return out;
  }
  let influx: RawObject | undefined;
  for (const [kind, value] of Object.entries(raw)) {
    const where = [...at, kind];
    if (isCommentKey(kind)) continue;
    if (!isObject(value)) {
      r.invalid(where, 'must be an object');
      continue;
    }
    switch (kind) {
      case 'prometheus':
        out.prometheus.push(prometheus(value, where, r));
        break;
      case 'jaeger':
      case 'datadog':
      case 'ocagent': {
        const entry =
          kind === 'jaeger'
            ? jaeger(value, where, r)
            : kind === 'datadog'
              ? datadog(value, where, r)
              : ocagent(value, where, r);
        if (entry === undefined) break;
        out.otlp.push(entry);
        // OpenTelemetry has one service.name for every exporter; these exporters each named one.
        const key = kind === 'datadog' ? 'service' : 'service_name';
        const name = stringAt(value, key);
        if (name !== undefined && name !== '') out.serviceNames.push({ name, at: [...where, key] });
        break;
      }
      case 'influxdb':
        influx = influxdb(value, where, reportingPeriodS, r);
        break;
      default:
        r.note(where, `not carried over: ${VIA_COLLECTOR[kind] ?? 'unknown exporter, no OpenTelemetry equivalent'}`);
    }
  }
  return { ...out, influx };
}

function prometheus(raw: RawObject, at: readonly PathSegment[], r: MigrationReport): RawObject {
  const namespace = stringAt(raw, 'namespace');
  const out: RawObject = { name: namespace !== undefined && namespace !== '' ? namespace : 'prometheus' };
  if (raw.port === undefined)
    r.note([...at, 'port'], 'not set: the exporter listens on the OpenTelemetry default port 9090');
  else if (!isPort(raw.port)) r.invalid([...at, 'port'], 'must be a port number (0-65535)');
  else out.port = raw.port;
  for (const tag of TAGS) {
    if (tag in raw)
      r.note(
        [...at, tag],
        'dropped: OpenTelemetry metrics carry their own labels (route pattern, method, status code), never the raw path',
      );
  }
  noteUnused(raw, ['namespace', 'port', ...TAGS], at, r);
  r.note(
    at,
    'listens on 127.0.0.1 in Tollgate unless "listen_ip" is set (OpenCensus listened on every interface): add "listen_ip": "0.0.0.0" if Prometheus scrapes from another host',
  );
  r.note(
    at,
    'metric names change: the OpenCensus views (<namespace>_opencensus_io_http_server_latency, …) become OpenTelemetry families (http_server_duration, krakend_proxy_duration, krakend_backend_duration, …; docs/metrics.md): update dashboards and alerts',
  );
  return out;
}

function jaeger(raw: RawObject, at: readonly PathSegment[], r: MigrationReport): RawObject | undefined {
  const from = stringAt(raw, 'endpoint') ?? stringAt(raw, 'agent_endpoint');
  const host = hostOf(raw.endpoint) ?? hostOf(raw.agent_endpoint);
  if (host === undefined) {
    r.note(at, 'not carried over: neither "endpoint" nor "agent_endpoint" names the Jaeger host');
    return undefined;
  }
  r.note(
    at,
    `now OTLP/gRPC to ${host}:${OTLP_GRPC_PORT}, traces only: Jaeger ≥ 1.35 receives OTLP itself (${from ?? ''} is no longer used)`,
  );
  noteUnused(raw, ['endpoint', 'agent_endpoint', 'service_name'], at, r);
  // Jaeger's OTLP receiver takes spans only: metrics pushed there would fail on every period.
  return { name: 'jaeger', host, port: OTLP_GRPC_PORT, disable_metrics: true };
}

function datadog(raw: RawObject, at: readonly PathSegment[], r: MigrationReport): RawObject {
  const namespace = stringAt(raw, 'namespace');
  const host = hostOf(raw.trace_address) ?? hostOf(raw.stats_address) ?? 'localhost';
  r.note(
    at,
    `now OTLP/gRPC to ${host}:${OTLP_GRPC_PORT} (metrics and traces): enable OTLP ingestion on the Datadog Agent (otlp_config.receiver.protocols.grpc)`,
  );
  for (const key of ['trace_address', 'stats_address']) {
    if (key in raw) r.note([...at, key], `dropped: the Agent's OTLP receiver (port ${OTLP_GRPC_PORT}) replaces it`);
  }
  noteUnused(
    raw,
    ['namespace', 'service', 'trace_address', 'stats_address'],
    at,
    r,
    'dropped: no OTLP equivalent (set it on the Datadog Agent)',
  );
  return { name: namespace !== undefined && namespace !== '' ? namespace : 'datadog', host, port: OTLP_GRPC_PORT };
}

function ocagent(raw: RawObject, at: readonly PathSegment[], r: MigrationReport): RawObject | undefined {
  const host = hostOf(raw.address);
  if (host === undefined) {
    r.note(at, 'not carried over: "address" does not name the agent host');
    return undefined;
  }
  // ocagent dials TLS unless `insecure` is set; Tollgate sends OTLP/gRPC over TLS for an https:// host.
  const tls = raw.insecure !== true;
  r.note(
    at,
    `now OTLP/gRPC${tls ? ' over TLS' : ''} to ${host}:${OTLP_GRPC_PORT} (metrics and traces): the collector at ${String(raw.address)} needs an OTLP receiver`,
  );
  const out: RawObject = { name: 'ocagent', host: tls ? `https://${host}` : host, port: OTLP_GRPC_PORT };
  if (isObject(raw.headers)) {
    const headers = Object.fromEntries(
      Object.entries(raw.headers).filter((kv): kv is [string, string] => typeof kv[1] === 'string'),
    );
    if (Object.keys(headers).length > 0) out.headers = headers;
  }
  noteUnused(raw, ['address', 'service_name', 'insecure', 'headers'], at, r);
  return out;
}

function influxdb(
  raw: RawObject,
  at: readonly PathSegment[],
  reportingPeriodS: number | undefined,
  r: MigrationReport,
): RawObject | undefined {
  const address = stringAt(raw, 'address');
  if (address === undefined || !/^https?:\/\//i.test(address)) {
    r.invalid([...at, 'address'], 'must be the InfluxDB URL (http:// or https://)');
    return undefined;
  }
  const period =
    reportingPeriodS !== undefined && reportingPeriodS > 0 ? reportingPeriodS : OPENCENSUS_DEFAULT_PERIOD_S;
  const out: RawObject = { address, ttl: `${period}s` };
  for (const key of ['db', 'username', 'password']) {
    const v = stringAt(raw, key);
    if (v !== undefined) out[key] = v;
  }
  if (raw.buffer_size !== undefined) {
    if (isCount(raw.buffer_size)) out.buffer_size = raw.buffer_size;
    else r.invalid([...at, 'buffer_size'], 'must be a whole number');
  }
  r.note(
    at,
    "carried over as telemetry/influx (collected by telemetry/metrics): InfluxDB now receives KrakenD's requests, responses and router measurements (docs/stats.md), not the OpenCensus views",
  );
  noteUnused(raw, ['address', 'db', 'username', 'password', 'buffer_size'], at, r);
  return out;
}
