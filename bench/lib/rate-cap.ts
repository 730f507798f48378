// A rate-capped wrk load: each connection waits `delayMs` after every response (wrk's Lua
// `delay()`), so the total stays under connections × 1000 / delayMs req/s whatever the gateway's
// speed. Shared by the soaks and the scrape-stall bench.
import { which } from './which.js';
import { wrkVersion } from './wrk.js';

/** The per-connection delay for a rate cap; 0 = unthrottled. */
export function wrkDelayMs(connections: number, rate: number): number {
  return rate > 0 ? Math.max(1, Math.round((connections * 1000) / rate)) : 0;
}

/** "wrk 4.2.0 …, 20 connections, rate cap ~1000 req/s (delay 20 ms per connection)", for reports. */
export function describeWrkLoad(wrkBin: string, connections: number, rate: number): string {
  const delayMs = wrkDelayMs(connections, rate);
  const version = wrkVersion(wrkBin) ?? 'wrk';
  return `${version}, ${connections} connections, ${delayMs > 0 ? `rate cap ~${rate} req/s (delay ${delayMs} ms per connection)` : 'unthrottled'}`;
}

/** wrk, which the rate cap needs (`why` says what else does), with the delay and the description of the load. */
export function rateCappedLoad(
  connections: number,
  rate: number,
  why: string,
): { readonly wrkBin: string; readonly delayMs: number; readonly loadTool: string } {
  const wrkBin = which('wrk');
  if (wrkBin === undefined) throw new Error(`wrk is not on PATH (${why})`);
  return { wrkBin, delayMs: wrkDelayMs(connections, rate), loadTool: describeWrkLoad(wrkBin, connections, rate) };
}
