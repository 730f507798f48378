/**
 * Where a request carries its JWT, as krakend-jose reads it (`gin/jose.go:249-275` FromCookie and
 * FromHeader, chained by go-auth0's FromMultiple): the header (`Authorization` unless
 * `auth_header_name`), without a case-insensitive `Bearer ` prefix when it has one; when that header
 * is absent or empty, the cookie (`access_token` unless `cookie_key`). A header that holds something
 * is the token, valid or not: the cookie is not tried then.
 */
import type { IncomingHttpHeaders } from 'node:http';

export function tokenOf(headers: IncomingHttpHeaders, header: string, cookie: string): string | undefined {
  const h = headers[header];
  let raw = typeof h === 'string' ? h : Array.isArray(h) ? (h[0] ?? '') : '';
  if (raw.length > 7 && raw.charCodeAt(6) === 32 && raw.slice(0, 6).toLowerCase() === 'bearer') raw = raw.slice(7);
  if (raw !== '') return raw;
  const c = headers.cookie;
  return c === undefined ? undefined : cookieValue(c, cookie);
}

/** Go's `Request.Cookie`: the first cookie of that name with a valid value, its quotes removed. */
function cookieValue(header: string, name: string): string | undefined {
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    let v = part.slice(eq + 1).trim();
    if (v.length > 1 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    // net/http validCookieValueByte: printable ASCII (space included) without `"`, `;` and `\`.
    if (/^[\x20\x21\x23-\x3a\x3c-\x5b\x5d-\x7e]*$/.test(v)) return v === '' ? undefined : v;
  }
  return undefined;
}
