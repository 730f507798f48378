/** `telemetry/metrics` (krakend-schema v2.13): its schema, its defaults and the settings Tollgate reads from it. */
import { DURATION_PATTERN, parseDuration, timerMs } from '../duration.js';
import { stringAt, type RawObject } from '../raw.js';
import { LISTEN_ADDRESS, parseListenAddress } from './common.js';

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

export interface StatsSettings {
  readonly collectionMs: number;
  /** host ('' = every interface) and port of the /__stats listener. */
  readonly listenHost: string;
  readonly listenPort: number;
  readonly proxyDisabled: boolean;
  readonly routerDisabled: boolean;
  readonly backendDisabled: boolean;
  readonly endpointDisabled: boolean;
}

export function parseStatsSettings(raw: RawObject): StatsSettings {
  const { host, port } = parseListenAddress(stringAt(raw, 'listen_address'), 8090);
  const collection = stringAt(raw, 'collection_time');
  const ms = collection === undefined ? undefined : parseDuration(collection);
  return {
    // One minute by default, as KrakenD; a zero window would tick without end.
    collectionMs: ms !== undefined && ms > 0 ? timerMs(ms) : 60_000,
    listenHost: host,
    listenPort: port,
    proxyDisabled: raw.proxy_disabled === true,
    routerDisabled: raw.router_disabled === true,
    backendDisabled: raw.backend_disabled === true,
    endpointDisabled: raw.endpoint_disabled === true,
  };
}
