/**
 * A Kong upstream (https://developer.konghq.com/gateway/entities/upstream/) → a backend's `host` list
 * and its `backend/healthcheck`: the targets in Kong's `host:port` form (so `kong_upstream_target_health` keeps its `target` labels), the
 * upstream name as the `upstream` label, and Kong's active/passive thresholds, which Tollgate reads
 * in the same shape. What Tollgate's checker cannot do (two probe intervals, TCP probes, weights…) is noted.
 */
import type { PathSegment } from '../config/json-path.js';
import { isObject, objectAt, type RawObject } from '../config/raw.js';
import type { KongUpstream } from './kong-model.js';
import type { MigrationReport } from './report.js';

type At = readonly PathSegment[];

const THRESHOLDS = {
  healthy: ['successes', 'http_statuses'],
  unhealthy: ['http_failures', 'tcp_failures', 'timeouts', 'http_statuses'],
} as const;

/** Upstream settings that only change balancing; noted when they differ from Kong's defaults. */
const BALANCING: readonly (readonly [string, unknown])[] = [
  ['algorithm', 'round-robin'],
  ['hash_on', 'none'],
  ['hash_fallback', 'none'],
  ['host_header', null],
  ['client_certificate', null],
];

/** The enabled targets (`host:port`) of an upstream. */
export function upstreamTargets(up: KongUpstream, r: MigrationReport): string[] {
  for (const [key, dflt] of BALANCING) {
    const v = up.raw[key];
    if (v !== undefined && v !== null && v !== dflt)
      r.note(
        [...up.at, key],
        `${JSON.stringify(v)}: not carried over: Tollgate balances targets round-robin and sends the target's host`,
      );
  }
  const weights = new Set(up.targets.filter((t) => t.weight > 0).map((t) => t.weight));
  if (weights.size > 1)
    r.note([...up.at, 'targets'], 'weights not carried over: Tollgate gives every target the same share');
  return up.targets.flatMap((t) => {
    if (t.weight > 0) return [t.target];
    r.note([...t.at, 'weight'], '0: the target is disabled in Kong, so it is left out');
    return [];
  });
}

/** `backend/healthcheck` for a service's upstream; `upstream` is always set (it is the metric label). */
export function upstreamHealthcheck(up: KongUpstream, protocol: string, r: MigrationReport): RawObject {
  const out: RawObject = { upstream: up.name };
  const checks = up.raw.healthchecks;
  if (!isObject(checks)) return out;
  const at = [...up.at, 'healthchecks'];
  const active = activeChecks(objectAt(checks, 'active'), protocol, [...at, 'active'], r);
  const passive = thresholdsOf(objectAt(checks, 'passive'), [...at, 'passive'], r);
  const passiveType = objectAt(checks, 'passive').type;
  if (passiveType !== undefined && passiveType !== 'http' && passiveType !== 'https')
    r.note(
      [...at, 'passive', 'type'],
      `${JSON.stringify(passiveType)}: Tollgate counts HTTP outcomes of proxied requests only`,
    );
  if (typeof checks.threshold === 'number' && checks.threshold > 0)
    r.note([...at, 'threshold'], 'not carried over: Tollgate answers 503 only when no target is healthy');
  if (Object.keys(active).length > 0) out.active = active;
  if (Object.keys(passive).length > 0) out.passive = passive;
  return out;
}

function activeChecks(raw: RawObject, protocol: string, at: At, r: MigrationReport): RawObject {
  const out: RawObject = {};
  const type = raw.type ?? 'http';
  if (type !== 'http' && type !== 'https')
    r.note([...at, 'type'], `${JSON.stringify(type)}: Tollgate probes with HTTP(S) GET requests only`);
  else if (type !== protocol)
    r.note([...at, 'type'], `${JSON.stringify(type)}: Tollgate probes with the service's protocol (${protocol})`);
  if (typeof raw.http_path === 'string') out.http_path = raw.http_path;
  const healthy = objectAt(raw, 'healthy');
  const unhealthy = objectAt(raw, 'unhealthy');
  const interval = probeInterval(healthy.interval, unhealthy.interval, at, r);
  if (interval !== undefined) out.interval = interval;
  if (typeof raw.timeout === 'number') out.timeout = raw.timeout;
  for (const key of ['concurrency', 'https_sni', 'https_verify_certificate', 'headers']) {
    if (raw[key] !== undefined && raw[key] !== null)
      r.note([...at, key], 'not carried over: Tollgate probes every target with its defaults');
  }
  return { ...out, ...thresholdsOf(raw, at, r) };
}

/**
 * Kong probes healthy targets every `healthy.interval` and unhealthy ones every `unhealthy.interval`
 * (0 = never); Tollgate probes every target at one `interval`.
 */
function probeInterval(healthy: unknown, unhealthy: unknown, at: At, r: MigrationReport): number | undefined {
  const h = typeof healthy === 'number' ? healthy : 0;
  const u = typeof unhealthy === 'number' ? unhealthy : 0;
  if (h <= 0 && u <= 0) return undefined;
  const chosen = h > 0 ? h : u;
  if (h > 0 && u > 0 && h !== u)
    r.note(
      [...at, 'unhealthy', 'interval'],
      `${u}: not carried over: Tollgate probes every target every ${chosen} s (healthy.interval)`,
    );
  if (h <= 0)
    r.note(
      [...at, 'healthy', 'interval'],
      `0: Kong probed only unhealthy targets; Tollgate probes every target every ${chosen} s`,
    );
  return chosen;
}

function thresholdsOf(raw: RawObject, at: At, r: MigrationReport): RawObject {
  const out: RawObject = {};
  for (const side of ['healthy', 'unhealthy'] as const) {
    const src = objectAt(raw, side);
    const t: RawObject = {};
    for (const key of THRESHOLDS[side]) {
      const v = src[key];
      if (v === undefined || v === null) continue;
      const ok =
        key === 'http_statuses'
          ? Array.isArray(v) && v.every((s) => Number.isInteger(s) && (s as number) >= 100 && (s as number) <= 999)
          : Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 255;
      if (ok) t[key] = v;
      else
        r.invalid(
          [...at, side, key],
          key === 'http_statuses' ? 'must be a list of HTTP status codes' : 'must be a whole number (0-255)',
        );
    }
    if (Object.keys(t).length > 0) out[side] = t;
  }
  return out;
}
