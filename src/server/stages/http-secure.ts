/**
 * Stage: `security/http`, as krakend-httpsecure runs unrolled/secure v1.15.0's Process on every request
 * KrakenD's router takes (a gin middleware of the engine, krakend-ce `router_engine.go:38`): after the
 * CORS stage (which wraps the router), before the built-ins and the routes.
 *
 * In unrolled/secure's order (`secure.go:287-470`):
 * 1. the host is the Host header, or the first `host_proxy_headers` header with a value;
 * 2. `allowed_hosts` (unless `is_development`): another host gets `500 Bad Host` (`secure.go:42`,
 *    Go's http.Error: `text/plain; charset=utf-8`, `X-Content-Type-Options: nosniff`);
 * 3. `ssl_redirect` (unless `is_development`): a request that is not HTTPS (TLS listener, or an
 *    `ssl_proxy_headers` header with its exact value) is redirected 301 to `https://` + `ssl_host` or
 *    the host, same path and query (`secure.go:337-358`, Go's http.Redirect);
 * 4. the headers: `Strict-Transport-Security` only over HTTPS (or `force_sts_header`) and not with
 *    `is_development`, then the fixed ones, set before the route answers.
 *
 * A refused or redirected request matched no route yet: telemetry counts it as KrakenD's otel does for
 * a request gin's handlers never reached, by its status (`500 Internal Server Error`, `301 Moved
 * Permanently`) in place of the route.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { HttpSecuritySettings } from '../../config/namespaces/security-http.js';
import { goRedirect } from '../../http/go-redirect.js';
import { firstValue } from './header-values.js';

const BAD_HOST = 'Bad Host\n';

export class HttpSecureStage {
  readonly #s: HttpSecuritySettings;
  readonly #checkHost: boolean;
  readonly #redirect: boolean;
  readonly #sts: string | undefined;

  constructor(settings: HttpSecuritySettings) {
    this.#s = settings;
    const hosts = settings.allowedHostPatterns?.length ?? settings.allowedHosts.length;
    this.#checkHost = hosts > 0 && !settings.isDevelopment;
    this.#redirect = settings.sslRedirect && !settings.isDevelopment;
    this.#sts = settings.isDevelopment ? undefined : settings.sts;
  }

  /** Answers (returns true) a request with a refused host or one to redirect to HTTPS; otherwise sets the headers. */
  refuse(req: IncomingMessage, res: ServerResponse): boolean {
    const host = this.#host(req);
    if (this.#checkHost && !this.#allowed(host)) {
      res.writeHead(500, {
        'Content-Type': 'text/plain; charset=utf-8',
        'X-Content-Type-Options': 'nosniff',
        'Content-Length': String(BAD_HOST.length),
      });
      res.end(BAD_HOST);
      return true;
    }
    const https = this.#isHttps(req);
    if (this.#redirect && !https) {
      const to = this.#s.sslHost !== '' ? this.#s.sslHost : escapeHost(host);
      goRedirect(res, req.method ?? 'GET', `https://${to}${req.url ?? '/'}`, 301);
      return true;
    }
    if (this.#sts !== undefined && (https || this.#s.forceSts)) res.setHeader('Strict-Transport-Security', this.#sts);
    for (const [name, value] of this.#s.headers) res.setHeader(name, value);
    const csp = this.#s.cspNonceParts;
    if (csp !== undefined) res.setHeader('Content-Security-Policy', csp.join(nonce()));
    return false;
  }

  #host(req: IncomingMessage): string {
    for (const name of this.#s.hostProxyHeaders) {
      const v = firstValue(req, name);
      if (v !== '') return v;
    }
    return req.headers.host ?? '';
  }

  /** `strings.EqualFold` with each host, or a match of one `^pattern$`. */
  #allowed(host: string): boolean {
    const patterns = this.#s.allowedHostPatterns;
    if (patterns !== undefined) return patterns.some((re) => re.test(host));
    return this.#s.allowedHosts.includes(host.toLowerCase());
  }

  #isHttps(req: IncomingMessage): boolean {
    if ((req.socket as TLSSocket | null)?.encrypted === true) return true;
    for (const [name, value] of this.#s.sslProxyHeaders) if (firstValue(req, name) === value) return true;
    return false;
  }
}

/** unrolled/secure's `$NONCE`: 16 random bytes, base64 without padding, as `'nonce-…'` (`csp.go:37`, `secure.go:144`). */
function nonce(): string {
  return `'nonce-${randomBytes(16).toString('base64').replace(/=+$/, '')}'`;
}

/** url.URL.String escapes a host's spaces, controls and non-ASCII bytes as `%XX` (a proxy header may hold any). */
function escapeHost(host: string): string {
  let out = '';
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    out += c <= 0x20 || c >= 0x7f ? `%${c.toString(16).toUpperCase().padStart(2, '0')}` : host[i];
  }
  return out;
}
