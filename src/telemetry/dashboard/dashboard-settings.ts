/** `telemetry/dashboard`: where the live dashboard listens (loopback by default) and its optional bearer token. */
import { stringAt, type RawObject } from '../../config/raw.js';
import { parseListenAddress } from '../stats/stats-settings.js';

export interface DashboardSettings {
  readonly listenHost: string;
  readonly listenPort: number;
  readonly token: string | undefined;
}

export function parseDashboardSettings(raw: RawObject): DashboardSettings {
  const { host, port } = parseListenAddress(stringAt(raw, 'listen_address'), 8091);
  return { listenHost: host, listenPort: port, token: stringAt(raw, 'token') };
}
