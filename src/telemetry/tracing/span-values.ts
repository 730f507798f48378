/**
 * Attribute values as Go's net/http hands them to krakend-otel (krakend-otel/http/attributes.go), worked
 * out from what Node and undici report.
 */
import type { IncomingHttpHeaders } from 'node:http';

/**
 * `client.address`: Go's `Request.RemoteAddr`, i.e. `net.TCPAddr.String()`: `ip:port`, an IPv6 address in
 * brackets, an IPv4-mapped IPv6 address (how a dual-stack Node listener reports IPv4 peers) as IPv4.
 * KrakenD writes RemoteAddr as is: its trusted-proxies list never reaches the handler
 * (krakend-otel/lura/runserver.go:22-26 asserts `[]string` on a JSON value, which is `[]interface{}`).
 */
export function remoteAddr(address: string, port: number | undefined): string {
  const ip = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  if (port === undefined) return ip;
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/**
 * The authority of a backend `host` entry as written (`http://api:8080/v1` → `api:8080`,
 * `http://api` → `api`): Go's `Request.Host` for a request built from that URL (lura
 * proxy/http.go:89, `http.NewRequest`), which keeps an explicit port, even the default one, and drops
 * an empty one.
 */
export function hostAsWritten(host: string): string {
  const from = host.indexOf('://') + 3;
  let to = from;
  while (to < host.length && !'/?#'.includes(host.charAt(to))) to++;
  let authority = host.slice(from, to);
  const at = authority.lastIndexOf('@');
  if (at !== -1) authority = authority.slice(at + 1);
  return authority.endsWith(':') ? authority.slice(0, -1) : authority;
}

/** `scheme://` of a `host` entry as written, lower-cased as Go's url.Parse does. */
export function schemeOf(host: string): string {
  return host.slice(0, host.indexOf('://') + 3).toLowerCase();
}

/**
 * `http.request.body.size` of an incoming request: Go's server `Request.ContentLength` (net/http
 * transfer.go readTransfer/fixLength): the Content-Length, -1 (not reported) for a chunked body, and 0
 * for a request with neither.
 */
export function serverRequestBodySize(headers: IncomingHttpHeaders): number {
  const cl = headers['content-length'];
  if (cl !== undefined) return Number(cl);
  return headers['transfer-encoding'] !== undefined ? -1 : 0;
}

/**
 * `http.response.body.size` of a client span: Go's `Response.ContentLength` (net/http transfer.go
 * fixLength): 0 for 1xx, 204 and 304 (except in answer to HEAD, which keeps the header), else the
 * Content-Length, or -1 when the length is unknown (chunked or close-delimited), written as such.
 */
export function clientResponseBodySize(method: string, status: number, contentLength: number): number {
  if (method !== 'HEAD' && (status < 200 || status === 204 || status === 304)) return 0;
  return contentLength;
}
