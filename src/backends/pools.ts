/**
 * One undici keep-alive pool (https://undici.nodejs.org/#/docs/api/Pool.md) per backend origin,
 * created at start-up and closed on shutdown. Timeouts are explicit: the endpoint deadline aborts a request as a whole, these bound
 * each phase so a stuck socket is noticed even without one.
 */
import { Agent, Pool, type Dispatcher } from 'undici';
import { timedConnector } from './connect-timing.js';
import { skipUnsolicitedContinue } from './skip-continue.js';

export interface PoolOptions {
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  /** Upper bound of sockets per origin: a slow backend cannot make the gateway open thousands. */
  readonly connections: number;
}

const DEFAULT_POOL_OPTIONS: PoolOptions = {
  connectTimeoutMs: 10_000,
  headersTimeoutMs: 60_000,
  bodyTimeoutMs: 60_000,
  connections: 512,
};

export class PoolRegistry {
  readonly #pools = new Map<string, Pool>();
  readonly #options: PoolOptions;
  /** Origins only a backend redirect names; created on the first such redirect, closed with the pools. */
  #redirectAgent: Agent | undefined;

  constructor(options: PoolOptions = DEFAULT_POOL_OPTIONS) {
    this.#options = options;
  }

  /** The pool of an origin (`http://host:port`), created on first use (which is start-up). */
  get(origin: string): Pool {
    let pool = this.#pools.get(origin);
    if (pool === undefined) {
      // Timed: the request a new connection is opened for reports its DNS and TLS set-up (connect-timing.ts).
      const connector = timedConnector({ timeout: this.#options.connectTimeoutMs });
      pool = new Pool(origin, {
        connections: this.#options.connections,
        connect: (opts, cb) =>
          connector(opts, (...args) => {
            // On failure undici passes the error alone (no second argument, despite its types).
            const socket = args[1] as (typeof args)[1] | undefined;
            if (socket !== null && socket !== undefined) skipUnsolicitedContinue(socket);
            cb(...args);
          }),
        headersTimeout: this.#options.headersTimeoutMs,
        bodyTimeout: this.#options.bodyTimeoutMs,
        keepAliveTimeout: 4_000,
        pipelining: 1,
      });
      this.#pools.set(origin, pool);
    }
    return pool;
  }

  /**
   * The dispatcher for a redirect target: the pool of a configured origin, else one shared Agent. The
   * Agent drops an origin's sockets once they idle out, so origins named by redirects do not add up.
   */
  forRedirect(origin: string): Dispatcher {
    const pool = this.#pools.get(origin);
    if (pool !== undefined) return pool;
    this.#redirectAgent ??= new Agent({
      connections: this.#options.connections,
      connect: timedConnector({ timeout: this.#options.connectTimeoutMs }),
      headersTimeout: this.#options.headersTimeoutMs,
      bodyTimeout: this.#options.bodyTimeoutMs,
      keepAliveTimeout: 4_000,
      pipelining: 1,
    });
    return this.#redirectAgent;
  }

  get size(): number {
    return this.#pools.size;
  }

  async close(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    const agent = this.#redirectAgent;
    this.#redirectAgent = undefined;
    await Promise.allSettled([...pools.map((p) => p.close()), agent?.close()]);
  }

  /** For a shutdown deadline: abort what is still in flight. */
  async destroy(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    const agent = this.#redirectAgent;
    this.#redirectAgent = undefined;
    await Promise.allSettled([...pools.map((p) => p.destroy()), agent?.destroy()]);
  }
}
