/**
 * Sampled requests' spans encoded a few at a time instead of as each request ends. Encoding one
 * request's spans runs a few hundred small functions over a few kilobytes; run between two proxied
 * requests, it finds little of that in the CPU's caches and costs several times what it costs run
 * back to back. A worker profile at 2,300 req/s (bench/trace-cost-profile.ts, OTLP/HTTP, 5 spans with
 * every header): ~67 µs per sampled request at rate 0.1 and ~20 µs at rate 1 one at a time; ~23 and
 * ~15 µs in groups of up to 32 flushed after 50 ms. At rate 0.1 such a group was only ~13 requests
 * (2,600 req/s × 0.1 × 50 ms), each group paying the cold start again; with groups of 64 flushed after
 * 250 ms the same profile put a sampled request's whole deferral (admit, encode, batch) at ~8 µs at
 * rate 0.1 (~22 before) and ~7 µs at rate 1 (~8 before). So a request that ends is only admitted (the
 * tracer settles what its spans need from the live request), queued, and encoded with the others queued
 * when `DEFERRAL_GROUP` are waiting or `DEFERRAL_DELAY_MS` after the first.
 *
 * The queue holds at most `DEFERRAL_GROUP` finished requests, for at most `DEFERRAL_DELAY_MS`: memory
 * stays bounded and the spans reach the batch (which waits seconds before it is sent) a little later. A
 * full group is encoded in the close handler of the request that filled it: ~0.4 ms at rate 1 during
 * which the requests arriving wait (~0.2 ms with 32).
 * `flush` encodes what is queued at once (shutdown, before the batchers send their last).
 */
import type { RequestRecord } from '../record.js';
import type { RequestTracer } from './request-tracer.js';
import { GroupQueue } from '../group-queue.js';

export const DEFERRAL_GROUP = 64;
export const DEFERRAL_DELAY_MS = 250;

export class SpanDeferral {
  readonly #tracer: RequestTracer;
  readonly #queue: GroupQueue<RequestRecord>;

  /** `onError`: a request whose spans could not be encoded (the others queued with it still are). */
  constructor(tracer: RequestTracer, onError: (err: unknown) => void) {
    this.#tracer = tracer;
    this.#queue = new GroupQueue(DEFERRAL_GROUP, DEFERRAL_DELAY_MS, (list) => {
      for (let i = 0; i < list.length; i++) {
        try {
          tracer.encode(list[i] as RequestRecord);
        } catch (err) {
          onError(err);
        }
      }
    });
  }

  /** When a request is done (before the metric views read it: `admit` names the span ids their exemplars use). */
  add(rec: RequestRecord): void {
    if (this.#tracer.admit(rec)) this.#queue.add(rec);
  }

  /** Encodes every queued request's spans now. */
  flush(): void {
    this.#queue.flush();
  }
}
