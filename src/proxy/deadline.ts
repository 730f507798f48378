/**
 * The endpoint's `timeout` for every backend exchange of a request, also fired when the client goes
 * away, so no backend work outlives the request that wanted it. One timer per request; exchanges
 * register themselves and are aborted directly (no AbortSignal event plumbing on the hot path).
 */
import type { ServerResponse } from 'node:http';
import type { TollgateError } from '../errors/catalogue.js';
import { CLIENT_GONE, DEADLINE } from './upstream-error.js';

export interface Abortable {
  abort(reason: TollgateError): void;
}

export class Deadline {
  reason: TollgateError | undefined;
  readonly #timer: NodeJS.Timeout;
  readonly #res: ServerResponse;
  #targets: Abortable[] = [];
  readonly #onClose = (): void => {
    if (!this.#res.writableFinished) this.#fire(CLIENT_GONE);
  };

  constructor(res: ServerResponse, timeoutMs: number) {
    this.#res = res;
    this.#timer = setTimeout(() => this.#fire(DEADLINE), timeoutMs);
    res.once('close', this.#onClose);
  }

  add(target: Abortable): void {
    if (this.reason !== undefined) target.abort(this.reason);
    else this.#targets.push(target);
  }

  #fire(reason: TollgateError): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    const targets = this.#targets;
    this.#targets = [];
    for (const t of targets) t.abort(reason);
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#res.removeListener('close', this.#onClose);
    this.#targets = [];
  }
}
