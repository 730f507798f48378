/**
 * Schema of the root `tollgate` namespace: settings about Tollgate itself. KrakenD ignores extra_config
 * namespaces it does not know, so a file carrying it still runs on KrakenD.
 *
 * `allow_unenforced`: start even though the file has settings that protect, validate or transform
 * traffic which Tollgate does not enforce. `true` allows every one; a list allows only those names
 * (namespaces such as `"qos/ratelimit/router"` or keys such as `"cipher_suites"`). Each allowed setting is
 * still logged as a warning at every start.
 *
 * `json_router_errors`: answer 404 and 405 with Tollgate's JSON error bodies and `TG_ERR_*` codes
 * instead of KrakenD's (gin's) `text/plain` `404 page not found` / `405 method not allowed`.
 */
export const TOLLGATE_SCHEMA = {
  type: 'object',
  properties: {
    allow_unenforced: { anyOf: [{ type: 'boolean' }, { type: 'array', items: { type: 'string', minLength: 1 } }] },
    json_router_errors: { type: 'boolean' },
  },
} as const;

export const TOLLGATE_NAMESPACE = 'tollgate';
