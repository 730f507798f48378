/**
 * The KrakenD merging pipeline (json and friends): every backend is called concurrently, each answer
 * decoded and formatted (target/allow/deny/mapping/group), then merged into one object. A partial
 * result is still served, flagged by `X-Krakend-Completed: false`; when nothing succeeded the client
 * gets a 500 with a JSON error body. A backend status other than 200 or 201 is a failure, as in KrakenD.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EndpointConfig } from '../config/types.js';
import { TollgateError, isTollgateError } from '../errors/catalogue.js';
import { sendError } from '../http/respond.js';
import type { BackendCall } from './backend-call.js';
import { Deadline } from './deadline.js';
import { decodeBody } from './decode.js';
import { decompress } from './decompress.js';
import { exceedsJsonDepth, maxJsonDepth } from './json-depth.js';
import type { EndpointHandler, HandlerDeps } from './endpoint-handler.js';
import { compileFormatter, type Formatter, type JsonObject } from './formatter.js';
import { hasRequestBody } from './noop-handler.js';
import { readBounded } from './read-body.js';
import { GoJsonWriter } from './go-json.js';
import { renderOutput } from './render.js';
import { errorDetails, isSuccessStatus } from './backend-status.js';
import { classifyUpstreamError, outcomeOf } from './upstream-error.js';
import { BufferExchange, type BufferedResponse } from './exchange.js';
import type { BackendRecord, RequestRecord } from '../telemetry/record.js';
import { performance } from 'node:perf_hooks';

/**
 * Spelled as KrakenD puts it on the wire: lura's `CompleteResponseHeaderName`
 * (github.com/luraproject/lura/blob/master/transport/http/server/server.go), which Go's canonical
 * header form would produce anyway. Node sends names as given, so every response uses this one.
 */
const COMPLETED = 'X-Krakend-Completed';

interface PreparedBackend {
  readonly call: BackendCall;
  readonly format: Formatter;
}

type Result =
  | { readonly ok: true; readonly data: JsonObject }
  | {
      readonly ok: false;
      readonly error: TollgateError;
      /** The backend's status when the stage failed on it (not 200/201), else 0. */
      readonly status: number;
      /** `return_error_details`: what the failure puts in the merged body. */
      readonly details: JsonObject | undefined;
    };

export class MergeHandler implements EndpointHandler {
  readonly #endpoint: EndpointConfig;
  readonly #backends: readonly PreparedBackend[];
  readonly #deps: HandlerDeps;
  readonly #maxBody: number;
  readonly #maxDepth: number;
  readonly #needsBody: boolean;
  readonly #cacheControl: Record<string, string>;
  /** `backend/http.return_error_code` on the endpoint's only backend. */
  readonly #returnsCode: boolean;
  /** Go's key order for this endpoint's responses, each backend shape sorted once (proxy/go-json.ts). */
  readonly #json = new GoJsonWriter();

  constructor(endpoint: EndpointConfig, calls: readonly BackendCall[], deps: HandlerDeps, maxBody: number) {
    this.#endpoint = endpoint;
    this.#backends = calls.map((call) => ({ call, format: compileFormatter(call.config) }));
    this.#deps = deps;
    this.#maxBody = maxBody;
    this.#maxDepth = maxJsonDepth(endpoint.outputEncoding);
    this.#needsBody = calls.some((c) => c.sendsBody);
    this.#returnsCode = calls.length === 1 && calls[0]?.config.errorReturn.code === true;
    this.#cacheControl =
      endpoint.cacheTtlSeconds === undefined ? {} : { 'cache-control': `public, max-age=${endpoint.cacheTtlSeconds}` };
  }

  handle(
    req: IncomingMessage,
    res: ServerResponse,
    params: readonly string[],
    rawQuery: string,
    rec: RequestRecord,
    preread?: Buffer,
  ): void {
    this.#run(req, res, params, rawQuery, rec, preread).catch((err: unknown) => {
      if (rec.proxyStart !== 0 && rec.proxyEnd === 0) {
        rec.proxyError = true;
        this.#deps.completion.proxyDone(rec, performance.now());
      }
      sendError(res, isTollgateError(err) ? err : new TollgateError('TG_ERR_INTERNAL', undefined, { cause: err }));
    });
  }

  async #run(
    req: IncomingMessage,
    res: ServerResponse,
    params: readonly string[],
    rawQuery: string,
    rec: RequestRecord,
    preread: Buffer | undefined,
  ): Promise<void> {
    const body = !this.#needsBody
      ? undefined
      : (preread ?? (hasRequestBody(req) ? await readBounded(req, this.#maxBody, 'TG_ERR_BODY_TOO_LARGE') : undefined));
    const deadline = new Deadline(res, this.#endpoint.timeoutMs);
    this.#deps.completion.proxyStarted(rec, performance.now());
    let outcomes: Result[];
    try {
      outcomes = await Promise.all(
        this.#backends.map((b, i) => this.#call(b, req, params, rawQuery, body, deadline, rec.backend(i), rec)),
      );
    } finally {
      deadline.dispose();
    }
    const merged: JsonObject = {};
    let failures = 0;
    let detailed = 0;
    let canceled = false;
    for (const o of outcomes) {
      if (o.ok) Object.assign(merged, o.data);
      else {
        failures++;
        // lura serves error details as the backend's (incomplete) data, so they count as a response.
        if (o.details !== undefined) {
          Object.assign(merged, o.details);
          detailed++;
        }
        if (o.error.code === 'TG_ERR_CLIENT_ABORTED') canceled = true;
      }
    }
    rec.proxyComplete = failures === 0;
    rec.proxyCanceled = canceled;
    rec.proxyError = failures > 0 && !canceled;
    this.#deps.completion.proxyDone(rec, performance.now());
    if (res.destroyed) return;
    if (failures === outcomes.length && detailed === 0) {
      const first = outcomes.find((o): o is Extract<Result, { ok: false }> => !o.ok);
      if (first !== undefined && this.#returnsCode && first.status !== 0) {
        // lura router/gin/endpoint.go: no response, an error with StatusCode() → that status, and an
        // empty body unless router.return_error_msg (which Tollgate does not implement). With several
        // backends the merge error has no status, so the code goes through only for a lone backend.
        res.writeHead(first.status, { 'content-length': 0, [COMPLETED]: 'false' });
        res.end();
        return;
      }
      const cause = first?.error;
      sendError(res, new TollgateError('TG_ERR_ALL_BACKENDS_FAILED', undefined, { cause }), { [COMPLETED]: 'false' });
      return;
    }
    const out = renderOutput(merged, this.#endpoint.outputEncoding, this.#json);
    res.writeHead(200, {
      'content-type': out.contentType,
      'content-length': Buffer.byteLength(out.body),
      [COMPLETED]: failures === 0 ? 'true' : 'false',
      // Only a complete response may be cached (lura router/gin/endpoint.go sets Cache-Control under
      // `response.IsComplete`: https://github.com/luraproject/lura/blob/master/router/gin/endpoint.go#L62-L68).
      ...(failures === 0 ? this.#cacheControl : undefined),
    });
    res.end(out.body);
  }

  async #call(
    b: PreparedBackend,
    req: IncomingMessage,
    params: readonly string[],
    rawQuery: string,
    body: Buffer | undefined,
    deadline: Deadline,
    br: BackendRecord,
    rec: RequestRecord,
  ): Promise<Result> {
    br.stageStart = performance.now();
    let status = 0;
    let details: JsonObject | undefined;
    try {
      const sent = b.call.sendsBody ? body : undefined;
      const { dispatcher, options } = b.call.prepare(req, params, rawQuery, sent, br, rec);
      const r = await new Promise<BufferedResponse>((resolve, reject) => {
        const exchange = new BufferExchange(br, this.#maxBody, resolve, reject);
        deadline.add(exchange);
        exchange.send(dispatcher, options, b.call.replayable(sent), b.call.redirects);
      });
      if (!isSuccessStatus(r.status)) {
        status = r.status;
        details = await errorDetails(b.call.config.errorReturn, r, this.#maxBody);
        throw new TollgateError('TG_ERR_BACKEND_STATUS', `the backend answered ${r.status}`);
      }
      const plain = await decompress(r.body, r.headers['content-encoding'], this.#maxBody);
      const encoding = b.call.config.encoding;
      if (encoding !== 'string' && exceedsJsonDepth(plain, this.#maxDepth)) {
        throw new TollgateError(
          'TG_ERR_BACKEND_DECODE',
          `the backend response nests deeper than ${this.#maxDepth} levels`,
        );
      }
      const data = b.format(decodeBody(plain.toString('utf8'), encoding, b.call.config.isCollection));
      br.stageEnd = performance.now();
      br.stageComplete = true;
      b.call.finished(br);
      return { ok: true, data };
    } catch (err) {
      br.stageEnd = performance.now();
      const error = classifyUpstreamError(err, deadline.reason);
      br.error = error;
      // A status other than 200/201 or an undecodable body is a completed round trip but a failed stage.
      if (br.headersAt === 0 || error.code === 'TG_ERR_BACKEND_TIMEOUT' || error.code === 'TG_ERR_CLIENT_ABORTED')
        br.outcome = outcomeOf(error);
      br.stageCanceled = error.code === 'TG_ERR_CLIENT_ABORTED';
      br.stageError = !br.stageCanceled;
      b.call.finished(br);
      this.#deps.onBackendError(this.#endpoint.path, b.call.config.urlPattern, error);
      return { ok: false, error, status, details };
    }
  }
}
