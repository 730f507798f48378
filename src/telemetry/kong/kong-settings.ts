/** `telemetry/kong-prometheus` with Kong's defaults (every flag off, 3.x names), spec kong.md §1.2. */
import { isObject, stringAt, stringsAt, type RawObject } from '../../config/raw.js';
import { parseListenAddress } from '../stats/stats-settings.js';

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
}

export function parseKongSettings(raw: RawObject): KongSettings {
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
