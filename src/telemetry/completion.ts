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
    if (--rec.unfinished !== 0) return;
    if (rec.aborted) rec.status = abandonedStatus(rec);
    this.#complete(rec);
  }
}

/**
 * What lura writes when the client left before the answer (its request context is canceled,
 * lura router/gin/endpoint.go:46-58): with data from a backend that finished first, the merge keeps
 * it (lura proxy/merging.go:475-484) and the endpoint renders it with gin's default 200
 * (endpoint.go:116, render.go:104-111); with none, the proxy's error becomes
 * `c.Status(500)` (endpoint.go:94-106, transport/http/server/server.go:30-34). Known only once the
 * proxy is done, hence here.
 */
function abandonedStatus(rec: RequestRecord): number {
  const brs = rec.backends;
  if (brs !== undefined) for (const b of brs) if (b.stageComplete) return 200;
  return 500;
}
