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
 * Pool serves one origin), so cross-origin hops here go to `RedirectDispatchers` instead. Nor is any
 * interceptor: one wraps every request in two more objects, and almost no backend answers 3xx. The
 * exchange (proxy/exchange.ts) asks for a `RedirectChain` only when a redirect arrives, and sends the
 * next hop itself with its own handler, so the metrics count the whole chain as one round trip, as
 * lura's client call is one.
 */
import type { Dispatcher } from 'undici';
import { TollgateError } from '../errors/catalogue.js';

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

/** Whether a status is one Go's client may follow (it still needs a `Location`). */
export function isRedirectStatus(status: number): boolean {
  return REDIRECTS.has(status);
}

/** The hops of one exchange after its first redirect: what Go's client carries from one request to the next. */
export class RedirectChain {
  /** The first request's host: headers with credentials are dropped once a hop leaves it. */
  #firstHost: string | undefined;
  /** A Referer the first request carried: Go keeps it on every hop (except from https to http). */
  readonly #explicitReferer: string | undefined;
  #opts: Dispatcher.DispatchOptions;
  #url: URL | undefined;
  #hops = 0;
  #strip = false;

  constructor(first: Dispatcher.DispatchOptions) {
    this.#opts = first;
    const ref = (first.headers as Headers | undefined)?.referer;
    this.#explicitReferer = typeof ref === 'string' && ref !== '' ? ref : undefined;
  }

  /** The next request for a redirect answer, undefined when the 3xx is the answer, or the error that ends the exchange. */
  next(status: number, headers: Headers): Dispatcher.DispatchOptions | Error | undefined {
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
    this.#opts = {
      ...opts,
      origin: url.origin,
      path: url.pathname + url.search,
      method,
      headers: out,
      body: keep ? opts.body : null,
    };
    return this.#opts;
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
