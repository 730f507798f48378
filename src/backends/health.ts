/**
 * Target health for a backend's hosts (`backend/healthcheck`, modelled on Kong's healthchecks, spec
 * kong.md §4): active probes of `http_path` every `interval` seconds and passive counting of live
 * traffic move each target between healthy and unhealthy; a host name that does not resolve is
 * `dns_error`. Unhealthy and dns_error targets leave the round-robin. Counters reset each other as in
 * Kong (a success clears failures, a failure clears successes); a threshold of 0 disables its counter.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { request } from 'undici';
import { parseDuration, timerMs } from '../config/duration.js';
import { arrayAt, isObject, objectAt, stringAt, type RawObject } from '../config/raw.js';

export type TargetState = 'healthy' | 'unhealthy' | 'dns_error';

interface Thresholds {
  readonly successes: number;
  readonly httpFailures: number;
  readonly tcpFailures: number;
  readonly timeouts: number;
  readonly healthyStatuses: ReadonlySet<number>;
  readonly unhealthyStatuses: ReadonlySet<number>;
}

export interface HealthSettings {
  readonly upstream: string | undefined;
  readonly httpPath: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly active: Thresholds;
  readonly passive: Thresholds;
}

const num = (o: RawObject, k: string, d: number): number => (typeof o[k] === 'number' ? (o[k] as number) : d);
/** Kong's number of seconds, or a KrakenD duration string (the schema admits only those), in ms. */
const ms = (o: RawObject, k: string, seconds: number): number => {
  const v = o[k];
  return typeof v === 'string' ? (parseDuration(v) ?? seconds * 1000) : num(o, k, seconds) * 1000;
};
const statuses = (o: RawObject, d: number[]): Set<number> => new Set(Array.isArray(o.http_statuses) ? (arrayAt(o, 'http_statuses').filter((x) => typeof x === 'number') as number[]) : d);

function thresholds(raw: RawObject, healthyDefault: number[], unhealthyDefault: number[]): Thresholds {
  const h = objectAt(raw, 'healthy');
  const u = objectAt(raw, 'unhealthy');
  return {
    successes: num(h, 'successes', 0),
    httpFailures: num(u, 'http_failures', 0),
    tcpFailures: num(u, 'tcp_failures', 0),
    timeouts: num(u, 'timeouts', 0),
    healthyStatuses: statuses(h, healthyDefault),
    unhealthyStatuses: statuses(u, unhealthyDefault),
  };
}

export function parseHealthSettings(raw: unknown): HealthSettings | undefined {
  if (!isObject(raw)) return undefined;
  const active = objectAt(raw, 'active');
  const passive = objectAt(raw, 'passive');
  return {
    upstream: stringAt(raw, 'upstream'),
    httpPath: stringAt(active, 'http_path') ?? '/',
    intervalMs: timerMs(ms(active, 'interval', 0)),
    timeoutMs: timerMs(ms(active, 'timeout', 1)),
    active: thresholds(active, [200, 302], [429, 404, 500, 501, 502, 503, 504, 505]),
    passive: thresholds(passive, [200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308], [429, 500, 503]),
  };
}

export interface HealthTarget {
  readonly origin: string;
  readonly hostname: string;
  readonly port: number;
}

class TargetHealth {
  state: TargetState = 'healthy';
  successes = 0;
  http = 0;
  tcp = 0;
  timeouts = 0;
}

export type Observation = { readonly kind: 'status'; readonly status: number } | { readonly kind: 'tcp' } | { readonly kind: 'timeout' };

export class HealthChecker {
  readonly settings: HealthSettings;
  readonly targets: readonly HealthTarget[];
  readonly #health: TargetHealth[];
  #timer: NodeJS.Timeout | undefined;

  constructor(settings: HealthSettings, targets: readonly HealthTarget[]) {
    this.settings = settings;
    this.targets = targets;
    this.#health = targets.map(() => new TargetHealth());
  }

  /** Kong: health checks are "on" when active probing or a passive failure threshold is set. */
  get enabled(): boolean {
    const p = this.settings.passive;
    return this.settings.intervalMs > 0 || p.httpFailures > 0 || p.tcpFailures > 0 || p.timeouts > 0;
  }

  state(i: number): TargetState {
    return this.#health[i]?.state ?? 'healthy';
  }

  usable(i: number): boolean {
    return this.state(i) === 'healthy';
  }

  observe(i: number, o: Observation, t: Thresholds = this.settings.passive): void {
    const h = this.#health[i];
    if (h === undefined || h.state === 'dns_error') return;
    if (o.kind === 'status' && t.healthyStatuses.has(o.status)) {
      h.http = h.tcp = h.timeouts = 0;
      h.successes++;
      if (t.successes > 0 && h.successes >= t.successes) h.state = 'healthy';
      return;
    }
    h.successes = 0;
    if (o.kind === 'status') {
      if (!t.unhealthyStatuses.has(o.status)) return;
      h.http++;
      if (t.httpFailures > 0 && h.http >= t.httpFailures) h.state = 'unhealthy';
    } else if (o.kind === 'tcp') {
      h.tcp++;
      if (t.tcpFailures > 0 && h.tcp >= t.tcpFailures) h.state = 'unhealthy';
    } else {
      h.timeouts++;
      if (t.timeouts > 0 && h.timeouts >= t.timeouts) h.state = 'unhealthy';
    }
  }

  start(): void {
    // A failed lookup or probe is a target state, recorded inside: these never reject.
    this.#resolve().catch(() => undefined);
    if (this.settings.intervalMs <= 0) return;
    this.#timer = setInterval(() => {
      this.probe().catch(() => undefined);
    }, this.settings.intervalMs);
    this.#timer.unref();
  }

  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }

  async #resolve(): Promise<void> {
    await Promise.all(
      this.targets.map(async (t, i) => {
        const h = this.#health[i] as TargetHealth;
        if (isIP(t.hostname) !== 0) return;
        try {
          await lookup(t.hostname);
          if (h.state === 'dns_error') h.state = 'healthy';
        } catch {
          h.state = 'dns_error';
        }
      }),
    );
  }

  /** One round of active probes (also re-resolves host names). */
  async probe(): Promise<void> {
    await this.#resolve();
    await Promise.all(
      this.targets.map(async (t, i) => {
        if (this.state(i) === 'dns_error') return;
        try {
          const r = await request(`${t.origin}${this.settings.httpPath}`, { headersTimeout: this.settings.timeoutMs, bodyTimeout: this.settings.timeoutMs, signal: AbortSignal.timeout(this.settings.timeoutMs) });
          await r.body.dump();
          this.observe(i, { kind: 'status', status: r.statusCode }, this.settings.active);
        } catch (err) {
          const code = (err as { code?: string; name?: string }).code ?? (err as { name?: string }).name;
          this.observe(i, code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'TimeoutError' || code === 'UND_ERR_CONNECT_TIMEOUT' ? { kind: 'timeout' } : { kind: 'tcp' }, this.settings.active);
        }
      }),
    );
  }
}
