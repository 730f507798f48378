/**
 * `backend/http/client` (KrakenD CE, backend level): only `no_redirect` is implemented. The other keys
 * of the namespace stay refused (krakend-catalogue.ts, KRAKEND_NAMESPACE_KEYS).
 */
import { isObject } from '../raw.js';

export const BACKEND_HTTP_CLIENT = 'backend/http/client';

export const BACKEND_HTTP_CLIENT_SCHEMA = {
  type: 'object',
  properties: { no_redirect: { type: 'boolean' } },
};

export const BACKEND_HTTP_CLIENT_KEYS: ReadonlySet<string> = new Set(['no_redirect']);

/**
 * Whether the backend's redirects are followed. Go's client follows up to 10 by default;
 * `no_redirect` makes the 3xx the answer (KrakenD sets `CheckRedirect` to `http.ErrUseLastResponse`).
 */
export function followsRedirects(raw: unknown): boolean {
  return !(isObject(raw) && raw.no_redirect === true);
}
