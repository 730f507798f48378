/**
 * The graceful stop of a listener: it stops accepting, lets in-flight requests finish up to a deadline,
 * and closes idle keep-alive connections — but not a connection accepted a moment ago. Node counts a
 * connection that has sent nothing yet as idle, and its request may well be on its way: in a cluster,
 * the primary hands a worker a connection just before telling it to drain, and the request bytes are
 * still in the socket's buffer when the drain starts. Closing it would refuse a request the listener
 * had accepted (seen as "other side closed" by the client), during a reload as much as at a stop. So
 * idle connections are closed only once the newest one is SILENT_GRACE_MS old; a request that arrives
 * in the meantime is served, with `Connection: close`.
 */
import type { Server } from 'node:http';
import { performance } from 'node:perf_hooks';

/** How long a just-accepted connection may take to send its request once a drain has begun. */
export const SILENT_GRACE_MS = 500;
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
   * Closes the listener and waits until no request is in flight and no connection is young enough to
   * still send one, or until `deadlineMs` has passed; then cuts every connection that is left. Resolves
   * with whether it ended cleanly (nothing in flight was cut).
   */
  async run(deadlineMs: number, inFlight: () => number): Promise<boolean> {
    const server = this.#server;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const until = performance.now() + deadlineMs;
    for (let now = performance.now(); now < until; now = performance.now()) {
      // A connection that arrives during the drain (handed over late by the cluster primary) moves the
      // grace on; the deadline still bounds it.
      const holding = this.#open() > 0 && now < this.#lastAccept + SILENT_GRACE_MS;
      if (inFlight() === 0 && !holding) break;
      if (!holding) server.closeIdleConnections();
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    const clean = inFlight() === 0;
    server.closeAllConnections();
    await closed;
    return clean;
  }
}
