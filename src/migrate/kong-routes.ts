/**
 * A Kong route → Tollgate endpoints, one per (path, method). Kong matches `paths` as prefixes and
 * every method when `methods` is empty; Tollgate endpoints are exact paths with one method, and a
 * `/*` endpoint does not pass the rest of the path on, so each path becomes an exact endpoint (noted).
 * Requests are passed through untouched (no-op encoding, every header and query string), as Kong does.
 */
import { formatPath, type PathSegment } from '../config/json-path.js';
import { stringsAt, type RawObject } from '../config/raw.js';
import { parseEndpointPattern } from '../config/endpoint-pattern.js';
import type { KongRoute } from './kong-model.js';
import type { ServiceBackend } from './kong-services.js';
import type { MigrationReport } from './report.js';

type At = readonly PathSegment[];

/** What Kong matches when a route lists no methods (CONNECT and TRACE are left out). */
const ALL_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
const METHODS = new Set([...ALL_METHODS, 'CONNECT', 'TRACE']);
// The built-in paths config/semantics.ts rejects as endpoints.
const RESERVED = /^\/__(debug|echo|health|stats|catchall)(\/.*)?$/;
const MATCHERS = ['hosts', 'headers', 'snis', 'sources', 'destinations'];
const KNOWN = new Set([
  'name',
  'id',
  'paths',
  'methods',
  'strip_path',
  'service',
  'plugins',
  'tags',
  'protocols',
  'created_at',
  'updated_at',
  ...MATCHERS,
]);
const DEFAULTS: Readonly<Record<string, unknown>> = {
  preserve_host: false,
  regex_priority: 0,
  path_handling: 'v0',
  https_redirect_status_code: 426,
  request_buffering: true,
  response_buffering: true,
};

export interface RouteContext {
  readonly backend: ServiceBackend;
  /** Kong's `service` label: the service name, else its host. */
  readonly serviceLabel: string;
  readonly servicePath: string | undefined;
  readonly keyAuth: boolean;
  /** `METHOD shape` → where the first endpoint with it came from (Tollgate rejects a second one). */
  readonly seen: Map<string, string>;
}

export function routeEndpoints(route: KongRoute, ctx: RouteContext, r: MigrationReport): RawObject[] {
  if (!protocolsServed(route, r)) return [];
  noteRouteFields(route, r);
  const methods = methodsOf(route, r);
  const label = route.name ?? route.id;
  if (label === undefined)
    r.note(
      route.at,
      'has no name or id: Kong labelled its metrics with a generated id; Tollgate uses the endpoint path as the route label',
    );
  const strip = route.raw.strip_path !== false;
  const out: RawObject[] = [];
  for (const { path, at } of pathsOf(route, r)) {
    r.note(
      at,
      `"${path}" is matched exactly: Kong also matched every path below it ("${path.replace(/\/$/, '')}/…"); add endpoints for the sub-paths clients call`,
    );
    const pattern = parseEndpointPattern(path);
    if (typeof pattern === 'string') continue;
    for (const method of methods) {
      const key = `${method} ${pattern.shape}`;
      const first = ctx.seen.get(key);
      if (first !== undefined) {
        r.note(
          at,
          `${method} ${path} is already served by ${first}: Kong told them apart by host, header or priority; not carried over`,
        );
        continue;
      }
      ctx.seen.set(key, formatPath(at));
      out.push(endpoint(path, method, urlPattern(ctx.servicePath, path, strip), label, ctx));
    }
  }
  return out;
}

function endpoint(path: string, method: string, url: string, label: string | undefined, ctx: RouteContext): RawObject {
  const backend: RawObject = { host: [...ctx.backend.hosts], url_pattern: url, encoding: 'no-op' };
  if (ctx.backend.healthcheck !== undefined)
    backend.extra_config = { 'backend/healthcheck': structuredClone(ctx.backend.healthcheck) };
  const extra: RawObject = {
    'telemetry/kong-prometheus':
      label === undefined ? { service: ctx.serviceLabel } : { service: ctx.serviceLabel, route: label },
  };
  if (ctx.keyAuth) extra['auth/api-keys'] = {};
  return {
    endpoint: path,
    method,
    timeout: ctx.backend.timeout,
    output_encoding: 'no-op',
    input_headers: ['*'],
    input_query_strings: ['*'],
    backend: [backend],
    extra_config: extra,
  };
}

/**
 * Kong's upstream path (path_handling v0): with strip_path the matched prefix is replaced by the
 * service path; without it the request path is appended to the service path.
 */
export function urlPattern(servicePath: string | undefined, routePath: string, strip: boolean): string {
  const base = servicePath ?? '';
  if (strip) return base === '' ? '/' : base;
  return base.replace(/\/+$/, '') + routePath;
}

function protocolsServed(route: KongRoute, r: MigrationReport): boolean {
  const protocols = stringsAt(route.raw, 'protocols');
  if (protocols === undefined || (protocols.includes('http') && protocols.includes('https'))) return true;
  const at = [...route.at, 'protocols'];
  if (!protocols.includes('http') && !protocols.includes('https')) {
    r.note(at, `${JSON.stringify(protocols)}: the route is not carried over: Tollgate serves HTTP and HTTPS only`);
    return false;
  }
  r.note(
    at,
    `${JSON.stringify(protocols)}: not carried over: Tollgate serves the endpoint on its one listener (plain HTTP unless "tls" is set)`,
  );
  return true;
}

function noteRouteFields(route: KongRoute, r: MigrationReport): void {
  for (const key of MATCHERS) {
    const v = route.raw[key];
    const set = Array.isArray(v) ? v.length > 0 : v !== null && typeof v === 'object' && Object.keys(v).length > 0;
    if (set) r.note([...route.at, key], 'not carried over: Tollgate matches endpoints by path and method only');
  }
  for (const [key, value] of Object.entries(route.raw)) {
    if (KNOWN.has(key) || value === null || value === undefined || key.startsWith('_')) continue;
    if (key in DEFAULTS && DEFAULTS[key] === value) continue;
    r.note(
      [...route.at, key],
      key === 'preserve_host'
        ? "not carried over: the backend gets its own host as Host (X-Forwarded-Host carries the client's)"
        : `${JSON.stringify(value)}: not carried over: Tollgate has no equivalent`,
    );
  }
}

function methodsOf(route: KongRoute, r: MigrationReport): string[] {
  const listed = stringsAt(route.raw, 'methods');
  if (listed === undefined || listed.length === 0) return ALL_METHODS;
  const out: string[] = [];
  listed.forEach((m, i) => {
    const upper = m.toUpperCase();
    if (!METHODS.has(upper))
      r.note(
        [...route.at, 'methods', i],
        `"${m}": not carried over: Tollgate endpoints take standard HTTP methods only`,
      );
    else if (!out.includes(upper)) out.push(upper);
  });
  return out;
}

function pathsOf(route: KongRoute, r: MigrationReport): { path: string; at: At }[] {
  const raw = route.raw.paths;
  if (raw === undefined || raw === null || (Array.isArray(raw) && raw.length === 0)) {
    r.note(route.at, 'has no paths: not carried over (Tollgate matches endpoints by path)');
    return [];
  }
  if (!Array.isArray(raw)) {
    r.invalid([...route.at, 'paths'], 'must be a list of paths');
    return [];
  }
  return raw.flatMap((path, i) => {
    const at = [...route.at, 'paths', i];
    if (typeof path !== 'string') r.invalid(at, 'must be a string');
    else if (path.startsWith('~'))
      r.note(
        at,
        `"${path}": a regex path is not carried over: Tollgate endpoints are literal paths with {param} segments`,
      );
    else if (!path.startsWith('/')) r.invalid(at, 'must start with "/" (or "~" for a regex)');
    else if (/[*?&%{}]/.test(path))
      r.note(at, `"${path}": not carried over: a Tollgate endpoint path cannot hold *, ?, &, %, { or }`);
    else if (RESERVED.test(path)) r.note(at, `"${path}": not carried over: reserved for Tollgate's own endpoints`);
    else return [{ path, at }];
    return [];
  });
}
