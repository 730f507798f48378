/**
 * A request's record is complete when everything that writes it is done: the response (closed) and,
 * when it ran, the proxy, which may still be working after the client left — the record then waits
 * for it, so the proxy's duration and `canceled` flag are real. The latch counts these parts on the
 * record (a number) and hands the record to telemetry when the count reaches zero, so a request
 * allocates nothing for it and no callback rides on the record.
 */
import type { RequestRecord } from './record.js';

export class CompletionLatch {
  readonly #complete: (rec: RequestRecord) => void;

  /** `complete` receives each record once, when its last part is done. */
  constructor(complete: (rec: RequestRecord) => void) {
    this.#complete = complete;
  }

  /** The proxy starts writing the record (its backends' parts too): the record waits for `proxyDone`. */
  proxyStarted(rec: RequestRecord, at: number): void {
    rec.proxyStart = at;
    rec.unfinished++;
  }

  /** The proxy is done with the record. */
  proxyDone(rec: RequestRecord, at: number): void {
    rec.proxyEnd = at;
    this.#release(rec);
  }

  /** The response closed (answered, or the client left); its status and sizes are in the record. */
  responseClosed(rec: RequestRecord): void {
    this.#release(rec);
  }

  #release(rec: RequestRecord): void {
    if (--rec.unfinished === 0) this.#complete(rec);
  }
}
