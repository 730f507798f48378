/**
 * Passive health checks (Kong's `healthchecks.passive`,
 * https://docs.konghq.com/gateway/latest/how-kong-works/health-checks/): the backend stage reports
 * every exchange it sent, as it ends, straight to the backend's health checker, which steers the
 * round-robin. An answer counts by its status, a timeout as a timeout, any other transport failure
 * as a TCP failure; an exchange cancelled because the client left, or never sent, counts for nothing.
 */
import type { HealthChecker } from './health.js';
import { Outcome } from './outcome.js';

/** What the backend stage knows of an exchange when it ends (a BackendRecord has these fields). */
export interface ExchangeFacts {
  /** Index of the target (host) the exchange went to. */
  readonly target: number;
  /** When the request was dispatched; 0 when it never was (no usable target, refused before sending). */
  readonly dispatchAt: number;
  /** When the response head arrived; 0 when none did. */
  readonly headersAt: number;
  readonly status: number;
  readonly outcome: Outcome;
}

export function reportExchange(health: HealthChecker, ex: ExchangeFacts): void {
  if (ex.dispatchAt === 0) return;
  if (ex.outcome === Outcome.Ok && ex.headersAt !== 0) health.passiveStatus(ex.target, ex.status);
  else if (ex.outcome === Outcome.TimedOut) health.passiveTimeout(ex.target);
  else if (ex.outcome === Outcome.Failed) health.passiveTcpFailure(ex.target);
}
