// A rate-capped wrk load: each connection waits `delayMs` after every response (wrk's Lua
// `delay()`), so the total stays under connections × 1000 / delayMs req/s whatever the gateway's
// speed. Shared by the soaks and the scrape-stall bench.
import { toolVersion } from './tool-version.js';

/** The per-connection delay for a rate cap; 0 = unthrottled. */
export function wrkDelayMs(connections: number, rate: number): number {
  return rate > 0 ? Math.max(1, Math.round((connections * 1000) / rate)) : 0;
}

/** "wrk 4.2.0 …, 20 connections, rate cap ~1000 req/s (delay 20 ms per connection)", for reports. */
export function describeWrkLoad(wrkBin: string, connections: number, rate: number): string {
  const delayMs = wrkDelayMs(connections, rate);
  const version = toolVersion(wrkBin, ['--version'])?.replace(/\s+Copyright.*$/, '') ?? 'wrk';
  return `${version}, ${connections} connections, ${delayMs > 0 ? `rate cap ~${rate} req/s (delay ${delayMs} ms per connection)` : 'unthrottled'}`;
}
