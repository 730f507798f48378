/**
 * `backend/http` (KrakenD CE, backend level; lura reads it under its older name
 * `github.com/devopsfaith/krakend/http`): what a merging endpoint does with a backend status other
 * than 200 or 201. lura picks the status handler in GetHTTPStatusHandler
 * (https://github.com/luraproject/lura/blob/master/transport/http/client/status.go#L48-L64): a
 * non-empty `return_error_details` wins; `return_error_code` counts only when that key is absent.
 */
import { isObject } from '../raw.js';

export const BACKEND_HTTP = 'backend/http';
/** lura's `client.Namespace`, the name KrakenD still reads. */
export const BACKEND_HTTP_LEGACY = 'github.com/devopsfaith/krakend/http';

export const BACKEND_HTTP_SCHEMA = {
  type: 'object',
  properties: {
    return_error_code: { type: 'boolean' },
    return_error_details: { type: 'string' },
  },
};

export const BACKEND_HTTP_KEYS: ReadonlySet<string> = new Set(Object.keys(BACKEND_HTTP_SCHEMA.properties));

/** How a failed backend status reaches the client. */
export interface BackendErrorReturn {
  /**
   * `return_error_code`: an endpoint with this one backend answers with the backend's status (and an
   * empty body) when it fails on its status (lura ErrorHTTPStatusHandler + router/gin/endpoint.go).
   */
  readonly code: boolean;
  /**
   * `return_error_details`: the failure goes into the merged body as `error_<name>`:
   * `{"http_status_code", "http_body", "http_body_encoding"}` (lura DetailedHTTPStatusHandler).
   */
  readonly detailsName: string | undefined;
}

export function parseBackendErrorReturn(raw: unknown): BackendErrorReturn {
  if (!isObject(raw)) return { code: false, detailsName: undefined };
  if ('return_error_details' in raw) {
    const name = raw.return_error_details;
    return { code: false, detailsName: typeof name === 'string' && name !== '' ? name : undefined };
  }
  return { code: raw.return_error_code === true, detailsName: undefined };
}
