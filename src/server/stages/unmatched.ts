/**
 * Stage: a request no route takes. 405 with `Allow` when the path exists for other methods; a
 * redirect to the same path with or without its trailing slash when only that form exists (gin's
 * RedirectTrailingSlash, which KrakenD keeps: 301 for GET and HEAD, 307 otherwise so the method and
 * body are kept); else 404.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TollgateError } from '../../errors/catalogue.js';
import { sendError } from '../../http/respond.js';
import { trailingSlashAlternative, type RouteDefinition, type RouteLookup, type Router } from '../../routing/router.js';

const NOT_FOUND = new TollgateError('TG_ERR_ROUTE_NOT_FOUND');

export function answerUnmatched<R extends RouteDefinition>(
  router: Router<R>,
  lookup: Exclude<RouteLookup<R>, { kind: 'found' }>,
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  path: string,
): void {
  if (lookup.kind === 'method-not-allowed') {
    sendError(res, new TollgateError('TG_ERR_METHOD_NOT_ALLOWED'), { allow: lookup.allow });
    return;
  }
  const alt = trailingSlashAlternative(router, method, path);
  if (alt !== undefined) {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    res.writeHead(method === 'GET' || method === 'HEAD' ? 301 : 307, {
      location: alt + (q === -1 ? '' : url.slice(q)),
    });
    res.end();
    return;
  }
  sendError(res, NOT_FOUND);
}
