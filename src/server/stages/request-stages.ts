/**
 * The stages a request meets on the data listener, in order: the one place to add a stage. Each
 * stage is a small module that either answers the request or lets it through; the record (route,
 * consumer) is filled on the way. Built once from the compiled routes; a request allocates nothing
 * here beyond what its stages need.
 *
 *   1. request target   an absolute path (request-target.ts)
 *   2. request line     HTTP/1.x and one valid Host (request-line.ts)
 *   3. CORS             `security/cors`: preflights answered, CORS headers set (cors.ts)
 *   4. HTTP security    `security/http`: allowed hosts, HTTPS redirect, security headers (http-secure.ts)
 *   5. built-ins        /__health, /__debug, /__echo (builtins.ts)
 *   6. routing          the route for method and path, or a trailing-slash / fixed-path redirect, 405, 404
 *                       (routing/router.ts, unmatched.ts), and its decoded parameters (route-params.ts)
 *   7. auth             API key and roles, when the endpoint requires them (auth.ts)
 *   8. handler          the route's handler, built in compile-routes.ts: the JWT check when the endpoint
 *                       has `auth/validator` (auth-jwt.ts), then the body's JSON-schema check when it has
 *                       `validation/json-schema` (proxy/json-schema-handler.ts), then its proxy pipeline
 *                       (proxy/noop-handler.ts, proxy/merge-handler.ts)
 *
 * 3 and 4 run before routing as in KrakenD, where CORS wraps the whole router and the security
 * middleware runs for every request the router takes; a service without them skips both.
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
import type { CorsStage } from './cors.js';
import type { HttpSecureStage } from './http-secure.js';
import { answerUnmatched } from './unmatched.js';

export interface StageDeps {
  readonly builtins: Builtins;
  readonly router: Router<GatewayRoute>;
  readonly routerSettings: RouterSettings;
  readonly apiKeys: ApiKeyAuth | undefined;
  /** `security/cors` and `security/http`, when configured (service-stages.ts builds both). */
  readonly cors?: CorsStage | undefined;
  readonly httpSecure?: HttpSecureStage | undefined;
}

export class RequestStages {
  readonly #builtins: Builtins;
  readonly #router: Router<GatewayRoute>;
  readonly #routerSettings: RouterSettings;
  readonly #apiKeys: ApiKeyAuth | undefined;
  readonly #cors: CorsStage | undefined;
  readonly #httpSecure: HttpSecureStage | undefined;

  constructor(deps: StageDeps) {
    this.#builtins = deps.builtins;
    this.#router = deps.router;
    this.#routerSettings = deps.routerSettings;
    this.#apiKeys = deps.apiKeys;
    this.#cors = deps.cors;
    this.#httpSecure = deps.httpSecure;
  }

  /** `rec.path` is the request path without its query; `rawQuery` the query without its `?`. */
  run(req: IncomingMessage, res: ServerResponse, rec: RequestRecord, rawQuery: string): void {
    const path = rec.path;
    if (refuseRequestTarget(res, path)) return;
    if (refuseRequestLine(req, res)) return;
    if (this.#cors !== undefined && this.#cors.answer(req, res)) return;
    if (this.#httpSecure !== undefined && this.#httpSecure.refuse(req, res)) return;
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
