/**
 * `telemetry/kong-prometheus` (Tollgate's home for Kong's Prometheus plugin settings): its schema, and
 * its settings with Kong's defaults (every flag off, 3.x names).
 */
import { isIP } from 'node:net';
import { DEFAULT_ENVIRONMENT, type Environment } from '../environment.js';
import { formatPath } from '../json-path.js';
import { arrayAt, isObject, objectAt, stringAt, stringsAt, type RawObject } from '../raw.js';
import type { ConfigIssue } from '../issue.js';
import { LISTEN_ADDRESS, parseListenAddress } from './common.js';

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
      issues.push({
        path: formatPath(['extra_config', 'telemetry/kong-prometheus', 'allow', i]),
        message: `"${entry}" is not an IP address or CIDR (prefix up to /${width})`,
      });
    }
  });
  return issues;
}

export interface KongSettings {
  readonly perConsumer: boolean;
  readonly statusCodeMetrics: boolean;
  readonly latencyMetrics: boolean;
  readonly bandwidthMetrics: boolean;
  readonly upstreamHealthMetrics: boolean;
  readonly naming: '3.x' | '2.x';
  readonly listenHost: string;
  readonly listenPort: number;
  readonly allow: readonly string[];
  readonly token: string | undefined;
  /** The `node_id` label (`TOLLGATE_NODE_ID`, read at load); undefined: each view picks a random one. */
  readonly nodeId: string | undefined;
}

export function parseKongSettings(raw: RawObject, environment: Environment = DEFAULT_ENVIRONMENT): KongSettings {
  const { host, port } = parseListenAddress(stringAt(raw, 'listen_address'), 8100);
  return {
    perConsumer: raw.per_consumer === true,
    statusCodeMetrics: raw.status_code_metrics === true,
    latencyMetrics: raw.latency_metrics === true,
    bandwidthMetrics: raw.bandwidth_metrics === true,
    upstreamHealthMetrics: raw.upstream_health_metrics === true,
    naming: raw.naming === '2.x' ? '2.x' : '3.x',
    listenHost: host,
    listenPort: port,
    allow: stringsAt(raw, 'allow') ?? [],
    token: stringAt(raw, 'token'),
    nodeId: environment.nodeId,
  };
}

/** Endpoint-level `route` and `service` label values. */
export interface KongEndpoint {
  readonly route: string | undefined;
  readonly service: string | undefined;
}

export function parseKongEndpoint(raw: unknown): KongEndpoint | undefined {
  if (!isObject(raw)) return undefined;
  return { route: stringAt(raw, 'route'), service: stringAt(raw, 'service') };
}
