/**
 * `telemetry/influx` (krakend-schema v2.13, https://www.krakend.io/docs/telemetry/influxdb-native/),
 * plus the InfluxDB 2.x form (`token`, `org`, `bucket`).
 */
import { DURATION_PATTERN, parseDuration, timerMs } from '../duration.js';
import { stringAt, type RawObject } from '../raw.js';

const duration = { type: 'string', pattern: DURATION_PATTERN } as const;

export const INFLUX_SCHEMA = {
  type: 'object',
  required: ['address'],
  properties: {
    address: { type: 'string', pattern: '^https?://' },
    ttl: duration,
    buffer_size: { type: 'integer', minimum: 0 },
    db: { type: 'string' },
    username: { type: 'string' },
    password: { type: 'string' },
    token: { type: 'string' },
    org: { type: 'string' },
    bucket: { type: 'string' },
  },
} as const;

export interface InfluxSettings {
  readonly address: string;
  readonly ttlMs: number;
  readonly bufferSize: number;
  readonly db: string;
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** InfluxDB 2.x: `/api/v2/write` with `Authorization: Token …`. */
  readonly v2: { readonly token: string; readonly org: string; readonly bucket: string } | undefined;
}

export function parseInfluxSettings(raw: RawObject): InfluxSettings {
  const ttl = stringAt(raw, 'ttl');
  const ms = ttl === undefined ? undefined : parseDuration(ttl);
  const token = stringAt(raw, 'token');
  const db = stringAt(raw, 'db') ?? 'krakend';
  return {
    address: (stringAt(raw, 'address') ?? '').replace(/\/+$/, ''),
    ttlMs: ms !== undefined && ms > 0 ? timerMs(ms) : 60_000,
    // Read as a JSON number (KrakenD CE's int type assertion never matches, so its buffer is always 0).
    bufferSize: typeof raw.buffer_size === 'number' ? Math.max(0, Math.floor(raw.buffer_size)) : 0,
    db,
    username: stringAt(raw, 'username'),
    password: stringAt(raw, 'password'),
    v2:
      token === undefined
        ? undefined
        : { token, org: stringAt(raw, 'org') ?? '', bucket: stringAt(raw, 'bucket') ?? db },
  };
}
