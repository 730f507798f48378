/**
 * `no-op` encoding: the one backend's status, headers (minus hop-by-hop) and body are streamed to the
 * client unchanged, and the client's body streamed to the backend; nothing is buffered, so a 10 MB
 * body costs no more memory than a 1 KB one.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { EndpointConfig } from '../config/types.js';
import type { BackendCall, BackendRequest } from './backend-call.js';
import { Deadline } from './deadline.js';
import type { EndpointHandler, HandlerDeps } from './endpoint-handler.js';
import { clientResponseHeaders } from './headers.js';
import { sendError } from '../server/respond.js';
import { classifyUpstreamError } from './upstream-error.js';

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

  handle(req: IncomingMessage, res: ServerResponse, params: readonly string[], rawQuery: string): void {
    const deadline = new Deadline(res, this.#endpoint.timeoutMs);
    const body = this.#call.sendsBody && hasRequestBody(req) ? req : undefined;
    let prepared: BackendRequest;
    try {
      prepared = this.#call.prepare(req, params, rawQuery, body, deadline.signal);
    } catch (err) {
      this.#fail(res, err, deadline);
      return;
    }
    const { dispatcher, options } = prepared;
    const factory = ({ statusCode, headers }: Dispatcher.StreamFactoryData): ServerResponse => {
      res.writeHead(statusCode, clientResponseHeaders(headers));
      return res;
    };
    dispatcher.stream(options, factory).then(
      () => deadline.dispose(),
      (err: unknown) => this.#fail(res, err, deadline),
    );
  }

  #fail(res: ServerResponse, err: unknown, deadline: Deadline): void {
    const failure = classifyUpstreamError(err, deadline.signal);
    deadline.dispose();
    this.#deps.onBackendError(this.#endpoint.path, this.#call.config.urlPattern, failure);
    sendError(res, failure);
  }
}
