/**
 * Which status codes of one route (or one backend) become series of their own. A status label is
 * only a closed set if something closes it: a backend is free to answer 299, 477 or 599. A backend
 * answering the 800 codes 200–999 on one no-op route made /metrics 36 MB (each code bound a series in
 * every status-labelled family: server duration and size, the round-trip families, Kong's requests);
 * with this budget, and codes above 599 refused by the proxy, 3.1 MB.
 *
 * The codes node:http names (RFC 9110's and the registered extensions, about sixty) are the closed
 * set: always a series of their own, so the codes dashboards look for never go missing. Any other
 * code between 100 and 599 takes one of `UNNAMED_STATUS_BUDGET` places of its route; past them it
 * shares the family's overflow series (`otel_metric_overflow="true"`, as the OTel SDK names it).
 * Status 0 (no response: a transport failure) is a value of the closed set too. Nothing outside
 * 100–599 is a status (RFC 9110 §15): the proxy answers 502 for it, and here it is overflow.
 *
 * Decisions are made once per code and remembered, so views ask only when they bind a cell.
 */
import { STATUS_CODES } from 'node:http';

/** Unnamed codes a route may give series of their own. */
export const UNNAMED_STATUS_BUDGET = 8;

const enum Decision {
  Unseen = 0,
  Own = 1,
  Overflow = 2,
}

/** Whether `status` is in node:http's table of named codes (or 0, no response). */
export function isNamedStatus(status: number): boolean {
  return status === 0 || (status >= 100 && status <= 599 && STATUS_CODES[status] !== undefined);
}

export class StatusBudget {
  readonly #decisions = new Uint8Array(600);
  #unnamed = 0;

  constructor(readonly limit = UNNAMED_STATUS_BUDGET) {}

  /** Whether this status gets series of its own here (false: the family's overflow series). */
  admit(status: number): boolean {
    if (!Number.isInteger(status) || status < 0 || status > 599 || (status > 0 && status < 100)) return false;
    const d = this.#decisions[status] as Decision;
    if (d !== Decision.Unseen) return d === Decision.Own;
    const own = isNamedStatus(status) || this.#unnamed < this.limit;
    if (own && !isNamedStatus(status)) this.#unnamed++;
    this.#decisions[status] = own ? Decision.Own : Decision.Overflow;
    return own;
  }
}
