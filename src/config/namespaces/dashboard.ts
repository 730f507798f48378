/**
 * `telemetry/dashboard` (Tollgate's built-in live dashboard): where it listens (loopback by default)
 * and its optional bearer token.
 */
import { stringAt, type RawObject } from '../raw.js';
import { LISTEN_ADDRESS, parseListenAddress } from './common.js';

export const DASHBOARD_SCHEMA = {
  type: 'object',
  properties: {
    listen_address: LISTEN_ADDRESS,
    token: { type: 'string', minLength: 8 },
  },
} as const;

export interface DashboardSettings {
  readonly listenHost: string;
  readonly listenPort: number;
  readonly token: string | undefined;
}

export function parseDashboardSettings(raw: RawObject): DashboardSettings {
  const { host, port } = parseListenAddress(stringAt(raw, 'listen_address'), 8091);
  return { listenHost: host, listenPort: port, token: stringAt(raw, 'token') };
}
