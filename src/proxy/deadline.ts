/**
 * The endpoint's `timeout` as one abort signal for every backend call of a request, also fired when
 * the client goes away, so no backend work outlives the request that wanted it.
 */
import type { ServerResponse } from 'node:http';
import { CLIENT_GONE, DEADLINE } from './upstream-error.js';

export class Deadline {
  readonly #controller = new AbortController();
  readonly #timer: NodeJS.Timeout;
  readonly #res: ServerResponse;
  readonly #onClose = (): void => {
    if (!this.#res.writableFinished) this.#controller.abort(CLIENT_GONE);
  };

  constructor(res: ServerResponse, timeoutMs: number) {
    this.#res = res;
    this.#timer = setTimeout(() => this.#controller.abort(DEADLINE), timeoutMs);
    res.once('close', this.#onClose);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#res.removeListener('close', this.#onClose);
  }
}
