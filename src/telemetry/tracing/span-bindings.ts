/**
 * What never changes for a route or a backend, worked out once at start-up: span names, the attributes
 * encoded once (OTLP Span field 9), and which per-request attributes a static attribute replaces.
 *
 * Where a static attribute and a built-in one share a key, the span keeps the one krakend-otel sets
 * last (OTel Go's SetAttributes overwrites by key): on the global span the service's
 * `traces_static_attributes` replace the request attributes and lose to `http.route`, the status and
 * the size, and the endpoint's replace everything (krakend-otel/http/server/traces.go:56-96); on proxy
 * and stage spans statics replace the method and route but not `krakend.stage`
 * (lura/proxy_tracer.go:33-35); on client spans the request attributes win (http/client/transport_traces.go:97-98).
 */
import type { Attributes as OtelAttributes } from '@opentelemetry/api';
import type { BackendRoute, CompiledRoute } from '../../backends/backend-route.js';
import type {
  Attributes,
  BackendLayerOptions,
  OtelSettings,
  ProxyLayer,
} from '../../config/namespaces/opentelemetry.js';
import { normalizeUrlPattern } from '../otel/krakend-view.js';
import { stageShapeOf, type StageShape } from '../lura-stage.js';
import { encodeAttributes, spanName } from './span-encoder.js';
import { hostAsWritten, schemeOf } from './span-values.js';

/** Request attributes of the global span, as bits: set when a static attribute replaces them. */
export const enum G {
  UrlFull = 1,
  ServerAddress = 2,
  Method = 4,
  RequestSize = 8,
  UserAgent = 16,
  ClientAddress = 32,
  Status = 64,
  ResponseSize = 128,
}

/** Keys krakend-otel sets when a request starts, before the service's static attributes. */
const GLOBAL_START: readonly (readonly [string, G])[] = [
  ['url.full', G.UrlFull],
  ['server.address', G.ServerAddress],
  ['http.request.method', G.Method],
  ['http.request.body.size', G.RequestSize],
  ['user_agent.original', G.UserAgent],
  ['client.address', G.ClientAddress],
];
/** Keys set when it ends, after the service's static attributes and before the endpoint's. */
const GLOBAL_END: readonly (readonly [string, G])[] = [
  ['http.response.status_code', G.Status],
  ['http.response.body.size', G.ResponseSize],
];
const STAGE_END = ['http.response.status_code', 'complete', 'error', 'canceled'];
const CLIENT_PER_REQUEST = [
  'url.full',
  'server.address',
  'http.request.body.size',
  'user_agent.original',
  'http.response.status_code',
  'http.response.body.size',
  'response-duration',
  'get-conn-duration',
  'dns-duration',
  'tls-duration',
];
const READ_END = ['http.client.response.read.size', 'http.client.response.read.time'];

export interface TargetBinding {
  /** `scheme://host[:port]` as written in `host`, the start of `url.full`. */
  readonly urlPrefix: string;
  readonly serverAddress: string;
}

export interface BackendBinding extends StageShape {
  readonly spanName: Buffer;
  readonly method: string;
  readonly options: BackendLayerOptions;
  readonly clientSpan: boolean;
  readonly skip: ReadonlySet<string>;
  readonly targets: readonly TargetBinding[];
  readonly stageFixed: Buffer;
  readonly clientFixed: Buffer;
  readonly readFixed: Buffer;
}

export interface RouteBinding {
  readonly spanName: Buffer;
  readonly skipped: boolean;
  readonly globalFixed: Buffer;
  /** G bits of the request attributes a static attribute replaces. */
  readonly globalMask: number;
  readonly proxy: ProxyLayer;
  readonly proxySkip: ReadonlySet<string>;
  readonly proxyFixed: Buffer;
  readonly backends: readonly BackendBinding[];
}

export interface UnmatchedBinding {
  readonly fixed: Buffer;
  readonly mask: number;
}

const lower = (names: readonly string[]): ReadonlySet<string> => new Set(names.map((h) => h.toLowerCase()));

/** The attributes, minus the keys written per request (which win), encoded as Span field 9. */
function fixed(attrs: OtelAttributes, perRequest: readonly string[]): Buffer {
  const a = { ...attrs };
  for (const k of perRequest) delete a[k];
  return encodeAttributes(9, a);
}

function mask(keys: readonly (readonly [string, G])[], statics: Attributes): number {
  let m = 0;
  for (const [k, bit] of keys) if (statics.some(([s]) => s === k)) m |= bit;
  return m;
}

const attrs = (pairs: Attributes): Record<string, string> => Object.fromEntries(pairs);

/** The global span of a request no endpoint matched: only the service's static attributes apply. */
export function unmatchedBinding(settings: OtelSettings, scheme: string): UnmatchedBinding {
  const service = settings.global.tracesStatic;
  const base = { 'url.scheme': scheme, 'krakend.stage': 'global', ...attrs(service) };
  return {
    fixed: fixed(base, ['http.route', ...GLOBAL_END.map(([k]) => k)]),
    mask: mask(GLOBAL_START, service),
  };
}

function targetBindings(hosts: readonly string[]): TargetBinding[] {
  // The same entries, in the same order, as backends/balancer.ts resolveTargets keeps.
  return hosts
    .filter((h) => /^https?:\/\//i.test(h))
    .map((h) => ({ urlPrefix: schemeOf(h) + hostAsWritten(h), serverAddress: hostAsWritten(h) }));
}

function backendBinding(route: string, method: string, b: BackendRoute, id: number): BackendBinding {
  if (b.otel === undefined) throw new TypeError(`route ${id} was compiled without telemetry/opentelemetry`);
  const options = b.otel.traces;
  const name = normalizeUrlPattern(b.config.urlPattern);
  const base = {
    'http.request.method': b.config.method,
    'http.route': name,
    'krakend.endpoint.route': route,
    'krakend.endpoint.method': method,
  };
  const statics = attrs(options.staticAttributes);
  const request = { ...base, 'krakend.stage': 'backend-request', ...statics };
  return {
    ...stageShapeOf(b.config),
    spanName: spanName(name),
    method: b.config.method,
    options,
    clientSpan: options.roundTrip || options.readPayload,
    skip: lower(options.skipHeaders),
    targets: targetBindings(b.config.hosts),
    stageFixed: fixed({ ...base, ...statics, 'krakend.stage': 'backend' }, STAGE_END),
    // Go sets the request method again with the request attributes, after the statics.
    clientFixed: fixed({ ...request, 'http.request.method': b.config.method }, CLIENT_PER_REQUEST),
    readFixed: fixed(request, READ_END),
  };
}

export function routeBinding(settings: OtelSettings, r: CompiledRoute, scheme: string): RouteBinding {
  const layers = r.otel;
  if (layers === undefined) throw new TypeError(`route ${r.id} was compiled without telemetry/opentelemetry`);
  const route = r.pattern.normalized;
  const proxy = layers.proxy;
  const service = settings.global.tracesStatic;
  // The route's list is the service's followed by the endpoint's own (routing/route.ts).
  const endpoint = layers.globalTracesStatic.slice(service.length);
  const global = { 'url.scheme': scheme, 'krakend.stage': 'global', ...attrs(service) };
  const endWins = GLOBAL_END.filter(([k]) => !endpoint.some(([s]) => s === k)).map(([k]) => k);
  return {
    spanName: spanName(route),
    skipped: layers.skipped,
    globalFixed: fixed({ ...global, 'http.route': route, ...attrs(endpoint) }, endWins),
    globalMask: mask(GLOBAL_START, [...service, ...endpoint]) | mask(GLOBAL_END, endpoint),
    proxy,
    proxySkip: lower(proxy.skipHeaders),
    proxyFixed: fixed(
      { 'http.request.method': r.method, 'http.route': route, ...attrs(proxy.tracesStatic), 'krakend.stage': 'proxy' },
      STAGE_END,
    ),
    backends: r.backends.map((b) => backendBinding(route, r.method, b, r.id)),
  };
}
