/** Passive health checks: live backend exchanges reported to their backend's health checker. */
import type { HealthChecker } from '../backends/health.js';
import { Outcome, type RecordSink, type RequestRecord } from './record.js';

export class PassiveHealthView implements RecordSink {
  readonly #health: readonly (readonly (HealthChecker | undefined)[])[];

  constructor(health: readonly (readonly (HealthChecker | undefined)[])[]) {
    this.#health = health;
  }

  record(rec: RequestRecord): void {
    const checkers = rec.route >= 0 ? this.#health[rec.route] : undefined;
    const brs = rec.backends;
    if (checkers === undefined || brs === undefined) return;
    for (let i = 0; i < brs.length; i++) {
      const br = brs[i];
      const h = checkers[i];
      if (br === undefined || h === undefined || br.dispatchAt === 0) continue;
      if (br.outcome === Outcome.Ok && br.headersAt !== 0) h.observe(br.target, { kind: 'status', status: br.status });
      else if (br.outcome === Outcome.TimedOut) h.observe(br.target, { kind: 'timeout' });
      else if (br.outcome === Outcome.Failed) h.observe(br.target, { kind: 'tcp' });
    }
  }
}
