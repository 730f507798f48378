/**
 * Stage: `security/cors`, as krakend-cors runs rs/cors v1.11.1 around KrakenD's whole router
 * (krakend-ce `executor.go:308`, krakend-cors `gin/cors.go:70`): before routing, so a preflight to any
 * path, known or not, is answered here, and every other request gets its CORS headers before anything
 * answers it (404s and the built-in endpoints too).
 *
 * - Preflight (`OPTIONS` with a non-empty `Access-Control-Request-Method`, rs/cors `cors.go:274`):
 *   `Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers` always; the
 *   `Access-Control-Allow-*` headers only when the origin, the method (OPTIONS always) and every
 *   requested header are allowed (`cors.go:329-393`), echoing the request's method and headers. The
 *   answer is `options_success_status` (204) with no body either way, a refused preflight included:
 *   the browser refuses it by the missing headers. With `options_passthrough` the request goes on to
 *   the router instead, with those headers set.
 * - Any other request: `Vary: Origin` always; `Access-Control-Allow-Origin` (`*` or the origin),
 *   `Access-Control-Expose-Headers` and `Access-Control-Allow-Credentials` when the origin and the
 *   method are allowed (`cors.go:396-440`). It is never refused here.
 *
 * `debug` logs each decision at debug level, as rs/cors's logger does through KrakenD's (`mux/cors.go:54`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CorsSettings } from '../../config/namespaces/security-cors.js';
import type { Logger } from '../../log/logger.js';
import { CorsHeaderList } from './cors-header-list.js';
import { allValues, firstValue } from './header-values.js';

const VARY_PREFLIGHT = 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers';

export class CorsStage {
  readonly #s: CorsSettings;
  readonly #headers: CorsHeaderList;
  readonly #allowedMethods: ReadonlySet<string>;
  readonly #preflightVary: string;
  readonly #logger: Logger | undefined;

  /** `logger`: where `debug` writes; undefined logs nothing. */
  constructor(settings: CorsSettings, logger: Logger | undefined) {
    this.#s = settings;
    this.#headers = new CorsHeaderList(settings.headers);
    this.#allowedMethods = new Set(settings.methods);
    this.#preflightVary = settings.allowPrivateNetwork
      ? `${VARY_PREFLIGHT}, Access-Control-Request-Private-Network`
      : VARY_PREFLIGHT;
    this.#logger = settings.debug ? logger : undefined;
  }

  /** Answers a preflight (returns true) unless `options_passthrough`; otherwise sets the CORS headers and lets the request through. */
  answer(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method === 'OPTIONS' && firstValue(req, 'access-control-request-method') !== '') {
      this.#preflight(req, res);
      if (this.#s.optionsPassthrough) return false;
      const status = this.#s.optionsSuccessStatus;
      res.writeHead(status, status === 204 || status === 304 ? {} : { 'content-length': '0' });
      res.end();
      return true;
    }
    this.#actual(req, res);
    return false;
  }

  #preflight(req: IncomingMessage, res: ServerResponse): void {
    res.setHeader('Vary', this.#preflightVary);
    const origin = firstValue(req, 'origin');
    if (origin === '') return this.#log('preflight aborted: empty origin');
    if (!this.#originAllowed(origin)) return this.#log('preflight aborted: origin not allowed', origin);
    const method = firstValue(req, 'access-control-request-method');
    if (!this.#methodAllowed(method)) return this.#log('preflight aborted: method not allowed', origin, method);
    const requested =
      req.headers['access-control-request-headers'] === undefined
        ? undefined
        : allValues(req, 'access-control-request-headers');
    if (requested !== undefined && !this.#s.anyHeader && !this.#headers.accepts(requested))
      return this.#log('preflight aborted: headers not allowed', origin, method);
    res.setHeader('Access-Control-Allow-Origin', this.#s.anyOrigin ? '*' : allValues(req, 'origin'));
    res.setHeader('Access-Control-Allow-Methods', allValues(req, 'access-control-request-method'));
    if (requested !== undefined && requested[0] !== '') res.setHeader('Access-Control-Allow-Headers', requested);
    if (this.#s.allowCredentials) res.setHeader('Access-Control-Allow-Credentials', 'true');
    if (this.#s.allowPrivateNetwork && firstValue(req, 'access-control-request-private-network') === 'true')
      res.setHeader('Access-Control-Allow-Private-Network', 'true');
    if (this.#s.maxAge !== undefined) res.setHeader('Access-Control-Max-Age', this.#s.maxAge);
    this.#log('preflight allowed', origin, method);
  }

  #actual(req: IncomingMessage, res: ServerResponse): void {
    res.setHeader('Vary', 'Origin');
    const origin = firstValue(req, 'origin');
    if (origin === '') return;
    if (!this.#originAllowed(origin)) return this.#log('actual request: origin not allowed', origin);
    // rs/cors checks the method of a simple request too (`cors.go:424`).
    const method = req.method ?? '';
    if (!this.#methodAllowed(method)) return this.#log('actual request: method not allowed', origin, method);
    res.setHeader('Access-Control-Allow-Origin', this.#s.anyOrigin ? '*' : allValues(req, 'origin'));
    if (this.#s.exposeHeaders !== undefined) res.setHeader('Access-Control-Expose-Headers', this.#s.exposeHeaders);
    if (this.#s.allowCredentials) res.setHeader('Access-Control-Allow-Credentials', 'true');
  }

  /** rs/cors `cors.go:458`: origins compared lower-cased; a wildcard by its text before and after the `*`. */
  #originAllowed(origin: string): boolean {
    if (this.#s.anyOrigin) return true;
    const o = origin.toLowerCase();
    if (this.#s.origins.has(o)) return true;
    for (const w of this.#s.wildcards)
      if (o.length >= w.prefix.length + w.suffix.length && o.startsWith(w.prefix) && o.endsWith(w.suffix)) return true;
    return false;
  }

  /** rs/cors `cors.go:476`: OPTIONS always, other methods as listed (case-sensitive). */
  #methodAllowed(method: string): boolean {
    return method === 'OPTIONS' || this.#allowedMethods.has(method);
  }

  #log(decision: string, origin?: string, method?: string): void {
    this.#logger?.debug({ origin, method }, `CORS ${decision}`);
  }
}
