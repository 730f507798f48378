/**
 * Stage: a request no route takes, answered as KrakenD's router (gin, as lura configures it) does, in
 * gin's order (https://github.com/gin-gonic/gin/blob/dcaa4296d111981ffb31ac3eba90bb63e1eb5ab9/gin.go#L711-L759):
 *
 * 1. when the method has routes: a redirect to the same path with or without its trailing slash
 *    (RedirectTrailingSlash, unless `router.disable_redirect_trailing_slash`), then to the registered
 *    path it matches once cleaned and case-folded (RedirectFixedPath, unless
 *    `router.disable_redirect_fixed_path`): `/StAtic` and `/a//b/../static` → `/static`;
 * 2. 405 `405 method not allowed` with `Allow` when the path exists for other methods;
 * 3. 404 `404 page not found` with `X-Krakend-Completed: false` (lura's NoRoute handler,
 *    https://github.com/luraproject/lura/blob/caa4317164ade7db87a449406b84e434657f415c/router/gin/engine.go#L92-L94;
 *    the 405 runs gin's NoMethod handlers, which lura leaves empty, so it has no such header).
 *
 * Bodies are gin's `text/plain` ones unless `tollgate.json_router_errors` asks for the JSON error
 * bodies with their TG_ERR_* codes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RouterSettings } from '../../config/namespaces/router.js';
import { TollgateError } from '../../errors/catalogue.js';
import { sendError, sendText } from '../../http/respond.js';
import { trailingSlashAlternative, type RouteDefinition, type RouteLookup, type Router } from '../../routing/router.js';

const NOT_FOUND = new TollgateError('TG_ERR_ROUTE_NOT_FOUND');
const METHOD_NOT_ALLOWED = new TollgateError('TG_ERR_METHOD_NOT_ALLOWED');
/** lura's `server.CompleteResponseHeaderName` and `HeaderIncompleteResponseValue`. */
const INCOMPLETE = { 'X-Krakend-Completed': 'false' } as const;

export function answerUnmatched<R extends RouteDefinition>(
  router: Router<R>,
  settings: RouterSettings,
  lookup: Exclude<RouteLookup<R>, { kind: 'found' }>,
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  path: string,
): void {
  const to = path === '/' ? undefined : redirectTarget(router, settings, method, path);
  if (to !== undefined) {
    redirect(req, res, method, to);
    return;
  }
  if (lookup.kind === 'method-not-allowed') {
    if (settings.jsonErrors) sendError(res, METHOD_NOT_ALLOWED, { allow: lookup.allow });
    else sendText(res, 405, '405 method not allowed', { allow: lookup.allow });
    return;
  }
  if (settings.jsonErrors) sendError(res, NOT_FOUND, INCOMPLETE);
  else sendText(res, 404, '404 page not found', INCOMPLETE);
}

function redirectTarget<R extends RouteDefinition>(
  router: Router<R>,
  settings: RouterSettings,
  method: string,
  path: string,
): string | undefined {
  const slash = settings.redirectTrailingSlash ? trailingSlashAlternative(router, method, path) : undefined;
  const to = slash ?? (settings.redirectFixedPath ? router.fixedPath(method, path) : undefined);
  return to !== undefined && isSafeTarget(to) ? to : undefined;
}

/**
 * Never an open redirect: `//host` or `/\host` would take a browser to another host. Nor a target
 * with a dot segment (also percent-encoded), which the client would resolve to another path.
 */
function isSafeTarget(to: string): boolean {
  if (to.charCodeAt(0) !== 47 || to.charCodeAt(1) === 47 || to.charCodeAt(1) === 92) return false;
  return !/\/(?:\.|%2e){1,2}(?:\/|$)/i.test(to);
}

/**
 * gin's redirectRequest (301 for GET, 307 otherwise, the query kept) through Go's http.Redirect
 * (https://github.com/golang/go/blob/go1.24.0/src/net/http/server.go#L2362-L2408): GET and HEAD get
 * `text/html; charset=utf-8`, and only GET the short HTML body.
 */
function redirect(req: IncomingMessage, res: ServerResponse, method: string, to: string): void {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const location = hexEscapeNonAscii(to + (q === -1 ? '' : url.slice(q)));
  const status = method === 'GET' ? 301 : 307;
  if (method !== 'GET' && method !== 'HEAD') {
    res.writeHead(status, { location, 'content-length': 0 });
    res.end();
    return;
  }
  const body = method === 'GET' ? `<a href="${htmlEscape(location)}">Moved Permanently</a>.\n\n` : '';
  res.writeHead(status, {
    location,
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** Go's hexEscapeNonASCII: bytes above 0x7f as `%xx` (Node reads the request target as latin1). */
function hexEscapeNonAscii(s: string): string {
  return s.replace(/[\u0080-\u00ff]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
}

/** Go's htmlEscape in net/http (the characters html.EscapeString replaces). */
function htmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' })[c] ?? c);
}
