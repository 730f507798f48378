/**
 * Backend redirects followed as Go's `http.Client` follows them below lura's proxy
 * (https://github.com/golang/go/blob/master/src/net/http/client.go: `redirectBehavior`,
 * `makeHeadersCopier`, `refererForURL`), so a backend that answers 3xx behaves as under KrakenD:
 *
 * - 301, 302, 303: the next request is a GET without body (HEAD and GET keep their method);
 * - 307, 308: method and body are kept, but lura hands Go a body it cannot replay unless
 *   `send_body_on_redirect` is set (https://github.com/luraproject/lura/blob/master/proxy/http.go#L61),
 *   so a request with a body gets the 3xx itself as its answer, as Go does;
 * - a 3xx without `Location` is the answer;
 * - a 10th redirect answer fails the exchange ("stopped after 10 redirects"): a backend failure;
 * - `Referer` names the previous URL (not from https to http); `Authorization`, `Cookie`,
 *   `Cookie2` and `WWW-Authenticate` are dropped once a redirect leaves the first host and its subdomains.
 *
 * undici's `interceptors.redirect` is not used: it turns only a POST into a GET on 301/302, sets no
 * `Referer`, drops other headers off-origin, and sends every hop through the dispatcher it wraps (a
 * Pool serves one origin), so cross-origin hops here go to `RedirectDispatchers` instead.
 *
 * The wrapped handler sees one request: one `onRequestStart` per hop (the controller it holds follows
 * the current hop) and only the final response, so the metrics count the whole chain as one round trip,
 * as lura's client call is one.
 */
import type { Dispatcher } from 'undici';
import { TollgateError } from '../errors/catalogue.js';

type Controller = Dispatcher.DispatchController;
type Headers = Record<string, string | string[] | undefined>;

/**
 * Go's client sends at most 10 requests: the 10th redirect answer is an error (client.go, default
 * `CheckRedirect`: `len(reqs) >= 10`, where `reqs` holds the requests sent so far).
 */
const MAX_REQUESTS = 10;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const SENSITIVE = new Set(['authorization', 'www-authenticate', 'cookie', 'cookie2']);

/** Where a redirect to an origin goes (a configured pool, or the shared agent). */
export type RedirectDispatchers = (origin: string) => Dispatcher;

/** An undici interceptor (`dispatcher.compose(followRedirects(...))`) following redirects as Go does. */
export function followRedirects(dispatchers: RedirectDispatchers): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) => dispatch(opts, new RedirectHandler(dispatchers, opts, handler));
}

/** A stable controller for the wrapped handler, forwarding to the hop in progress. */
class HopController implements Controller {
  current: Controller | undefined;
  #reason: Error | null = null;

  get aborted(): boolean {
    return this.#reason !== null || this.current?.aborted === true;
  }
  get paused(): boolean {
    return this.current?.paused === true;
  }
  get reason(): Error | null {
    return this.#reason ?? this.current?.reason ?? null;
  }
  abort(reason: Error): void {
    this.#reason = reason;
    this.current?.abort(reason);
  }
  pause(): void {
    this.current?.pause();
  }
  resume(): void {
    this.current?.resume();
  }
}

class RedirectHandler implements Dispatcher.DispatchHandler {
  readonly #dispatchers: RedirectDispatchers;
  readonly #inner: Dispatcher.DispatchHandler;
  /** The first request's host, parsed when a redirect arrives (most exchanges have none). */
  #firstHost: string | undefined;
  /** A Referer the first request carried: Go keeps it on every hop (except from https to http). */
  readonly #explicitReferer: string | undefined;
  readonly #ctl = new HopController();
  #opts: Dispatcher.DispatchOptions;
  #url: URL | undefined;
  #hops = 0;
  #strip = false;
  #next: Dispatcher.DispatchOptions | undefined;

  constructor(dispatchers: RedirectDispatchers, opts: Dispatcher.DispatchOptions, inner: Dispatcher.DispatchHandler) {
    this.#dispatchers = dispatchers;
    this.#inner = inner;
    this.#opts = opts;
    const ref = (opts.headers as Headers | undefined)?.referer;
    this.#explicitReferer = typeof ref === 'string' && ref !== '' ? ref : undefined;
  }

  onRequestStart(c: Controller, context: unknown): void {
    this.#ctl.current = c;
    if (this.#ctl.aborted && !c.aborted) c.abort(this.#ctl.reason as Error);
    this.#inner.onRequestStart?.(this.#ctl, context);
  }

  onResponseStart(c: Controller, status: number, headers: Headers, message?: string): void {
    if (REDIRECTS.has(status)) {
      const next = this.#redirect(status, headers);
      if (next instanceof Error) {
        c.abort(next);
        return;
      }
      if (next !== undefined) {
        this.#next = next;
        return;
      }
    }
    this.#inner.onResponseStart?.(this.#ctl, status, headers, message);
  }

  onResponseData(_c: Controller, chunk: Buffer): void {
    // The body of a redirect is read and dropped, as Go's client does before the next request.
    if (this.#next === undefined) this.#inner.onResponseData?.(this.#ctl, chunk);
  }

  onResponseEnd(_c: Controller, trailers: Headers): void {
    const next = this.#next;
    if (next === undefined) {
      this.#inner.onResponseEnd?.(this.#ctl, trailers);
      return;
    }
    this.#next = undefined;
    if (this.#ctl.aborted) {
      this.#inner.onResponseError?.(this.#ctl, this.#ctl.reason as Error);
      return;
    }
    this.#opts = next;
    this.#dispatchers(String(next.origin)).dispatch(next, this);
  }

  onResponseError(_c: Controller, err: Error): void {
    this.#next = undefined;
    this.#inner.onResponseError?.(this.#ctl, err);
  }

  /** The next request, undefined when the 3xx is the answer, or the error that ends the exchange. */
  #redirect(status: number, headers: Headers): Dispatcher.DispatchOptions | Error | undefined {
    const location = headers.location;
    const loc = Array.isArray(location) ? location[0] : location;
    if (loc === undefined || loc === '') return undefined;
    const opts = this.#opts;
    const hasBody = opts.body !== undefined && opts.body !== null;
    const keep = status === 307 || status === 308;
    if (keep && hasBody) return undefined;
    if (++this.#hops >= MAX_REQUESTS)
      return new TollgateError('TG_ERR_BACKEND_UNAVAILABLE', `stopped after ${MAX_REQUESTS} redirects`);
    let url: URL;
    try {
      this.#url ??= new URL(opts.path, String(opts.origin));
      this.#firstHost ??= this.#url.hostname;
      url = new URL(loc, this.#url);
    } catch {
      return new TollgateError('TG_ERR_BACKEND_UNAVAILABLE', `failed to parse Location header ${JSON.stringify(loc)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      return new TollgateError('TG_ERR_BACKEND_UNAVAILABLE', `redirect to unsupported scheme "${url.protocol}"`);
    const method = keep || opts.method === 'GET' || opts.method === 'HEAD' ? opts.method : 'GET';
    if (!this.#strip && !sameOrSubdomain(url.hostname, this.#firstHost ?? '')) this.#strip = true;
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries((opts.headers ?? {}) as Headers)) {
      if (v === undefined || k === 'referer' || (this.#strip && SENSITIVE.has(k))) continue;
      if (!keep && k === 'content-length') continue;
      out[k] = v;
    }
    const referer = refererFor(this.#url ?? url, url, this.#explicitReferer);
    if (referer !== undefined) out.referer = referer;
    this.#url = url;
    return {
      ...opts,
      origin: url.origin,
      path: url.pathname + url.search,
      method,
      headers: out,
      body: keep ? opts.body : null,
    };
  }
}

/** Go's `shouldCopyHeaderOnRedirect`: the same host, or a subdomain of the first request's host. */
function sameOrSubdomain(host: string, first: string): boolean {
  return host === first || host.endsWith(`.${first}`);
}

/** Go's `refererForURL`: the previous URL without user info or fragment, never from https to http. */
function refererFor(last: URL, next: URL, explicit: string | undefined): string | undefined {
  if (last.protocol === 'https:' && next.protocol === 'http:') return undefined;
  if (explicit !== undefined) return explicit;
  const u = new URL(last.href);
  u.username = '';
  u.password = '';
  u.hash = '';
  return u.href;
}
