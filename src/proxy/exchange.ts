/**
 * Backend exchanges on undici's dispatch API: the response is handled as it arrives (no intermediate
 * stream objects), and every phase is timestamped into the request's BackendRecord: connection given
 * (get-conn), headers (round trip), first and last body byte (read payload).
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { TollgateError } from '../errors/catalogue.js';
import type { BackendRecord } from '../telemetry/record.js';
import type { Abortable } from './deadline.js';
import { claimNewConnection } from '../backends/connect-timing.js';
import { clientResponseHeaders } from './headers.js';
import { isRedirectStatus, RedirectChain, type RedirectDispatchers } from './redirect.js';

type Controller = Dispatcher.DispatchController;

/**
 * How a pooled keep-alive socket fails when the backend closed it while the request was on its way
 * (the idle-close race of RFC 9112 §9.3.1): nothing of a response arrived, so the request may go again.
 */
const STALE_SOCKET = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

function contentLength(headers: Record<string, string | string[] | undefined>): number {
  const v = headers['content-length'];
  return typeof v === 'string' && v !== '' ? Number(v) : -1;
}

abstract class Exchange implements Dispatcher.DispatchHandler, Abortable {
  protected controller: Controller | undefined;
  #pendingAbort: TollgateError | undefined;
  protected done = false;
  /**
   * Where and how to send the request once more, set when that is safe (a safe method and a body that
   * can be replayed, RFC 9110 §9.2.2); used at most once, and only before any response byte. Fields
   * rather than a closure: nothing is allocated per request for it.
   */
  #replayVia: Dispatcher | undefined;
  #replayOptions: Dispatcher.DispatchOptions | undefined;
  /** Where redirects go; undefined when they are not followed (`no_redirect`). */
  #redirects: RedirectDispatchers | undefined;
  #options: Dispatcher.DispatchOptions | undefined;
  /** Made at the first redirect only (proxy/redirect.ts). */
  #chain: RedirectChain | undefined;
  /** The next hop while a redirect's body is read and dropped, as Go's client does. */
  #nextHop: Dispatcher.DispatchOptions | undefined;

  /** Sends the request; the exchange replays it on a stale pooled socket and follows redirects as told. */
  send(
    dispatcher: Dispatcher,
    options: Dispatcher.DispatchOptions,
    replayable: boolean,
    redirects: RedirectDispatchers | undefined,
  ): void {
    if (replayable) {
      this.#replayVia = dispatcher;
      this.#replayOptions = options;
    }
    this.#redirects = redirects;
    this.#options = options;
    dispatcher.dispatch(options, this);
  }

  constructor(protected readonly rec: BackendRecord) {}

  abort(reason: TollgateError): void {
    if (this.done) return;
    if (this.controller !== undefined) this.controller.abort(reason);
    else {
      // Still queued for a connection: fail now, abort as soon as undici hands it a socket.
      this.#pendingAbort = reason;
      this.finish(reason);
    }
  }

  onRequestStart(controller: Controller): void {
    claimNewConnection(this.rec);
    this.controller = controller;
    if (this.#pendingAbort !== undefined) {
      controller.abort(this.#pendingAbort);
      return;
    }
    if (this.rec.connectedAt === 0) this.rec.connectedAt = performance.now();
  }

  /**
   * A response head. undici hands interim 1xx heads (102, 103) over too: a proxy skips them and relays
   * the final one (RFC 9110 §15.2), as Go's transport and nginx do. Only a final head with a real
   * status reaches the subclass, as `finalHead`.
   */
  onResponseStart(c: Controller, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return;
    if (this.#redirects !== undefined && isRedirectStatus(statusCode) && this.#redirect(c, statusCode, headers)) return;
    if (statusCode > 599) {
      this.#refuseStatus(c, statusCode);
      return;
    }
    this.rec.headersAt = performance.now();
    this.rec.status = statusCode;
    this.rec.contentLength = contentLength(headers);
    this.finalHead(statusCode, headers);
  }

  protected abstract finalHead(statusCode: number, headers: Record<string, string | string[] | undefined>): void;

  /** Whether the answer is a redirect to follow (or a failed one, the exchange then fails). */
  #redirect(c: Controller, statusCode: number, headers: Record<string, string | string[] | undefined>): boolean {
    this.#chain ??= new RedirectChain(this.#options as Dispatcher.DispatchOptions);
    const next = this.#chain.next(statusCode, headers);
    if (next === undefined) return false;
    if (next instanceof Error) c.abort(next);
    else this.#nextHop = next;
    return true;
  }

  onResponseData(c: Controller, chunk: Buffer): void {
    if (this.#nextHop === undefined) this.data(c, chunk);
  }

  onResponseEnd(): void {
    const next = this.#nextHop;
    if (next === undefined) {
      this.end();
      return;
    }
    this.#nextHop = undefined;
    if (this.done) return;
    // Until the next hop starts, an abort fails the exchange at once (and reaches the hop when it starts).
    this.controller = undefined;
    const via = (this.#redirects as RedirectDispatchers)(String(next.origin));
    if (this.#replayVia !== undefined) {
      this.#replayVia = via;
      this.#replayOptions = next;
    }
    via.dispatch(next, this);
  }

  protected abstract data(c: Controller, chunk: Buffer): void;
  protected abstract end(): void;

  /**
   * A code outside 100–599 is not a status (RFC 9110 §15: a client treats it as a 5xx), so the exchange
   * fails as a malformed response does: 502 to the client, a failed round trip (status 0) in the
   * metrics, and no such code ever reaches a client or a label. llhttp already refuses codes that are
   * not three digits, as Go's client does ("malformed HTTP status code" in net/http ReadResponse,
   * https://github.com/golang/go/blob/master/src/net/http/response.go); Go reads 600–999, so KrakenD
   * relays them, and 800 distinct ones on a no-op route grew /metrics by 36 MB here.
   */
  #refuseStatus(c: Controller, statusCode: number): void {
    c.abort(
      new TollgateError('TG_ERR_BACKEND_UNAVAILABLE', `the backend answered status ${statusCode}, outside 100-599`),
    );
  }

  protected countData(len: number): void {
    if (this.rec.bodyStartAt === 0) this.rec.bodyStartAt = performance.now();
    this.rec.readBytes += len;
  }

  onResponseError(_c: Controller, err: Error): void {
    claimNewConnection(this.rec);
    this.#nextHop = undefined;
    const via = this.#replayVia;
    const options = this.#replayOptions;
    this.#replayVia = undefined;
    if (
      via !== undefined &&
      options !== undefined &&
      !this.done &&
      this.rec.headersAt === 0 &&
      STALE_SOCKET.has((err as { code?: string }).code ?? '')
    ) {
      // Go's transport does the same for a request that found its pooled connection closed. The next
      // turn of the loop, so the pool has let go of the dead socket and hands out another one.
      this.controller = undefined;
      setImmediate(() => {
        if (!this.done) via.dispatch(options, this);
      });
      return;
    }
    if (this.rec.headersAt !== 0) this.rec.readError = true;
    this.finish(err);
  }

  protected abstract finish(err?: unknown): void;
}

/** `no-op`: status, headers and body go straight to the client, with backpressure both ways. */
export class StreamExchange extends Exchange {
  readonly #res: ServerResponse;
  readonly #onDone: (err: unknown) => void;
  /** Whether stages may have set response headers before the proxy (CORS, security headers). */
  readonly #preset: boolean;

  constructor(rec: BackendRecord, res: ServerResponse, onDone: (err: unknown) => void, preset: boolean) {
    super(rec);
    this.#res = res;
    this.#onDone = onDone;
    this.#preset = preset;
  }

  /**
   * The gateway's headers first, then the backend's, as lura's no-op render `Add`s the backend's
   * headers to those the writer already has (router/gin/render.go): `X-Krakend-Completed: false` (lura's
   * endpoint handler flags every no-op answer incomplete, router/gin/endpoint.go), then, when the service
   * has CORS or security stages, what they set. Written in the writeHead object, not with `setHeader`:
   * this runs for every no-op response.
   */
  protected finalHead(statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    const out = clientResponseHeaders(headers);
    const theirs = out['x-krakend-completed'];
    if (theirs === undefined) out['X-Krakend-Completed'] = 'false';
    else out['x-krakend-completed'] = ['false', ...(Array.isArray(theirs) ? theirs : [String(theirs)])];
    if (this.#preset) this.#keepPreset(out);
    this.#res.writeHead(statusCode, out);
  }

  #keepPreset(out: OutgoingHttpHeaders): void {
    for (const name of this.#res.getHeaderNames()) {
      const theirs = out[name];
      if (theirs === undefined) continue;
      const ours = this.#res.getHeader(name) as string | string[];
      out[name] = [
        ...(Array.isArray(ours) ? ours : [String(ours)]),
        ...(Array.isArray(theirs) ? theirs : [String(theirs)]),
      ];
    }
  }

  protected data(c: Controller, chunk: Buffer): void {
    this.countData(chunk.length);
    if (!this.#res.write(chunk)) {
      c.pause();
      this.#res.once('drain', () => c.resume());
    }
  }

  protected end(): void {
    this.rec.bodyEndAt = performance.now();
    this.#res.end();
    this.finish(undefined);
  }

  protected finish(err: unknown): void {
    if (this.done) return;
    this.done = true;
    if (err !== undefined && this.rec.bodyEndAt === 0 && this.rec.bodyStartAt !== 0)
      this.rec.bodyEndAt = performance.now();
    this.#onDone(err);
  }
}

export interface BufferedResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** Merging encodings: the body is collected (bounded) for decoding. */
export class BufferExchange extends Exchange {
  readonly #limit: number;
  readonly #resolve: (r: BufferedResponse) => void;
  readonly #reject: (err: unknown) => void;
  #chunks: Buffer[] = [];
  #size = 0;
  #status = 0;
  #headers: Record<string, string | string[] | undefined> = {};

  constructor(
    rec: BackendRecord,
    limit: number,
    resolve: (r: BufferedResponse) => void,
    reject: (err: unknown) => void,
  ) {
    super(rec);
    this.#limit = limit;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  protected finalHead(statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.#status = statusCode;
    this.#headers = headers;
  }

  protected data(c: Controller, chunk: Buffer): void {
    this.countData(chunk.length);
    this.#size += chunk.length;
    if (this.#size > this.#limit) {
      c.abort(new TollgateError('TG_ERR_BACKEND_DECODE', `the backend response is larger than ${this.#limit} bytes`));
      return;
    }
    this.#chunks.push(chunk);
  }

  protected end(): void {
    this.rec.bodyEndAt = performance.now();
    if (this.done) return;
    this.done = true;
    const body = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks, this.#size);
    this.#chunks = [];
    this.#resolve({ status: this.#status, headers: this.#headers, body });
  }

  protected finish(err: unknown): void {
    if (this.done) return;
    this.done = true;
    this.#chunks = [];
    if (this.rec.bodyStartAt !== 0 && this.rec.bodyEndAt === 0) this.rec.bodyEndAt = performance.now();
    this.#reject(err);
  }
}
