/**
 * Everything needed to call one backend, composed once at start-up (lura's backend factory): the
 * compiled url_pattern, the round-robin targets with their pools, the forwarding rules and method.
 * Per request it only fills the template and copies the allowed headers.
 */
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { BackendRecord, RequestRecord } from '../telemetry/record.js';
import type { Injector } from '../telemetry/telemetry.js';
import type { Dispatcher } from 'undici';
import type { BackendConfig, EndpointConfig, ForwardRule } from '../config/types.js';
import { RoundRobin } from '../backends/balancer.js';
import { TollgateError } from '../errors/catalogue.js';
import type { PoolRegistry } from '../backends/pools.js';
import { parseEndpointPattern, paramNames, type EndpointPattern } from '../routing/pattern.js';
import { backendRequestHeaders, narrowRule } from './headers.js';
import { forwardedQuery, joinQuery } from './query.js';
import { compileUrlTemplate, renderPath, type UrlTemplate } from './url-template.js';

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
  /** Trace propagation hook, set by the gateway once telemetry is built (undefined: no tracing). */
  injector: Injector | undefined;

  constructor(endpoint: EndpointConfig, backend: BackendConfig, pools: PoolRegistry, userAgent: string) {
    this.config = backend;
    this.method = backend.method;
    this.#safe = SAFE.has(backend.method);
    const pattern = parseEndpointPattern(endpoint.path) as EndpointPattern;
    this.#template = compileUrlTemplate(backend.urlPattern, paramNames(pattern));
    this.balancer = new RoundRobin(backend.hosts, pools);
    this.#headers = narrowRule(endpoint.inputHeaders, backend.inputHeaders);
    this.#query = narrowRule(endpoint.inputQueryStrings, backend.inputQueryStrings);
    this.#userAgent = userAgent;
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
  prepare(req: IncomingMessage, params: readonly string[], rawQuery: string, body: Dispatcher.DispatchOptions['body'], rec: BackendRecord, request: RequestRecord): BackendRequest {
    const index = this.balancer.pickIndex();
    const target = index === -1 ? undefined : this.balancer.targets[index];
    if (target === undefined) {
      if (this.balancer.health !== undefined && this.balancer.targets.length > 0) throw new TollgateError('TG_ERR_NO_HEALTHY_TARGET');
      throw new TollgateError('TG_ERR_BACKEND_UNAVAILABLE', 'the backend has no http(s) host');
    }
    rec.target = index;
    const query = joinQuery(this.#template.query, forwardedQuery(rawQuery, this.#query));
    const path = target.basePath + renderPath(this.#template, params) + (query === '' ? '' : `?${query}`);
    const hasBody = body !== undefined && body !== null;
    const headers = backendRequestHeaders(req, this.#headers, hasBody, { userAgent: this.#userAgent });
    if (Buffer.isBuffer(body)) headers['content-length'] = String(body.length);
    else if (hasBody && req.headers['content-length'] !== undefined) headers['content-length'] = req.headers['content-length'];
    const cl = headers['content-length'];
    rec.requestSize = typeof cl === 'string' ? Number(cl) : hasBody ? -1 : 0;
    if (this.injector !== undefined && request.trace !== undefined) {
      this.injector(request, rec, headers);
      rec.origin = target.origin;
      rec.path = path;
    }
    rec.dispatchAt = performance.now();
    return {
      dispatcher: target.dispatcher,
      options: { origin: target.origin, path, method: this.method as Dispatcher.HttpMethod, headers, body: hasBody ? body : null },
    };
  }
}
