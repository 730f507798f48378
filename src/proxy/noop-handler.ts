/**
 * `no-op` encoding: the one backend's status, headers (minus hop-by-hop) and body are streamed to the
 * client unchanged, and the client's body streamed to the backend; nothing is buffered, so a 10 MB
 * body costs no more memory than a 1 KB one.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { EndpointConfig } from '../config/types.js';
import { sendError } from '../http/respond.js';
import type { BackendRecord, RequestRecord } from '../telemetry/record.js';
import type { BackendCall } from './backend-call.js';
import { Deadline } from './deadline.js';
import type { EndpointHandler, HandlerDeps } from './endpoint-handler.js';
import { StreamExchange } from './exchange.js';
import { classifyUpstreamError, outcomeOf } from './upstream-error.js';

export function hasRequestBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  return (cl !== undefined && cl !== '0') || req.headers['transfer-encoding'] !== undefined;
}

export class NoopHandler implements EndpointHandler {
  readonly #endpoint: EndpointConfig;
  readonly #call: BackendCall;
  readonly #deps: HandlerDeps;

  constructor(endpoint: EndpointConfig, call: BackendCall, deps: HandlerDeps) {
    this.#endpoint = endpoint;
    this.#call = call;
    this.#deps = deps;
  }

  handle(
    req: IncomingMessage,
    res: ServerResponse,
    params: readonly string[],
    rawQuery: string,
    rec: RequestRecord,
    preread?: Buffer,
  ): void {
    const deadline = new Deadline(res, this.#endpoint.timeoutMs);
    const body = !this.#call.sendsBody ? undefined : (preread ?? (hasRequestBody(req) ? req : undefined));
    const completion = this.#deps.completion;
    completion.proxyStarted(rec, performance.now());
    const br = rec.backend(0);
    br.stageStart = rec.proxyStart;
    const done = (err: unknown): void => {
      deadline.dispose();
      const now = performance.now();
      br.stageEnd = now;
      if (err === undefined) br.stageComplete = rec.proxyComplete = true;
      else this.#fail(res, err, deadline, br, rec);
      this.#call.finished(br);
      completion.proxyDone(rec, now);
    };
    try {
      const { dispatcher, options } = this.#call.prepare(req, params, rawQuery, body, br, rec);
      const exchange = new StreamExchange(br, res, done, this.#deps.presetHeaders === true);
      deadline.add(exchange);
      exchange.send(dispatcher, options, this.#call.replayable(body), this.#call.redirects);
    } catch (err) {
      done(err);
    }
  }

  #fail(res: ServerResponse, err: unknown, deadline: Deadline, br: BackendRecord, rec: RequestRecord): void {
    const failure = classifyUpstreamError(err, deadline.reason);
    // As in the merging handler (and krakend-otel, whose round trip ends at the headers): a body cut
    // after the headers is a completed round trip with a read error, not a failed request.
    if (br.headersAt === 0 || failure.code === 'TG_ERR_BACKEND_TIMEOUT' || failure.code === 'TG_ERR_CLIENT_ABORTED')
      br.outcome = outcomeOf(failure);
    br.error = failure;
    const canceled = failure.code === 'TG_ERR_CLIENT_ABORTED';
    br.stageCanceled = rec.proxyCanceled = canceled;
    br.stageError = rec.proxyError = !canceled;
    this.#deps.onBackendError(this.#endpoint.path, this.#call.config.urlPattern, failure);
    // lura's endpoint handler flags every no-op answer as incomplete, errors included
    // (https://github.com/luraproject/lura/blob/caa4317164ade7db87a449406b84e434657f415c/router/gin/endpoint.go#L60-L77).
    if (!res.headersSent) res.setHeader('X-Krakend-Completed', 'false');
    sendError(res, failure);
  }
}
