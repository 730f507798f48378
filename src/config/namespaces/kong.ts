/** Schema of `telemetry/kong-prometheus` (Tollgate's home for Kong's Prometheus plugin settings). */
import { LISTEN_ADDRESS } from './common.js';

const bool = { type: 'boolean' } as const;

export const KONG_ROOT_SCHEMA = {
  type: 'object',
  properties: {
    per_consumer: bool,
    status_code_metrics: bool,
    latency_metrics: bool,
    bandwidth_metrics: bool,
    upstream_health_metrics: bool,
    naming: { type: 'string', enum: ['3.x', '2.x'] },
    listen_address: LISTEN_ADDRESS,
    allow: { type: 'array', items: { type: 'string', pattern: '^[0-9a-fA-F:.]+(/[0-9]{1,3})?$' } },
    token: { type: 'string', minLength: 1 },
  },
} as const;

export const KONG_ENDPOINT_SCHEMA = {
  type: 'object',
  properties: { route: { type: 'string', minLength: 1 }, service: { type: 'string' } },
} as const;
