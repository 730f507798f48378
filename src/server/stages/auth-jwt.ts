/**
 * Stage: an endpoint with `auth/validator` runs its route's handler only for a request whose JWT the
 * validator accepts, as krakend-jose wraps the endpoint's handler (`gin/jose.go:72`,
 * TokenSignatureValidator). A refusal is KrakenD's: the bare status (`c.AbortWithStatus`), 401 or
 * 403, with no body; the 401 also carries `WWW-Authenticate: Bearer` (RFC 6750 §3). On acceptance the
 * `propagate_claims` headers replace the client's of the same name (`gin/jose.go:187`) and the
 * `{JWT.<claim>}` placeholders of the backends' `url_pattern` get the claim values
 * (`gin/jose.go:221`: lura's `JWT.<claim>` parameters). Checking may wait for a key download, so this
 * stage wraps the handler (compiled once in compile-routes.ts) instead of sitting in the synchronous
 * list of request-stages.ts; it comes after the API-key stage there.
 *
 * With `operation_debug`, each refusal is logged at error level (KrakenD's level for it) with the
 * endpoint and a fixed reason: never the token, the subject or any claim.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClaimText, Claims } from '../../auth/jwt-claims.js';
import type { JwtValidator, JwtVerdict } from '../../auth/jwt-validator.js';
import type { Logger } from '../../log/logger.js';
import type { EndpointHandler } from '../../proxy/endpoint-handler.js';
import type { RequestRecord } from '../../telemetry/record.js';

export interface JwtStageParts {
  readonly endpoint: string;
  readonly validator: JwtValidator;
  /** The route's handler, run for accepted requests. */
  readonly inner: EndpointHandler;
  /** Claim names of the `{JWT.<claim>}` parameters appended to the path parameters, in order. */
  readonly paramClaims: readonly string[];
  readonly text: ClaimText;
  readonly logger: Logger;
}

/** What a header may hold (RFC 9110 §5.5): a claim with a line break or a NUL is sent empty. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const CHALLENGE = { 'www-authenticate': 'Bearer', 'content-length': '0' } as const;
const NO_BODY = { 'content-length': '0' } as const;

export class JwtStage implements EndpointHandler {
  readonly #p: JwtStageParts;
  /** Header names lower-cased once. */
  readonly #propagate: readonly (readonly [claim: string, header: string])[];

  constructor(parts: JwtStageParts) {
    this.#p = parts;
    this.#propagate = parts.validator.settings.propagate.map(([c, h]) => [c, h.toLowerCase()] as const);
  }

  handle(
    req: IncomingMessage,
    res: ServerResponse,
    params: readonly string[],
    rawQuery: string,
    rec: RequestRecord,
  ): void {
    let verdict: JwtVerdict | Promise<JwtVerdict>;
    try {
      verdict = this.#p.validator.check(req.headers);
    } catch (err) {
      this.#failed(res, err);
      return;
    }
    if (!(verdict instanceof Promise)) {
      this.#then(verdict, req, res, params, rawQuery, rec);
      return;
    }
    verdict.then(
      (v) => this.#then(v, req, res, params, rawQuery, rec),
      (err: unknown) => this.#failed(res, err),
    );
  }

  #then(
    v: JwtVerdict,
    req: IncomingMessage,
    res: ServerResponse,
    params: readonly string[],
    rawQuery: string,
    rec: RequestRecord,
  ): void {
    // The client may have left while a key was downloaded: its record is already complete.
    if (res.destroyed || res.headersSent) return;
    if (!v.ok) {
      if (this.#p.validator.settings.operationDebug)
        this.#p.logger.error(
          {
            endpoint: this.#p.endpoint,
            code: v.status === 401 ? 'TG_ERR_JWT_INVALID' : 'TG_ERR_JWT_FORBIDDEN',
            status: v.status,
            reason: v.reason,
          },
          'JWT validation refused the request',
        );
      res.writeHead(v.status, v.status === 401 ? CHALLENGE : NO_BODY);
      res.end();
      return;
    }
    this.#propagateClaims(req, v.claims);
    this.#p.inner.handle(req, res, this.#withClaims(params, v.claims), rawQuery, rec);
  }

  /** `gin/jose.go:187` propagateHeaders: Header.Set (or the whole list with `propagate_claims_preserve_array`). */
  #propagateClaims(req: IncomingMessage, claims: Claims): void {
    const { text, validator } = this.#p;
    const arrays = validator.settings.preserveArrays;
    for (const [claim, header] of this.#propagate) {
      if (arrays) {
        const values = text.list(claims, claim).map((x) => (FIELD_VALUE.test(x) ? x : ''));
        if (values.length === 0) delete req.headers[header];
        else req.headers[header] = values.length === 1 ? values[0] : values;
      } else {
        const value = text.get(claims, claim, true);
        req.headers[header] = FIELD_VALUE.test(value) ? value : '';
      }
    }
  }

  #withClaims(params: readonly string[], claims: Claims): readonly string[] {
    const names = this.#p.paramClaims;
    if (names.length === 0) return params;
    const out = params.slice();
    for (const name of names) out.push(this.#p.text.get(claims, name, false));
    return out;
  }

  /** Never expected (the validator turns every failure into a verdict): fail closed. */
  #failed(res: ServerResponse, err: unknown): void {
    this.#p.logger.error(
      { endpoint: this.#p.endpoint, code: 'TG_ERR_INTERNAL', detail: (err as Error).message },
      'JWT validation failed',
    );
    if (res.destroyed || res.headersSent) return;
    res.writeHead(401, CHALLENGE);
    res.end();
  }
}
