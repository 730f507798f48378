/**
 * Raw (validated) KrakenD file → GatewayConfig: KrakenD's defaults applied with `??` (so `0` and `""`
 * survive), names canonicalised, encodings resolved. Warnings collect the settings Tollgate runs in a
 * degraded form (an encoding it serves as JSON, say), next to the ignored ones.
 */
import { availableParallelism } from 'node:os';
import { parseDuration, timerMs } from './duration.js';
import { readEnvironment, type Environment } from './environment.js';
import { formatPath } from './json-path.js';
import { arrayAt, isObject, objectAt, stringAt, stringsAt, type RawObject } from './raw.js';
import { parseBackendOtel, parseEndpointOtel, parseOtelSettings } from './namespaces/opentelemetry.js';
import { VERSION } from '../version.js';
import { parseStatsSettings } from './namespaces/metrics.js';
import { parseDashboardSettings } from './namespaces/dashboard.js';
import { parseInfluxSettings } from './namespaces/influx.js';
import { parseKongEndpoint, parseKongSettings } from './namespaces/kong.js';
import { parseApiKeys, parseEndpointAuth } from './namespaces/api-keys.js';
import { parseHealthSettings } from './namespaces/healthcheck.js';
import { BACKEND_HTTP, parseBackendErrorReturn } from './namespaces/backend-http.js';
import { BACKEND_HTTP_CLIENT, followsRedirects } from './namespaces/backend-http-client.js';
import { parseRouterSettings } from './namespaces/router.js';
import { TOLLGATE_NAMESPACE } from './namespaces/tollgate.js';
import type {
  BackendConfig,
  Encoding,
  EndpointConfig,
  ForwardRule,
  GatewayConfig,
  ServerTimeouts,
  TlsConfig,
} from './types.js';
import type { OtelSettings } from './namespaces/opentelemetry.js';

const DEFAULT_TIMEOUT_MS = 2000;
const DEFAULT_MAX_BUFFERED_BODY = 10 * 1024 * 1024;
const DEFAULT_READ_HEADER_TIMEOUT_MS = 60_000;

/** `env`: the process environment, read here once (environment.ts); its warnings join `warnings`. */
export function normalizeConfig(
  root: RawObject,
  warnings: string[],
  env: NodeJS.ProcessEnv = process.env,
): GatewayConfig {
  const { environment, warnings: environmentWarnings } = readEnvironment(env);
  const timeoutMs = timerMs(durationOr(stringAt(root, 'timeout'), DEFAULT_TIMEOUT_MS));
  const rootHosts = stringsAt(root, 'host') ?? [];
  const rootEncoding = stringAt(root, 'output_encoding') ?? 'json';
  const router = objectAt(objectAt(root, 'extra_config'), 'router');
  const endpoints = arrayAt(root, 'endpoints')
    .filter(isObject)
    .map((ep, i) =>
      normalizeEndpoint(
        ep,
        i,
        { timeoutMs, rootHosts, rootEncoding, rootCacheTtl: stringAt(root, 'cache_ttl') },
        warnings,
      ),
    );
  return {
    version: 3,
    name: stringAt(root, 'name') ?? '',
    port: typeof root.port === 'number' ? root.port : 8080,
    listenIp: stringAt(root, 'listen_ip') ?? '',
    timeoutMs,
    outputEncoding: outputEncoding(rootEncoding, 'output_encoding', warnings),
    debugEndpoint: root.debug_endpoint === true,
    echoEndpoint: root.echo_endpoint === true,
    healthPath: router.disable_health === true ? undefined : (stringAt(router, 'health_path') ?? '/__health'),
    router: parseRouterSettings(router, objectAt(root, 'extra_config')[TOLLGATE_NAMESPACE]),
    tls: normalizeTls(root.tls),
    maxBufferedBody: typeof root.max_buffered_body === 'number' ? root.max_buffered_body : DEFAULT_MAX_BUFFERED_BODY,
    workers: resolveWorkers(root.workers),
    serverTimeouts: serverTimeouts(root),
    endpoints,
    otel: otelSettings(root, environment, environmentWarnings, warnings),
    ...statsAndInflux(objectAt(root, 'extra_config'), warnings),
    kong: isObject(objectAt(root, 'extra_config')[KONG])
      ? parseKongSettings(objectAt(objectAt(root, 'extra_config'), KONG), environment)
      : undefined,
    dashboard: isObject(objectAt(root, 'extra_config')[DASHBOARD])
      ? parseDashboardSettings(objectAt(objectAt(root, 'extra_config'), DASHBOARD))
      : undefined,
    apiKeys: isObject(objectAt(root, 'extra_config')[API_KEYS])
      ? parseApiKeys(objectAt(objectAt(root, 'extra_config'), API_KEYS))
      : undefined,
    extraConfig: objectAt(root, 'extra_config'),
  };
}

/**
 * `telemetry/opentelemetry`, with the environment's propagators and span batcher settings. The
 * `OTEL_BSP_*` warnings are reported only when spans are exported, the only time the batcher runs.
 */
function otelSettings(
  root: RawObject,
  environment: Environment,
  environmentWarnings: readonly string[],
  warnings: string[],
): OtelSettings | undefined {
  const raw = objectAt(root, 'extra_config')[OTEL];
  if (!isObject(raw)) return undefined;
  const otel = parseOtelSettings(raw, stringAt(root, 'name') ?? '', VERSION, environment);
  if (otel.otlp.some((e) => !e.disableTraces)) warnings.push(...environmentWarnings);
  return otel;
}

/**
 * `"auto"` is one worker per core; without the field, one process on machines with 2 cores or fewer
 * (a second worker there competes with the primary and the OS for the same cores and buys little),
 * one per core above that.
 */
export function resolveWorkers(raw: unknown, cores = availableParallelism()): number {
  if (typeof raw === 'number') return raw;
  if (raw === 'auto') return cores;
  return cores <= 2 ? 1 : cores;
}

/**
 * KrakenD's keys and Go's http.Server rules (github.com/luraproject/lura/blob/master/config/config.go,
 * ReadHeaderTimeout/IdleTimeout): a zero `read_header_timeout` takes `read_timeout`, a zero
 * `idle_timeout` takes `read_timeout`, then `read_header_timeout`. One default differs: KrakenD leaves
 * `read_header_timeout` at 0 (no limit), so a client that never finishes its headers holds a socket for
 * ever; Tollgate uses 60 s, nginx's `client_header_timeout`.
 */
function serverTimeouts(root: RawObject): ServerTimeouts {
  const readMs = timerMs(durationOr(stringAt(root, 'read_timeout'), 0));
  const header = timerMs(durationOr(stringAt(root, 'read_header_timeout'), DEFAULT_READ_HEADER_TIMEOUT_MS));
  const readHeaderMs = header === 0 ? readMs : header;
  const idle = timerMs(durationOr(stringAt(root, 'idle_timeout'), 0));
  return { readHeaderMs, readMs, idleMs: idle !== 0 ? idle : readMs !== 0 ? readMs : readHeaderMs };
}

const OTEL = 'telemetry/opentelemetry';
const KONG = 'telemetry/kong-prometheus';
const DASHBOARD = 'telemetry/dashboard';
const API_KEYS = 'auth/api-keys';

function statsAndInflux(extra: RawObject, warnings: string[]): Pick<GatewayConfig, 'stats' | 'influx'> {
  const metrics = extra['telemetry/metrics'];
  const influx = isObject(extra['telemetry/influx']) ? parseInfluxSettings(extra['telemetry/influx']) : undefined;
  let stats = isObject(metrics) ? parseStatsSettings(metrics) : undefined;
  if (influx !== undefined && stats === undefined) {
    // krakend-influx pushes what krakend-metrics collects; without it KrakenD pushes nothing.
    warnings.push(
      'extra_config["telemetry/influx"] needs "telemetry/metrics" to collect data: collecting with its defaults, without the /__stats listener',
    );
    stats = { ...parseStatsSettings({}), endpointDisabled: true };
  }
  return { stats, influx };
}

interface Inherited {
  readonly timeoutMs: number;
  readonly rootHosts: readonly string[];
  readonly rootEncoding: string;
  readonly rootCacheTtl: string | undefined;
}

function normalizeEndpoint(ep: RawObject, index: number, inh: Inherited, warnings: string[]): EndpointConfig {
  const method = (stringAt(ep, 'method') ?? 'GET').toUpperCase();
  const encoding = outputEncoding(
    stringAt(ep, 'output_encoding') ?? inh.rootEncoding,
    formatPath(['endpoints', index, 'output_encoding']),
    warnings,
  );
  const cacheTtl = stringAt(ep, 'cache_ttl') ?? inh.rootCacheTtl;
  const backends = arrayAt(ep, 'backend')
    .filter(isObject)
    .map((be, j) =>
      normalizeBackend(
        be,
        j,
        { method, encoding, rootHosts: inh.rootHosts, at: ['endpoints', index, 'backend', j] },
        warnings,
      ),
    );
  return {
    index,
    path: stringAt(ep, 'endpoint') ?? '/',
    method,
    timeoutMs: timerMs(durationOr(stringAt(ep, 'timeout'), inh.timeoutMs)),
    outputEncoding: encoding,
    cacheTtlSeconds: cacheTtl === undefined ? undefined : Math.floor(durationOr(cacheTtl, 0) / 1000),
    inputHeaders: headerRule(stringsAt(ep, 'input_headers')) ?? new Set<string>(),
    inputQueryStrings: queryRule(stringsAt(ep, 'input_query_strings')) ?? new Set<string>(),
    backends,
    otel: parseEndpointOtel(objectAt(ep, 'extra_config')[OTEL]),
    kong: parseKongEndpoint(objectAt(ep, 'extra_config')[KONG]),
    auth: parseEndpointAuth(objectAt(ep, 'extra_config')[API_KEYS]),
    extraConfig: objectAt(ep, 'extra_config'),
  };
}

interface BackendContext {
  readonly method: string;
  readonly encoding: Encoding;
  readonly rootHosts: readonly string[];
  readonly at: (string | number)[];
}

function normalizeBackend(be: RawObject, index: number, ctx: BackendContext, warnings: string[]): BackendConfig {
  const sanitize = be.disable_host_sanitize !== true;
  const hosts = (stringsAt(be, 'host') ?? ctx.rootHosts).map((h) => sanitizeHost(h, sanitize));
  const mapping: Record<string, string> = {};
  for (const [k, v] of Object.entries(objectAt(be, 'mapping'))) if (typeof v === 'string') mapping[k] = v;
  const group = stringAt(be, 'group');
  const target = stringAt(be, 'target');
  return {
    index,
    hosts,
    urlPattern: stringAt(be, 'url_pattern') ?? '/',
    method: (stringAt(be, 'method') ?? ctx.method).toUpperCase(),
    encoding:
      ctx.encoding === 'no-op'
        ? 'no-op'
        : backendEncoding(stringAt(be, 'encoding') ?? 'json', formatPath([...ctx.at, 'encoding']), warnings),
    group: group === '' ? undefined : group,
    target: target === '' ? undefined : target,
    mapping,
    allow: stringsAt(be, 'allow') ?? [],
    deny: stringsAt(be, 'deny') ?? [],
    isCollection: be.is_collection === true,
    inputHeaders: headerRule(stringsAt(be, 'input_headers')),
    inputQueryStrings: queryRule(stringsAt(be, 'input_query_strings')),
    otel: parseBackendOtel(objectAt(be, 'extra_config')[OTEL]),
    health: parseHealthSettings(objectAt(be, 'extra_config')['backend/healthcheck']),
    errorReturn: parseBackendErrorReturn(objectAt(be, 'extra_config')[BACKEND_HTTP]),
    followRedirects: followsRedirects(objectAt(be, 'extra_config')[BACKEND_HTTP_CLIENT]),
    extraConfig: objectAt(be, 'extra_config'),
  };
}

function sanitizeHost(host: string, sanitize: boolean): string {
  const withScheme = sanitize && !/^[a-z][a-z0-9+.-]*:\/\//i.test(host) ? `http://${host}` : host;
  return withScheme.replace(/\/+$/, '');
}

function headerRule(list: string[] | undefined): ForwardRule | undefined {
  if (list === undefined) return undefined;
  return list.includes('*') ? '*' : new Set(list.map((h) => h.toLowerCase()));
}

function queryRule(list: string[] | undefined): ForwardRule | undefined {
  if (list === undefined) return undefined;
  return list.includes('*') ? '*' : new Set(list);
}

function outputEncoding(value: string, at: string, warnings: string[]): Encoding {
  switch (value) {
    case 'json':
    case 'fast-json':
      return 'json';
    case 'no-op':
    case 'string':
    case 'json-collection':
    case 'yaml':
      return value;
    default:
      warnings.push(`${at}: output encoding "${value}" is not supported yet and is served as JSON`);
      return 'json';
  }
}

function backendEncoding(value: string, at: string, warnings: string[]): Encoding {
  switch (value) {
    case 'json':
    case 'fast-json':
      return 'json';
    case 'safejson':
    case 'string':
      return value;
    case 'no-op':
      warnings.push(
        `${at}: "no-op" backend encoding needs an endpoint with output_encoding "no-op"; the response is decoded as JSON`,
      );
      return 'json';
    default:
      warnings.push(
        `${at}: backend encoding "${value}" is not supported yet; the body is passed as {"content": "<text>"}`,
      );
      return 'string';
  }
}

function durationOr(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  return parseDuration(text) ?? fallback;
}

function normalizeTls(raw: unknown): TlsConfig | undefined {
  if (!isObject(raw) || raw.disabled === true) return undefined;
  const keys = arrayAt(raw, 'keys')
    .filter(isObject)
    .map((k) => ({ publicKey: stringAt(k, 'public_key') ?? '', privateKey: stringAt(k, 'private_key') ?? '' }));
  const pub = stringAt(raw, 'public_key');
  const priv = stringAt(raw, 'private_key');
  if (pub !== undefined && priv !== undefined) keys.unshift({ publicKey: pub, privateKey: priv });
  if (keys.length === 0) return undefined;
  return {
    keys,
    minVersion: tlsVersion(stringAt(raw, 'min_version') ?? 'TLS13'),
    maxVersion: tlsVersion(stringAt(raw, 'max_version') ?? 'TLS13'),
    enableMtls: raw.enable_mtls === true,
    caCerts: stringsAt(raw, 'ca_certs') ?? [],
  };
}

function tlsVersion(v: string): TlsConfig['minVersion'] {
  switch (v) {
    case 'SSL3.0':
    case 'TLS10':
      return 'TLSv1';
    case 'TLS11':
      return 'TLSv1.1';
    case 'TLS12':
      return 'TLSv1.2';
    default:
      return 'TLSv1.3';
  }
}
