/**
 * Schema and settings of the root `router` namespace (KrakenD CE's alias of lura's
 * `github_com/luraproject/lura/router/gin`, whose options are read in
 * https://github.com/luraproject/lura/blob/caa4317164ade7db87a449406b84e434657f415c/router/gin/engine.go#L50-L90).
 * Tollgate reads the health endpoint and the two redirects; the other keys are classified in
 * krakend-catalogue.ts.
 */
import { isObject, type RawObject } from '../raw.js';

export const ROUTER_SCHEMA = {
  type: 'object',
  properties: {
    disable_health: { type: 'boolean' },
    health_path: { type: 'string', pattern: '^/' },
    disable_redirect_trailing_slash: { type: 'boolean' },
    disable_redirect_fixed_path: { type: 'boolean' },
  },
} as const;

export const ROUTER_KEYS: ReadonlySet<string> = new Set(Object.keys(ROUTER_SCHEMA.properties));

/** What the router does with a request no route takes (gin's engine flags, as lura sets them). */
export interface RouterSettings {
  /** gin's RedirectTrailingSlash: on unless `disable_redirect_trailing_slash`. */
  readonly redirectTrailingSlash: boolean;
  /** gin's RedirectFixedPath (case and `//`, `/./`, `/../`): on unless `disable_redirect_fixed_path`. */
  readonly redirectFixedPath: boolean;
  /**
   * `tollgate.json_router_errors`: answer 404 and 405 with Tollgate's JSON error bodies (with their
   * `TG_ERR_*` codes) instead of gin's `text/plain` ones. Off by default.
   */
  readonly jsonErrors: boolean;
}

/** `router` and `tollgate` are the raw namespace objects (or anything else when absent). */
export function parseRouterSettings(router: unknown, tollgate: unknown): RouterSettings {
  const r: RawObject = isObject(router) ? router : {};
  const t: RawObject = isObject(tollgate) ? tollgate : {};
  return {
    redirectTrailingSlash: r.disable_redirect_trailing_slash !== true,
    redirectFixedPath: r.disable_redirect_fixed_path !== true,
    jsonErrors: t.json_router_errors === true,
  };
}
