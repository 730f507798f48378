/**
 * Everything needed to call one backend, composed once at start-up (lura's backend factory): the
 * compiled url_pattern, the round-robin targets with their pools, the forwarding rules and method.
 * Per request it only fills the template and copies the allowed headers; when the exchange ends it
 * reports the outcome to the backend's health checker (passive health, backends/passive-health.ts).
 */
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { BackendRecord, RequestRecord } from '../telemetry/record.js';
import type { TraceInjector } from '../telemetry/tracing/trace-injector.js';
import type { Dispatcher } from 'undici';
import type { BackendConfig, EndpointConfig, ForwardRule } from '../config/types.js';
import type { RoundRobin } from '../backends/balancer.js';
import { reportExchange } from '../backends/passive-health.js';
import { TollgateError } from '../errors/catalogue.js';
import { backendRequestHeaders, narrowRule } from './headers.js';
import { forwardedQuery, joinQuery } from './query.js';
import type { RedirectDispatchers } from './redirect.js';
import { compileUrlTemplate, renderPath, renderQuery, type UrlTemplate } from './url-template.js';

/** What a backend call is composed of (server/compile-routes.ts). */
export interface BackendCallParts {
  readonly endpoint: EndpointConfig;
  /** The endpoint pattern's parameter names, in order (the values the router returns). */
  readonly params: readonly string[];
  readonly backend: BackendConfig;
  /** The backend's targets, and their health when checked. */
  readonly balancer: RoundRobin;
  readonly userAgent: string;
  /** Trace propagation; undefined when nothing is traced. */
  readonly injector: TraceInjector | undefined;
  /** The backend traces layer's `report_headers`: the sent headers go on the client span. */
  readonly reportHeaders: boolean;
  /** Where redirects go (proxy/redirect.ts); undefined when they are not followed (`no_redirect`). */
  readonly redirects: RedirectDispatchers | undefined;
}

export interface BackendRequest {
  readonly dispatcher: Dispatcher;
  readonly options: Dispatcher.DispatchOptions;
}

const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE', 'TRACE']);
/** Methods Go's transport resends when a pooled connection turns out closed (net/http isReplayable). */
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

export class BackendCall {
  readonly config: BackendConfig;
  readonly method: string;
  readonly #safe: boolean;
  readonly balancer: RoundRobin;
  readonly #template: UrlTemplate;
  readonly #headers: ForwardRule;
  readonly #query: ForwardRule;
  readonly #userAgent: string;
  readonly #injector: TraceInjector | undefined;
  readonly #reportHeaders: boolean;
  /**
   * Merging encodings ask for gzip as Go's transport does (merge-handler decodes the answer). no-op
   * does not: Go would decode it below the proxy and relay plain bytes; Tollgate relays the backend's
   * bytes untouched, so it forwards only what the client asked for (docs/differences.md).
   */
  readonly #askGzip: boolean;
  /** Where redirects go (followed as Go's client does, by the exchange), or undefined with `no_redirect`. */
  readonly redirects: RedirectDispatchers | undefined;

  constructor(parts: BackendCallParts) {
    const { endpoint, backend } = parts;
    this.config = backend;
    this.method = backend.method;
    this.#safe = SAFE.has(backend.method);
    this.#template = compileUrlTemplate(backend.urlPattern, parts.params);
    this.balancer = parts.balancer;
    this.#headers = narrowRule(endpoint.inputHeaders, backend.inputHeaders);
    this.#query = narrowRule(endpoint.inputQueryStrings, backend.inputQueryStrings);
    this.#userAgent = parts.userAgent;
    this.#injector = parts.injector;
    this.#reportHeaders = parts.reportHeaders;
    this.#askGzip = backend.encoding !== 'no-op';
    this.redirects = parts.redirects;
  }

  /** Whether a request whose pooled socket was closed under it may be sent again (safe method, body in memory or none). */
  replayable(body: Dispatcher.DispatchOptions['body']): boolean {
    return this.#safe && (body === undefined || body === null || Buffer.isBuffer(body));
  }

  /** Whether this backend's method carries the client's body (a GET backend of a POST endpoint does not). */
  get sendsBody(): boolean {
    return !BODYLESS.has(this.method);
  }

  /** Picks the target and builds the request; notes the target and request size in the record. */
  prepare(
    req: IncomingMessage,
    params: readonly string[],
    rawQuery: string,
    body: Dispatcher.DispatchOptions['body'],
    rec: BackendRecord,
    request: RequestRecord,
  ): BackendRequest {
    const index = this.balancer.pickIndex();
    const target = index === -1 ? undefined : this.balancer.targets[index];
    if (target === undefined) {
      if (this.balancer.health !== undefined && this.balancer.targets.length > 0)
        throw new TollgateError('TG_ERR_NO_HEALTHY_TARGET');
      throw new TollgateError('TG_ERR_BACKEND_UNAVAILABLE', 'the backend has no http(s) host');
    }
    rec.target = index;
    const query = joinQuery(renderQuery(this.#template, params), forwardedQuery(rawQuery, this.#query));
    const path = target.basePath + renderPath(this.#template, params) + (query === '' ? '' : `?${query}`);
    const hasBody = body !== undefined && body !== null;
    const headers = backendRequestHeaders(req, this.#headers, hasBody, {
      userAgent: this.#userAgent,
      askGzip: this.#askGzip,
      method: this.method,
    });
    if (Buffer.isBuffer(body)) headers['content-length'] = String(body.length);
    else if (hasBody && req.headers['content-length'] !== undefined)
      headers['content-length'] = req.headers['content-length'];
    const cl = headers['content-length'];
    rec.requestSize = typeof cl === 'string' ? Number(cl) : hasBody ? -1 : 0;
    if (this.#injector !== undefined && request.trace !== undefined) {
      this.#injector.inject(request, rec, headers, this.#reportHeaders);
      rec.origin = target.origin;
      rec.path = path;
    }
    rec.dispatchAt = performance.now();
    return {
      dispatcher: target.dispatcher,
      options: {
        origin: target.origin,
        path,
        method: this.method as Dispatcher.HttpMethod,
        headers,
        body: hasBody ? body : null,
      },
    };
  }

  /** The backend stage is done with this exchange (its outcome set): passive health checks count it. */
  finished(rec: BackendRecord): void {
    const health = this.balancer.health;
    if (health !== undefined) reportExchange(health, rec);
  }
}
