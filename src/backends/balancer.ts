/**
 * Round-robin over a backend's `host` list (KrakenD's static service discovery). Each target is
 * resolved to its pool once, at start-up.
 */
import type { Dispatcher } from 'undici';
import type { PoolRegistry } from './pools.js';
import type { HealthChecker } from './health.js';

export interface Target {
  readonly origin: string;
  /** Path prefix written in the host entry (`http://api/v2` → `/v2`), prepended to url_pattern. */
  readonly basePath: string;
  readonly dispatcher: Dispatcher;
  readonly hostname: string;
  readonly port: number;
}

/**
 * The `host` entries of a backend resolved to their pools. Other schemes (ws://, amqp://…) were
 * reported as unsupported at load time: such a backend has no target and every call to it fails as
 * unavailable.
 */
export function resolveTargets(hosts: readonly string[], pools: PoolRegistry): Target[] {
  return hosts
    .filter((h) => /^https?:\/\//i.test(h))
    .map((h) => {
      const u = new URL(h);
      const port = u.port === '' ? (u.protocol === 'https:' ? 443 : 80) : Number(u.port);
      return {
        origin: u.origin,
        basePath: u.pathname.replace(/\/+$/, ''),
        dispatcher: pools.get(u.origin),
        hostname: u.hostname,
        port,
      };
    });
}

export class RoundRobin {
  readonly targets: readonly Target[];
  /** When set, unhealthy and dns_error targets are skipped. */
  readonly health: HealthChecker | undefined;
  #next = 0;

  constructor(targets: readonly Target[], health: HealthChecker | undefined) {
    this.targets = targets;
    this.health = health;
  }

  /** Index of the next usable target, -1 when the backend has none (or none is healthy). */
  pickIndex(): number {
    const n = this.targets.length;
    for (let tries = 0; tries < n; tries++) {
      const i = this.#next;
      this.#next = i + 1 === n ? 0 : i + 1;
      if (this.health === undefined || this.health.usable(i)) return i;
    }
    return -1;
  }
}
