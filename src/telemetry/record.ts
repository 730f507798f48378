/**
 * One record per request, filled on the data path with monotonic timestamps (performance.now(), ms)
 * and outcomes; the telemetry views turn it into increments when the response is done. Nothing here
 * builds strings or looks anything up.
 */

import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Context, SpanContext } from '@opentelemetry/api';
import type { Consumer } from '../config/namespaces/api-keys.js';
import { Outcome } from '../backends/outcome.js';
import type { ClientConnection } from './client-connection.js';

export { Outcome } from '../backends/outcome.js';

export class BackendRecord {
  /** Index of the host (round-robin target) the request went to. */
  target = 0;
  stageStart = 0;
  stageEnd = 0;
  /** Backend stage result as the proxy sees it: error (failed or non-2xx in merging), canceled. */
  stageError = false;
  stageCanceled = false;
  stageComplete = false;
  /** Round trip: dispatched, given a connection, headers received, body finished. 0 = not reached. */
  dispatchAt = 0;
  connectedAt = 0;
  headersAt = 0;
  bodyStartAt = 0;
  bodyEndAt = 0;
  /**
   * DNS lookup and TLS handshake (ms) of the connection opened for this request; 0 when it reused a
   * pooled one, as krakend-otel's httptrace hooks leave them (backends/connect-timing.ts).
   */
  dnsMs = 0;
  tlsMs = 0;
  status = 0;
  outcome: Outcome = Outcome.Ok;
  requestSize = -1;
  contentLength = -1;
  readBytes = 0;
  readError = false;
  /** Where the request went (for the client span), set only when the request is traced. */
  origin = '';
  path = '';
  sentHeaders: Record<string, string | string[]> | undefined;
  /** Id of the client span, made before the request is sent so it can be propagated. */
  clientSpanId: string | undefined;
  error: Error | undefined;
}

/** The trace of one request, when tracing is on for it. */
export class TraceContext {
  constructor(
    readonly traceId: string,
    readonly rootSpanId: string,
    readonly sampled: boolean,
    /** The remote parent (from the request headers), and the context carrying its baggage. */
    readonly parent: SpanContext | undefined,
    readonly parentContext: Context | undefined,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
  ) {}

  /** The proxy span's id, made when the request ends if the span is to be made (exemplars point to it). */
  proxySpanId: string | undefined;
  /** The response head went out but not its end (the client connection broke), as it was when the request ended. */
  writeFailed = false;
}

export class RequestRecord {
  start: number;
  end = 0;
  /** Index into the route table, -1 when no endpoint matched. */
  route = -1;
  /**
   * The status as KrakenD's router writes it: the one sent, or for a request the client left before
   * any head went out (`aborted`), the one lura would have written (telemetry/completion.ts).
   */
  status = 0;
  /**
   * The client closed the connection before any response head was written. KrakenD's views keep
   * `status`; Kong's record 499 (nginx's "client closed request").
   */
  aborted = false;
  /** Body bytes written to the client, as krakend-otel counts them (server/counted-response.ts). */
  bytesOut = 0;
  proxyStart = 0;
  proxyEnd = 0;
  proxyError = false;
  proxyCanceled = false;
  proxyComplete = false;
  backends: BackendRecord[] | undefined;
  /**
   * Parts still writing this record: the response until it closes, and the proxy while it runs
   * (telemetry/completion.ts hands the record on at 0).
   */
  unfinished = 1;
  trace: TraceContext | undefined;
  /** The consumer identified by an API key (auth/api-keys), if any. */
  consumer: Consumer | undefined;
  /** The client connection's address and TLS facts, copied when the request started. */
  connection: ClientConnection | undefined;
  /**
   * Bytes of this request on the client connection, as nginx's `$request_length` and `$bytes_sent`
   * (head and body, chunk framing included), set when the response closes.
   */
  wireIn = 0;
  wireOut = 0;
  /**
   * The response head's headers when the handler wrote them in one writeHead object, which Node does
   * not keep (getHeaders() is empty then); undefined when the response's getHeaders() has them.
   */
  responseHeaders: OutgoingHttpHeaders | undefined;

  constructor(
    readonly method: string,
    readonly path: string,
    start: number,
  ) {
    this.start = start;
  }

  backend(i: number): BackendRecord {
    this.backends ??= [];
    let b = this.backends[i];
    if (b === undefined) {
      b = new BackendRecord();
      this.backends[i] = b;
    }
    return b;
  }
}

/** Something that turns finished records into metrics (a view), or spans. */
export interface RecordSink {
  record(rec: RequestRecord): void;
}
