/**
 * Target health for a backend's hosts (`backend/healthcheck`, modelled on Kong's healthchecks,
 * https://developer.konghq.com/gateway/traffic-control/health-checks-circuit-breakers/): active probes of `http_path` every `interval` seconds and passive counting of live
 * traffic move each target between healthy and unhealthy; a host name that does not resolve is
 * `dns_error`. Unhealthy and dns_error targets leave the round-robin. Counters reset each other as in
 * Kong (a success clears failures, a failure clears successes); a threshold of 0 disables its counter.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { request } from 'undici';
import type { HealthSettings, Thresholds } from '../config/namespaces/healthcheck.js';

export type TargetState = 'healthy' | 'unhealthy' | 'dns_error';

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

export type Observation =
  { readonly kind: 'status'; readonly status: number } | { readonly kind: 'tcp' } | { readonly kind: 'timeout' };

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

  /** One observation: a probe's (`t` = the active thresholds) or a live exchange's (passive, the default). */
  observe(i: number, o: Observation, t: Thresholds = this.settings.passive): void {
    if (o.kind === 'status') this.#status(i, o.status, t);
    else this.#failure(i, o.kind, t);
  }

  /** Passive checks (backends/passive-health.ts): a live exchange was answered with `status`. */
  passiveStatus(i: number, status: number): void {
    this.#status(i, status, this.settings.passive);
  }

  passiveTimeout(i: number): void {
    this.#failure(i, 'timeout', this.settings.passive);
  }

  passiveTcpFailure(i: number): void {
    this.#failure(i, 'tcp', this.settings.passive);
  }

  #status(i: number, status: number, t: Thresholds): void {
    const h = this.#health[i];
    if (h === undefined || h.state === 'dns_error') return;
    if (t.healthyStatuses.has(status)) {
      h.http = h.tcp = h.timeouts = 0;
      h.successes++;
      if (t.successes > 0 && h.successes >= t.successes) h.state = 'healthy';
      return;
    }
    h.successes = 0;
    if (!t.unhealthyStatuses.has(status)) return;
    h.http++;
    if (t.httpFailures > 0 && h.http >= t.httpFailures) h.state = 'unhealthy';
  }

  #failure(i: number, kind: 'tcp' | 'timeout', t: Thresholds): void {
    const h = this.#health[i];
    if (h === undefined || h.state === 'dns_error') return;
    h.successes = 0;
    if (kind === 'tcp') {
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
          const r = await request(`${t.origin}${this.settings.httpPath}`, {
            headersTimeout: this.settings.timeoutMs,
            bodyTimeout: this.settings.timeoutMs,
            signal: AbortSignal.timeout(this.settings.timeoutMs),
          });
          await r.body.dump();
          this.observe(i, { kind: 'status', status: r.statusCode }, this.settings.active);
        } catch (err) {
          const code = (err as { code?: string; name?: string }).code ?? (err as { name?: string }).name;
          this.observe(
            i,
            code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'TimeoutError' || code === 'UND_ERR_CONNECT_TIMEOUT'
              ? { kind: 'timeout' }
              : { kind: 'tcp' },
            this.settings.active,
          );
        }
      }),
    );
  }
}
