/** Schemas of `telemetry/metrics` and `telemetry/influx` (krakend-schema v2.13, spec §3.1, §4.1). */
import { DURATION_PATTERN } from '../duration.js';
import { LISTEN_ADDRESS } from './common.js';

const duration = { type: 'string', pattern: DURATION_PATTERN } as const;

export const METRICS_SCHEMA = {
  type: 'object',
  properties: {
    collection_time: duration,
    // KrakenD's schema allows only ":port"; its code (and Tollgate) also take "ip:port".
    listen_address: LISTEN_ADDRESS,
    proxy_disabled: { type: 'boolean' },
    router_disabled: { type: 'boolean' },
    backend_disabled: { type: 'boolean' },
    endpoint_disabled: { type: 'boolean' },
  },
} as const;

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
