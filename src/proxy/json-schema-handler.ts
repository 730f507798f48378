/**
 * `validation/json-schema`: the endpoint's proxy runs only for a request whose body is JSON that
 * matches the endpoint's schema (compiled once at start-up, config/namespaces/validation-json-schema.ts).
 * As krakend-jsonschema's proxy (`jsonschema.go:84-109`, inside KrakenD's proxy pipe): the whole body
 * is read, then an empty body (a GET's too), one that is not JSON (Go's json.Unmarshal: one value,
 * nothing after it) or one the schema refuses gets 400, and nothing reaches a backend. The answer is
 * lura's for a proxy error with a status (router/gin `endpoint.go:94-113`): the bare status,
 * `Content-Length: 0`, `X-Krakend-Completed: false`. A body that passes goes on, as read, to the
 * endpoint's handler.
 *
 * The body is held in memory, so it is bounded by `max_buffered_body` (413, TG_ERR_BODY_TOO_LARGE), and
 * so is its nesting (Go's decoder refuses more than 10,000 levels; json-depth.ts scans before parsing).
 * In telemetry a refusal is a failed proxy stage (error, not complete, no backend), as KrakenD's proxy
 * layers see the validator's error.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { BodySchema } from '../config/namespaces/validation-json-schema.js';
import { TollgateError, isTollgateError } from '../errors/catalogue.js';
import { sendError } from '../http/respond.js';
import type { CompletionLatch } from '../telemetry/completion.js';
import type { RequestRecord } from '../telemetry/record.js';
import type { EndpointHandler } from './endpoint-handler.js';
import { exceedsJsonDepth } from './json-depth.js';
import { readBounded } from './read-body.js';

/** Go's encoding/json maxNestingDepth. */
const GO_MAX_DEPTH = 10_000;

/**
 * The endpoint's handler as this stage calls it: with the body already read. (A handler that takes
 * fewer parameters is one of these too, for TypeScript.)
 */
export interface BufferedBodyHandler {
  handle(
    req: IncomingMessage,
    res: ServerResponse,
    params: readonly string[],
    rawQuery: string,
    rec: RequestRecord,
    body?: Buffer,
  ): void;
}

export interface JsonSchemaParts {
  readonly schema: BodySchema;
  readonly inner: BufferedBodyHandler;
  readonly maxBody: number;
  readonly completion: CompletionLatch;
}

const REFUSED = { 'content-length': '0', 'X-Krakend-Completed': 'false' } as const;

export class JsonSchemaHandler implements EndpointHandler {
  readonly #p: JsonSchemaParts;

  constructor(parts: JsonSchemaParts) {
    this.#p = parts;
  }

  handle(
    req: IncomingMessage,
    res: ServerResponse,
    params: readonly string[],
    rawQuery: string,
    rec: RequestRecord,
  ): void {
    const started = performance.now();
    readBounded(req, this.#p.maxBody, 'TG_ERR_BODY_TOO_LARGE').then(
      (body) => {
        // The client left while its body was read: its record is complete already.
        if (res.destroyed || res.headersSent) return;
        if (!this.#valid(body)) {
          this.#refuse(res, rec, started);
          return;
        }
        this.#p.inner.handle(req, res, params, rawQuery, rec, body);
      },
      // As the merging handler's own read: answered (413, or 400 for a broken body), no proxy stage counted.
      (err: unknown) =>
        sendError(res, isTollgateError(err) ? err : new TollgateError('TG_ERR_BAD_REQUEST', undefined, { cause: err })),
    );
  }

  #valid(body: Buffer): boolean {
    if (body.length === 0 || exceedsJsonDepth(body, GO_MAX_DEPTH)) return false;
    let doc: unknown;
    try {
      doc = JSON.parse(body.toString('utf8'));
    } catch {
      return false;
    }
    try {
      return this.#p.schema(doc);
    } catch {
      // A schema that recurses with the data can exhaust the stack on a deep body: refused, as invalid.
      return false;
    }
  }

  /** TG_ERR_BODY_SCHEMA, answered as lura answers a proxy error with a status. */
  #refuse(res: ServerResponse, rec: RequestRecord, started: number): void {
    // The proxy stage ran and failed without calling a backend.
    const completion = this.#p.completion;
    completion.proxyStarted(rec, started);
    rec.proxyError = true;
    completion.proxyDone(rec, performance.now());
    res.writeHead(ERROR_STATUS, REFUSED);
    res.end();
  }
}

const ERROR_STATUS = new TollgateError('TG_ERR_BODY_SCHEMA').statusCode;
