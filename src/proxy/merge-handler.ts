/**
 * The KrakenD merging pipeline (json and friends): every backend is called concurrently, each answer
 * decoded and formatted (target/allow/deny/mapping/group), then merged into one object. A partial
 * result is still served, flagged by `X-KrakenD-Completed: false`; when nothing succeeded the client
 * gets a 500 with a JSON error body. A non-2xx backend status is a failure, as in KrakenD.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EndpointConfig } from '../config/types.js';
import { TollgateError, isTollgateError } from '../errors/catalogue.js';
import { sendError } from '../server/respond.js';
import type { BackendCall } from './backend-call.js';
import { Deadline } from './deadline.js';
import { decodeBody } from './decode.js';
import { decompress } from './decompress.js';
import type { EndpointHandler, HandlerDeps } from './endpoint-handler.js';
import { compileFormatter, type Formatter, type JsonObject } from './formatter.js';
import { hasRequestBody } from './noop-handler.js';
import { readBounded } from './read-body.js';
import { renderOutput } from './render.js';
import { classifyUpstreamError } from './upstream-error.js';

interface PreparedBackend {
  readonly call: BackendCall;
  readonly format: Formatter;
}

type Outcome = { readonly ok: true; readonly data: JsonObject } | { readonly ok: false; readonly error: TollgateError };

export class MergeHandler implements EndpointHandler {
  readonly #endpoint: EndpointConfig;
  readonly #backends: readonly PreparedBackend[];
  readonly #deps: HandlerDeps;
  readonly #maxBody: number;
  readonly #needsBody: boolean;
  readonly #cacheControl: Record<string, string>;

  constructor(endpoint: EndpointConfig, calls: readonly BackendCall[], deps: HandlerDeps, maxBody: number) {
    this.#endpoint = endpoint;
    this.#backends = calls.map((call) => ({ call, format: compileFormatter(call.config) }));
    this.#deps = deps;
    this.#maxBody = maxBody;
    this.#needsBody = calls.some((c) => c.sendsBody);
    this.#cacheControl = endpoint.cacheTtlSeconds === undefined ? {} : { 'cache-control': `public, max-age=${endpoint.cacheTtlSeconds}` };
  }

  handle(req: IncomingMessage, res: ServerResponse, params: readonly string[], rawQuery: string): void {
    this.#run(req, res, params, rawQuery).catch((err: unknown) => {
      sendError(res, isTollgateError(err) ? err : new TollgateError('TG_ERR_INTERNAL', undefined, { cause: err }));
    });
  }

  async #run(req: IncomingMessage, res: ServerResponse, params: readonly string[], rawQuery: string): Promise<void> {
    const body = this.#needsBody && hasRequestBody(req) ? await readBounded(req, this.#maxBody, 'TG_ERR_BODY_TOO_LARGE') : undefined;
    const deadline = new Deadline(res, this.#endpoint.timeoutMs);
    let outcomes: Outcome[];
    try {
      outcomes = await Promise.all(this.#backends.map((b) => this.#call(b, req, params, rawQuery, body, deadline.signal)));
    } finally {
      deadline.dispose();
    }
    if (res.destroyed) return;
    const merged: JsonObject = {};
    let failures = 0;
    for (const o of outcomes) {
      if (o.ok) Object.assign(merged, o.data);
      else failures++;
    }
    if (failures === outcomes.length) {
      const first = outcomes.find((o): o is Extract<Outcome, { ok: false }> => !o.ok);
      const cause = first?.error;
      sendError(res, new TollgateError('TG_ERR_ALL_BACKENDS_FAILED', undefined, { cause }), { 'x-krakend-completed': 'false' });
      return;
    }
    const out = renderOutput(merged, this.#endpoint.outputEncoding);
    res.writeHead(200, {
      'content-type': out.contentType,
      'content-length': Buffer.byteLength(out.body),
      'X-KrakenD-Completed': failures === 0 ? 'true' : 'false',
      ...this.#cacheControl,
    });
    res.end(out.body);
  }

  async #call(b: PreparedBackend, req: IncomingMessage, params: readonly string[], rawQuery: string, body: Buffer | undefined, signal: AbortSignal): Promise<Outcome> {
    try {
      const { dispatcher, options } = b.call.prepare(req, params, rawQuery, b.call.sendsBody ? body : undefined, signal);
      const r = await dispatcher.request(options);
      if (r.statusCode < 200 || r.statusCode > 299) {
        await r.body.dump();
        throw new TollgateError('TG_ERR_BACKEND_STATUS', `the backend answered ${r.statusCode}`);
      }
      const raw = await readBounded(r.body, this.#maxBody, 'TG_ERR_BACKEND_DECODE');
      let text: string;
      try {
        text = (await decompress(raw, r.headers['content-encoding'])).toString('utf8');
      } catch (err) {
        throw new TollgateError('TG_ERR_BACKEND_DECODE', 'the backend response could not be decompressed', { cause: err });
      }
      const data = b.format(decodeBody(text, b.call.config.encoding, b.call.config.isCollection));
      return { ok: true, data };
    } catch (err) {
      const error = isTollgateError(err) && err.code !== 'TG_ERR_BACKEND_TIMEOUT' ? err : classifyUpstreamError(err, signal);
      this.#deps.onBackendError(this.#endpoint.path, b.call.config.urlPattern, error);
      return { ok: false, error };
    }
  }
}
