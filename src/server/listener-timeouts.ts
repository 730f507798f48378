/**
 * The data listener's timeouts as Node's HTTP server options. Node checks the header and request
 * deadlines on a timer (`connectionsCheckingInterval`, 30 s by default), so a 60 s header deadline
 * could hold a socket 90 s; the interval here is a quarter of the shortest deadline, between 50 ms
 * and 1 s (each check walks the listener's connection list in C++: cheap at this rate).
 */
import type { ServerOptions } from 'node:http';
import type { ServerTimeouts } from '../config/types.js';

const MIN_CHECK_MS = 50;
const MAX_CHECK_MS = 1_000;

export function listenerTimeouts(
  t: ServerTimeouts,
): Pick<ServerOptions, 'headersTimeout' | 'requestTimeout' | 'keepAliveTimeout' | 'connectionsCheckingInterval'> {
  // Node refuses a header deadline beyond the request one; Go's server reads the headers within both.
  const headersTimeout =
    t.readMs > 0 && (t.readHeaderMs === 0 || t.readHeaderMs > t.readMs) ? t.readMs : t.readHeaderMs;
  const shortest = Math.min(...[headersTimeout, t.readMs].filter((ms) => ms > 0));
  const check = Number.isFinite(shortest)
    ? Math.min(MAX_CHECK_MS, Math.max(MIN_CHECK_MS, Math.floor(shortest / 4)))
    : MAX_CHECK_MS;
  return { headersTimeout, requestTimeout: t.readMs, keepAliveTimeout: t.idleMs, connectionsCheckingInterval: check };
}
