/**
 * `backend/healthcheck` (Kong's healthchecks shape): its schema, and the settings read from it with
 * Kong's defaults (thresholds of 0, which disable their counter; Kong's healthy and unhealthy statuses).
 */
import { DURATION_PATTERN, parseDuration, timerMs } from '../duration.js';
import { arrayAt, isObject, objectAt, stringAt, type RawObject } from '../raw.js';

const thresholdsSchema = {
  type: 'object',
  properties: {
    successes: { type: 'integer', minimum: 0, maximum: 255 },
    http_failures: { type: 'integer', minimum: 0, maximum: 255 },
    tcp_failures: { type: 'integer', minimum: 0, maximum: 255 },
    timeouts: { type: 'integer', minimum: 0, maximum: 255 },
    http_statuses: { type: 'array', items: { type: 'integer', minimum: 100, maximum: 999 } },
  },
};

/** Kong's number of seconds, or a KrakenD duration string (`"500ms"`, `"5s"`). */
const SECONDS_OR_DURATION = {
  anyOf: [
    { type: 'number', minimum: 0 },
    { type: 'string', pattern: DURATION_PATTERN },
  ],
};

/** `backend/healthcheck`: Kong's healthchecks shape (intervals and timeouts in seconds or as durations). */
export const HEALTHCHECK_SCHEMA = {
  type: 'object',
  properties: {
    upstream: { type: 'string' },
    active: {
      type: 'object',
      properties: {
        http_path: { type: 'string', pattern: '^/' },
        interval: SECONDS_OR_DURATION,
        timeout: SECONDS_OR_DURATION,
        healthy: thresholdsSchema,
        unhealthy: thresholdsSchema,
      },
    },
    passive: { type: 'object', properties: { healthy: thresholdsSchema, unhealthy: thresholdsSchema } },
  },
};

export interface Thresholds {
  readonly successes: number;
  readonly httpFailures: number;
  readonly tcpFailures: number;
  readonly timeouts: number;
  readonly healthyStatuses: ReadonlySet<number>;
  readonly unhealthyStatuses: ReadonlySet<number>;
}

export interface HealthSettings {
  readonly upstream: string | undefined;
  readonly httpPath: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly active: Thresholds;
  readonly passive: Thresholds;
}

const num = (o: RawObject, k: string, d: number): number => (typeof o[k] === 'number' ? (o[k] as number) : d);
/** Kong's number of seconds, or a KrakenD duration string (the schema admits only those), in ms. */
const ms = (o: RawObject, k: string, seconds: number): number => {
  const v = o[k];
  return typeof v === 'string' ? (parseDuration(v) ?? seconds * 1000) : num(o, k, seconds) * 1000;
};
const statuses = (o: RawObject, d: number[]): Set<number> =>
  new Set(
    Array.isArray(o.http_statuses) ? (arrayAt(o, 'http_statuses').filter((x) => typeof x === 'number') as number[]) : d,
  );

function thresholds(raw: RawObject, healthyDefault: number[], unhealthyDefault: number[]): Thresholds {
  const h = objectAt(raw, 'healthy');
  const u = objectAt(raw, 'unhealthy');
  return {
    successes: num(h, 'successes', 0),
    httpFailures: num(u, 'http_failures', 0),
    tcpFailures: num(u, 'tcp_failures', 0),
    timeouts: num(u, 'timeouts', 0),
    healthyStatuses: statuses(h, healthyDefault),
    unhealthyStatuses: statuses(u, unhealthyDefault),
  };
}

export function parseHealthSettings(raw: unknown): HealthSettings | undefined {
  if (!isObject(raw)) return undefined;
  const active = objectAt(raw, 'active');
  const passive = objectAt(raw, 'passive');
  return {
    upstream: stringAt(raw, 'upstream'),
    httpPath: stringAt(active, 'http_path') ?? '/',
    intervalMs: timerMs(ms(active, 'interval', 0)),
    timeoutMs: timerMs(ms(active, 'timeout', 1)),
    active: thresholds(active, [200, 302], [429, 404, 500, 501, 502, 503, 504, 505]),
    passive: thresholds(
      passive,
      [200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308],
      [429, 500, 503],
    ),
  };
}
