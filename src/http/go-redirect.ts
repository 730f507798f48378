/**
 * Go's http.Redirect to an absolute URL (https://github.com/golang/go/blob/go1.24.0/src/net/http/server.go#L2362-L2408),
 * byte for byte: `Location` with its non-ASCII bytes as `%xx`; GET and HEAD get
 * `Content-Type: text/html; charset=utf-8`, GET alone the short HTML body; Go's server then adds the
 * `Content-Length` of what was written (0 for the others).
 */
import type { ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';

export function goRedirect(res: ServerResponse, method: string, url: string, status: number): void {
  const location = hexEscapeNonAscii(url);
  if (method !== 'GET' && method !== 'HEAD') {
    res.writeHead(status, { location, 'content-length': '0' });
    res.end();
    return;
  }
  const body = method === 'GET' ? `<a href="${htmlEscape(url)}">${STATUS_CODES[status] ?? ''}</a>.\n\n` : '';
  res.writeHead(status, {
    location,
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(Buffer.byteLength(body, 'latin1')),
  });
  res.end(body, 'latin1');
}

/** Go's hexEscapeNonASCII: bytes above 0x7f as `%xx` (a request target reaches Node as latin1). */
export function hexEscapeNonAscii(s: string): string {
  return s.replace(/[\u0080-\u00ff]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
}

/** Go's htmlEscape in net/http (the characters html.EscapeString replaces). */
export function htmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' })[c] ?? c);
}
