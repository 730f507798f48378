/**
 * A Kong declarative file (`_format_version: "3.0"`, DB-less `kong.yml`) read into its entities:
 * services (with their nested routes and plugins), top-level routes, consumers with key-auth
 * credentials, upstreams with targets, and plugins with their scope resolved. Shape errors (a
 * service without a host, a route pointing at an unknown service…) are input problems; what the
 * migration cannot express is decided later and only noted.
 */
import type { PathSegment } from '../config/json-path.js';
import { isObject, stringAt, type RawObject } from '../config/raw.js';
import { isPort } from './fields.js';
import type { MigrationReport } from './report.js';

type At = readonly PathSegment[];

export interface KongService {
  readonly at: At;
  readonly raw: RawObject;
  readonly name: string | undefined;
  readonly id: string | undefined;
  readonly protocol: string;
  readonly host: string;
  readonly port: number;
  readonly path: string | undefined;
}

export interface KongRoute {
  readonly at: At;
  readonly raw: RawObject;
  readonly name: string | undefined;
  readonly id: string | undefined;
  readonly service: KongService | undefined;
}

export interface KongCredential {
  readonly at: At;
  readonly raw: RawObject;
  readonly key: string | undefined;
}

export interface KongConsumer {
  readonly at: At;
  readonly username: string | undefined;
  readonly customId: string | undefined;
  readonly id: string | undefined;
  readonly credentials: KongCredential[];
}

export interface KongTarget {
  readonly at: At;
  /** `host:port` with Kong's default port (8000) filled in. */
  readonly target: string;
  readonly weight: number;
}

export interface KongUpstream {
  readonly at: At;
  readonly raw: RawObject;
  readonly name: string;
  readonly targets: KongTarget[];
}

export interface KongPlugin {
  readonly at: At;
  readonly name: string;
  readonly enabled: boolean;
  readonly config: RawObject;
  readonly service: KongService | undefined;
  readonly route: KongRoute | undefined;
  /** The consumer reference (username or id) of a consumer-scoped instance. */
  readonly consumer: string | undefined;
}

export interface KongModel {
  readonly services: KongService[];
  readonly routes: KongRoute[];
  readonly consumers: KongConsumer[];
  readonly upstreams: KongUpstream[];
  readonly plugins: KongPlugin[];
}

const ENTITY_KEYS = [
  '_format_version',
  'services',
  'routes',
  'consumers',
  'upstreams',
  'targets',
  'plugins',
  'keyauth_credentials',
];
const OTHER_CREDENTIALS = [
  'basicauth_credentials',
  'jwt_secrets',
  'hmacauth_credentials',
  'oauth2_credentials',
  'mtls_auth_credentials',
  'acls',
];
const DEFAULT_TARGET_PORT = 8000;

/** `service: "name"`, `service: { name }`, `consumer: { username }` or `{ id }` (Kong accepts each). */
function ref(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isObject(v)) return stringAt(v, 'name') ?? stringAt(v, 'username') ?? stringAt(v, 'id');
  return undefined;
}

function list(o: RawObject, key: string, at: At, r: MigrationReport): [RawObject, PathSegment[]][] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    r.invalid([...at, key], 'must be a list');
    return [];
  }
  return v.flatMap((item, i): [RawObject, PathSegment[]][] => {
    if (isObject(item)) return [[item, [...at, key, i]]];
    r.invalid([...at, key, i], 'must be an object');
    return [];
  });
}

export function readKong(input: unknown, r: MigrationReport): KongModel {
  const model: KongModel = { services: [], routes: [], consumers: [], upstreams: [], plugins: [] };
  if (!isObject(input)) {
    r.invalid([], 'must be a Kong declarative configuration (an object with "_format_version")');
    return model;
  }
  const version = input._format_version;
  if (version === undefined) r.invalid(['_format_version'], 'is missing: not a Kong declarative configuration');
  else if (version !== '3.0')
    r.note(['_format_version'], `${JSON.stringify(version)}: read as "3.0" (regex paths must start with "~")`);
  const pending: { raw: RawObject; at: At; service?: KongService; route?: KongRoute; consumer?: string }[] = [];

  for (const [raw, at] of list(input, 'services', [], r)) {
    const service = readService(raw, at, r);
    if (service === undefined) continue;
    model.services.push(service);
    for (const [p, pat] of list(raw, 'plugins', at, r)) pending.push({ raw: p, at: pat, service });
    for (const [rr, rat] of list(raw, 'routes', at, r)) {
      const route = readRoute(rr, rat, service);
      model.routes.push(route);
      for (const [p, pat] of list(rr, 'plugins', rat, r)) pending.push({ raw: p, at: pat, route });
    }
  }
  for (const [rr, rat] of list(input, 'routes', [], r)) {
    const target = ref(rr.service);
    const service = target === undefined ? undefined : findService(model, target);
    if (target !== undefined && service === undefined)
      r.invalid([...rat, 'service'], `refers to an unknown service "${target}"`);
    const route = readRoute(rr, rat, service);
    model.routes.push(route);
    for (const [p, pat] of list(rr, 'plugins', rat, r)) pending.push({ raw: p, at: pat, route });
  }
  readConsumers(input, model, pending, r);
  readUpstreams(input, model, r);
  for (const [p, pat] of list(input, 'plugins', [], r)) pending.push({ raw: p, at: pat });
  for (const p of pending) {
    const plugin = readPlugin(p.raw, p.at, model, p, r);
    if (plugin !== undefined) model.plugins.push(plugin);
  }
  for (const key of Object.keys(input)) {
    if (!ENTITY_KEYS.includes(key) && !key.startsWith('_'))
      r.note([key], 'not carried over: Tollgate has no equivalent');
  }
  return model;
}

function findService(model: KongModel, target: string): KongService | undefined {
  return model.services.find((s) => s.name === target) ?? model.services.find((s) => s.id === target);
}

function readService(raw: RawObject, at: At, r: MigrationReport): KongService | undefined {
  const fields = serviceAddress(raw, at, r);
  if (fields === undefined) return undefined;
  return { at, raw, name: named(stringAt(raw, 'name')), id: named(stringAt(raw, 'id')), ...fields };
}

/** `url` is shorthand for protocol, host, port and path; Kong's defaults are http and port 80. */
function serviceAddress(
  raw: RawObject,
  at: At,
  r: MigrationReport,
): Pick<KongService, 'protocol' | 'host' | 'port' | 'path'> | undefined {
  const url = stringAt(raw, 'url');
  if (url !== undefined) {
    const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)(\/[^?#]*)?/i.exec(url);
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (m === null || parsed === undefined || parsed.hostname === '') {
      r.invalid([...at, 'url'], `"${url}" is not a valid URL`);
      return undefined;
    }
    const protocol = (m[1] as string).toLowerCase();
    const port =
      parsed.port !== ''
        ? Number(parsed.port)
        : protocol === 'https' || protocol === 'grpcs' || protocol === 'tls'
          ? 443
          : 80;
    return { protocol, host: parsed.hostname.replace(/^\[|\]$/g, ''), port, path: m[3] };
  }
  const host = stringAt(raw, 'host');
  if (host === undefined || host === '') {
    r.invalid(at, 'needs "url" or "host"');
    return undefined;
  }
  if (raw.port !== undefined && !isPort(raw.port)) r.invalid([...at, 'port'], 'must be a port number (0-65535)');
  const path = raw.path;
  if (path !== undefined && path !== null && (typeof path !== 'string' || !path.startsWith('/')))
    r.invalid([...at, 'path'], 'must start with "/"');
  return {
    protocol: (stringAt(raw, 'protocol') ?? 'http').toLowerCase(),
    host,
    port: isPort(raw.port) ? raw.port : 80,
    path: typeof path === 'string' ? path : undefined,
  };
}

const named = (v: string | undefined): string | undefined => (v === '' ? undefined : v);

function readRoute(raw: RawObject, at: At, service: KongService | undefined): KongRoute {
  return { at, raw, name: named(stringAt(raw, 'name')), id: named(stringAt(raw, 'id')), service };
}

function readConsumers(
  input: RawObject,
  model: KongModel,
  pending: { raw: RawObject; at: At; consumer?: string }[],
  r: MigrationReport,
): void {
  for (const [raw, at] of list(input, 'consumers', [], r)) {
    const consumer: KongConsumer = {
      at,
      username: stringAt(raw, 'username'),
      customId: stringAt(raw, 'custom_id'),
      id: stringAt(raw, 'id'),
      credentials: [],
    };
    if (consumer.username === undefined && consumer.customId === undefined)
      r.invalid(at, 'needs "username" or "custom_id"');
    model.consumers.push(consumer);
    for (const [c, cat] of list(raw, 'keyauth_credentials', at, r))
      consumer.credentials.push({ at: cat, raw: c, key: stringAt(c, 'key') });
    const name = consumer.username ?? consumer.id ?? consumer.customId;
    for (const [p, pat] of list(raw, 'plugins', at, r)) pending.push({ raw: p, at: pat, consumer: name });
    for (const key of OTHER_CREDENTIALS) {
      if (Array.isArray(raw[key]) && raw[key].length > 0)
        r.note([...at, key], 'not carried over: Tollgate identifies consumers by API key only');
    }
  }
  for (const [c, cat] of list(input, 'keyauth_credentials', [], r)) {
    const target = ref(c.consumer);
    const consumer = model.consumers.find((k) => target !== undefined && (k.username === target || k.id === target));
    if (consumer === undefined) r.invalid([...cat, 'consumer'], `refers to an unknown consumer "${target ?? ''}"`);
    else consumer.credentials.push({ at: cat, raw: c, key: stringAt(c, 'key') });
  }
  for (const key of OTHER_CREDENTIALS) {
    if (Array.isArray(input[key]) && input[key].length > 0)
      r.note([key], 'not carried over: Tollgate identifies consumers by API key only');
  }
}

function readUpstreams(input: RawObject, model: KongModel, r: MigrationReport): void {
  for (const [raw, at] of list(input, 'upstreams', [], r)) {
    const name = stringAt(raw, 'name');
    if (name === undefined || name === '') {
      r.invalid([...at, 'name'], 'is required (services point at an upstream by its name)');
      continue;
    }
    const upstream: KongUpstream = { at, raw, name, targets: [] };
    model.upstreams.push(upstream);
    for (const [t, tat] of list(raw, 'targets', at, r)) pushTarget(upstream, t, tat, r);
  }
  for (const [t, tat] of list(input, 'targets', [], r)) {
    const target = ref(t.upstream);
    const upstream = model.upstreams.find((u) => u.name === target || stringAt(u.raw, 'id') === target);
    if (upstream === undefined) r.invalid([...tat, 'upstream'], `refers to an unknown upstream "${target ?? ''}"`);
    else pushTarget(upstream, t, tat, r);
  }
}

function pushTarget(upstream: KongUpstream, raw: RawObject, at: At, r: MigrationReport): void {
  const target = stringAt(raw, 'target');
  const m = target === undefined ? null : /^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+)(?::(\d{1,5}))?$/.exec(target);
  if (target === undefined || m === null) {
    r.invalid([...at, 'target'], 'must be "host:port" or "ip:port"');
    return;
  }
  const weight = raw.weight === undefined ? 100 : raw.weight;
  if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 0) {
    r.invalid([...at, 'weight'], 'must be a whole number (0-65535)');
    return;
  }
  upstream.targets.push({ at, target: `${m[1] as string}:${m[2] ?? DEFAULT_TARGET_PORT}`, weight });
}

function readPlugin(
  raw: RawObject,
  at: At,
  model: KongModel,
  nested: { service?: KongService; route?: KongRoute; consumer?: string },
  r: MigrationReport,
): KongPlugin | undefined {
  const name = stringAt(raw, 'name');
  if (name === undefined) {
    r.invalid([...at, 'name'], 'is required');
    return undefined;
  }
  let { service, route } = nested;
  const serviceRef = ref(raw.service);
  if (serviceRef !== undefined) {
    service = findService(model, serviceRef);
    if (service === undefined) r.invalid([...at, 'service'], `refers to an unknown service "${serviceRef}"`);
  }
  const routeRef = ref(raw.route);
  if (routeRef !== undefined) {
    route = model.routes.find((x) => x.name === routeRef) ?? model.routes.find((x) => x.id === routeRef);
    if (route === undefined) r.invalid([...at, 'route'], `refers to an unknown route "${routeRef}"`);
  }
  if (raw.config !== undefined && raw.config !== null && !isObject(raw.config))
    r.invalid([...at, 'config'], 'must be an object');
  return {
    at,
    name,
    enabled: raw.enabled !== false,
    config: isObject(raw.config) ? raw.config : {},
    service,
    route,
    consumer: ref(raw.consumer) ?? nested.consumer,
  };
}
