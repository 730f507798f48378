/**
 * The graceful stop of a listener: it stops accepting, lets in-flight requests finish up to a deadline,
 * and closes the connections left — without cutting a request a client is sending at that moment.
 *
 * - A keep-alive connection idle when the stop begins is not closed at once: its client may be writing
 *   its next request right then, and closing it would reset that request (the client cannot tell
 *   whether it was processed, so it may not retry it). Node's `server.close()` does exactly that (it
 *   closes idle connections at once), as Go's `Server.Shutdown` and nginx's graceful stop do. Instead
 *   idle connections stay open for IDLE_GRACE_MS: a request arriving on one is served with
 *   `Connection: close` (the gateway sets it while draining) and its client closes the connection
 *   itself; only connections still idle at the end of the grace are closed. A client that sends
 *   exactly then still races the close — the race every HTTP/1.1 server has at its idle timeout —
 *   but a client that kept the connection busy has been told to close by then.
 * - A connection accepted a moment ago counts as idle in Node while its request may still be on its
 *   way: in a cluster, the primary hands a worker a connection just before telling it to drain. So
 *   idle connections are also kept until the newest one is SILENT_GRACE_MS old.
 */
import type { Server } from 'node:http';
import { Server as NetServer } from 'node:net';
import { performance } from 'node:perf_hooks';

/** How long a just-accepted connection may take to send its request once a drain has begun. */
export const SILENT_GRACE_MS = 500;
/** How long idle keep-alive connections stay open once a drain has begun (bounded by its deadline). */
export const IDLE_GRACE_MS = 1_000;
const POLL_MS = 20;

export class ListenerDrain {
  readonly #server: Server;
  readonly #open: () => number;
  #lastAccept = Number.NEGATIVE_INFINITY;

  /** `open` counts the listener's connections accepted and not yet closed (the telemetry keeps it). */
  constructor(server: Server, open: () => number) {
    this.#server = server;
    this.#open = open;
    // 'connection' is the TCP accept for TLS listeners too, so the grace covers the handshake.
    server.on('connection', () => (this.#lastAccept = performance.now()));
  }

  /**
   * Stops accepting and waits until no connection is left, or until no request is in flight once the
   * graces are over, or until `deadlineMs` has passed; then cuts every connection that is left.
   * Resolves with whether it ended cleanly (nothing in flight was cut).
   */
  async run(deadlineMs: number, inFlight: () => number): Promise<boolean> {
    const server = this.#server;
    // net.Server's close: stop accepting, and leave the idle connections (and the header and request
    // timeouts that police them) alone, unlike http.Server's close.
    const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
    const started = performance.now();
    const until = started + deadlineMs;
    const graceEnd = started + Math.min(IDLE_GRACE_MS, deadlineMs);
    for (let now = started; now < until; now = performance.now()) {
      if (this.#open() === 0) break;
      // A connection that arrives during the drain (handed over late by the cluster primary) moves the
      // silent grace on; the deadline still bounds it.
      const holding = now < graceEnd || now < this.#lastAccept + SILENT_GRACE_MS;
      if (!holding) {
        if (inFlight() === 0) break;
        server.closeIdleConnections();
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    const clean = inFlight() === 0;
    server.closeAllConnections();
    await closed;
    // http.Server's close now only stops its connection-checking timer (the connections are gone).
    server.close();
    return clean;
  }
}
