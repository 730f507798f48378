/**
 * Stage: the matched route's path parameters, decoded, or a 400 when one cannot be sent on. A
 * parameter that is a dot segment (`.`, `..`, also as `%2e%2e`) cannot be sent on safely: re-encoded
 * or not, the backend's URL resolution (RFC 3986 §5.2.4,
 * https://www.rfc-editor.org/rfc/rfc3986#section-5.2.4, and WHATWG URL for `%2e`) removes it with
 * the segment before it, so `/items/{id}/detail` would reach `/detail`.
 */
import type { ServerResponse } from 'node:http';
import { TollgateError } from '../../errors/catalogue.js';
import { sendError } from '../../http/respond.js';

/** The decoded parameters, or undefined once the request has been answered with 400. */
export function decodeParamsOrRefuse(res: ServerResponse, raw: readonly string[]): string[] | undefined {
  const params = decodeParams(raw);
  if (typeof params !== 'string') return params;
  sendError(res, new TollgateError('TG_ERR_BAD_REQUEST', params));
  return undefined;
}

/** The decoded parameters, or why they are refused. */
function decodeParams(raw: readonly string[]): string[] | string {
  const out: string[] = new Array<string>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i] as string;
    let d = v;
    if (v.indexOf('%') !== -1) {
      try {
        d = decodeURIComponent(v);
      } catch {
        return 'the path has an invalid percent-encoding';
      }
    }
    if (d === '.' || d === '..') return 'a path parameter cannot be a dot segment';
    out[i] = d;
  }
  return out;
}
