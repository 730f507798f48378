/**
 * Round-robin over a backend's `host` list (KrakenD's static service discovery). Each target is
 * resolved to its pool once, at start-up.
 */
import type { Dispatcher } from 'undici';
import type { PoolRegistry } from './pools.js';

export interface Target {
  readonly origin: string;
  /** Path prefix written in the host entry (`http://api/v2` → `/v2`), prepended to url_pattern. */
  readonly basePath: string;
  readonly dispatcher: Dispatcher;
  readonly hostname: string;
  readonly port: number;
}

export class RoundRobin {
  readonly targets: readonly Target[];
  #next = 0;

  constructor(hosts: readonly string[], pools: PoolRegistry) {
    // Other schemes (ws://, amqp://…) were reported as unsupported at load time: such a backend has
    // no target and every call to it fails as unavailable.
    this.targets = hosts.filter((h) => /^https?:\/\//i.test(h)).map((h) => {
      const u = new URL(h);
      const port = u.port === '' ? (u.protocol === 'https:' ? 443 : 80) : Number(u.port);
      return { origin: u.origin, basePath: u.pathname.replace(/\/+$/, ''), dispatcher: pools.get(u.origin), hostname: u.hostname, port };
    });
  }

  /** Index of the next target, -1 when the backend has none. */
  pickIndex(): number {
    if (this.targets.length === 0) return -1;
    const i = this.#next;
    this.#next = i + 1 === this.targets.length ? 0 : i + 1;
    return i;
  }
}
