/** Schema of `telemetry/kong-prometheus` (Tollgate's home for Kong's Prometheus plugin settings). */
import { isIP } from 'node:net';
import { formatPath } from '../json-path.js';
import { arrayAt, objectAt, type RawObject } from '../raw.js';
import type { ConfigIssue } from '../validate.js';
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

/**
 * `allow` entries the pattern lets through but net.BlockList throws on when the listener is built
 * (`10.0.0.0/33`, `300.1.1.1`): an address node:net knows, and a prefix within its family's width.
 */
export function checkKong(root: RawObject): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  arrayAt(objectAt(objectAt(root, 'extra_config'), 'telemetry/kong-prometheus'), 'allow').forEach((entry, i) => {
    if (typeof entry !== 'string') return;
    const [addr = '', prefix] = entry.split('/');
    const family = isIP(addr);
    const width = family === 6 ? 128 : 32;
    if (family === 0 || (prefix !== undefined && Number(prefix) > width)) {
      issues.push({ path: formatPath(['extra_config', 'telemetry/kong-prometheus', 'allow', i]), message: `"${entry}" is not an IP address or CIDR (prefix up to /${width})` });
    }
  });
  return issues;
}
