/** `telemetry/metrics` (spec §3.1) with its defaults. */
import { parseDuration, timerMs } from '../../config/duration.js';
import { stringAt, type RawObject } from '../../config/raw.js';

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

/**
 * `listen_address` as KrakenD writes it (`:8090`, every interface) or `ip:port`. When it is omitted
 * Tollgate listens on 127.0.0.1:8090: stats are not exposed to the network unless asked for.
 */
export function parseListenAddress(text: string | undefined, fallbackPort: number): { host: string; port: number } {
  if (text === undefined) return { host: '127.0.0.1', port: fallbackPort };
  const i = text.lastIndexOf(':');
  const host = i <= 0 ? '' : text.slice(0, i).replace(/^\[|\]$/g, '');
  return { host, port: Number(text.slice(i + 1)) };
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
