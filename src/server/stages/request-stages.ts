/**
 * The stages a request meets on the data listener, in order: the one place to add a stage. Each
 * stage is a small module that either answers the request or lets it through; the record (route,
 * consumer) is filled on the way. Built once from the compiled routes; a request allocates nothing
 * here beyond what its stages need.
 *
 *   1. request target   an absolute path (request-target.ts)
 *   2. request line     HTTP/1.x and one valid Host (request-line.ts)
 *   3. built-ins        /__health, /__debug, /__echo (builtins.ts)
 *   4. routing          the route for method and path, or a trailing-slash / fixed-path redirect, 405, 404
 *                       (routing/router.ts, unmatched.ts), and its decoded parameters (route-params.ts)
 *   5. auth             API key and roles, when the endpoint requires them (auth.ts)
 *   6. handler          the route's proxy pipeline (proxy/noop-handler.ts, proxy/merge-handler.ts)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiKeyAuth } from '../../auth/api-keys.js';
import type { RouterSettings } from '../../config/namespaces/router.js';
import type { Router } from '../../routing/router.js';
import type { RequestRecord } from '../../telemetry/record.js';
import type { GatewayRoute } from '../compile-routes.js';
import { refuseUnauthorized } from './auth.js';
import type { Builtins } from './builtins.js';
import { refuseRequestLine } from './request-line.js';
import { refuseRequestTarget } from './request-target.js';
import { decodeParamsOrRefuse } from './route-params.js';
import { answerUnmatched } from './unmatched.js';

export interface StageDeps {
  readonly builtins: Builtins;
  readonly router: Router<GatewayRoute>;
  readonly routerSettings: RouterSettings;
  readonly apiKeys: ApiKeyAuth | undefined;
}

export class RequestStages {
  readonly #builtins: Builtins;
  readonly #router: Router<GatewayRoute>;
  readonly #routerSettings: RouterSettings;
  readonly #apiKeys: ApiKeyAuth | undefined;

  constructor(deps: StageDeps) {
    this.#builtins = deps.builtins;
    this.#router = deps.router;
    this.#routerSettings = deps.routerSettings;
    this.#apiKeys = deps.apiKeys;
  }

  /** `rec.path` is the request path without its query; `rawQuery` the query without its `?`. */
  run(req: IncomingMessage, res: ServerResponse, rec: RequestRecord, rawQuery: string): void {
    const path = rec.path;
    if (refuseRequestTarget(res, path)) return;
    if (refuseRequestLine(req, res)) return;
    if (this.#builtins.answer(req, res, path, rawQuery)) return;
    const lookup = this.#router.find(rec.method, path);
    if (lookup.kind !== 'found') {
      answerUnmatched(this.#router, this.#routerSettings, lookup, req, res, rec.method, path);
      return;
    }
    const params = decodeParamsOrRefuse(res, lookup.params);
    if (params === undefined) return;
    const route = lookup.route;
    rec.route = route.id;
    if (route.auth !== undefined && refuseUnauthorized(this.#apiKeys, route.auth, req, res, rawQuery, rec)) return;
    route.handler.handle(req, res, params, rawQuery, rec);
  }
}
