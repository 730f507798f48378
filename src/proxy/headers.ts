/**
 * Proxy header hygiene (RFC 9110 §7.6.1): hop-by-hop headers and those named in `Connection` never
 * cross the gateway, in either direction; only the headers an endpoint lists in `input_headers` reach
 * a backend (KrakenD's zero-trust default); `X-Forwarded-For` is appended to, never trusted.
 */
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { ForwardRule } from '../config/types.js';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Headers the gateway sets itself towards a backend; a client's copy is never forwarded. `Expect` is
 * answered here (Node's server writes `100 Continue` before the request reaches a handler, RFC 9110
 * §10.1.1), so the backend gets the whole body without asking; undici refuses to send it anyway.
 */
const GATEWAY_OWNED = new Set(['host', 'content-length', 'x-forwarded-host', 'expect']);

function connectionListed(headers: IncomingHttpHeaders | Record<string, unknown>): Set<string> | undefined {
  const raw = headers.connection;
  // A backend may send several Connection lines: undici hands them over as an array (Node joins a client's).
  const c = Array.isArray(raw) ? raw.join(',') : raw;
  if (typeof c !== 'string' || c === '' || c === 'keep-alive' || c === 'close') return undefined;
  return new Set(c.split(',').map((s) => s.trim().toLowerCase()));
}

export interface ForwardContext {
  /** Tollgate's own `User-Agent` (product/version). */
  readonly userAgent: string;
  /** Ask for gzip when no Accept-Encoding is forwarded (the answer is decoded before merging). */
  readonly askGzip: boolean;
  /** The backend request's method (Go's transport never asks for gzip on HEAD). */
  readonly method: string;
}

/**
 * Headers for a backend request: the forwarded subset, `X-Forwarded-For` (client chain + this hop),
 * `X-Forwarded-Host`, and the body headers when a body goes along.
 */
export function backendRequestHeaders(
  req: IncomingMessage,
  rule: ForwardRule,
  hasBody: boolean,
  ctx: ForwardContext,
): Record<string, string | string[]> {
  const src = req.headers;
  const out: Record<string, string | string[]> = {};
  const listed = connectionListed(src);
  if (rule === '*') {
    for (const name in src) {
      if (HOP_BY_HOP.has(name) || GATEWAY_OWNED.has(name) || listed?.has(name) === true) continue;
      const v = src[name];
      if (v !== undefined) out[name] = v;
    }
  } else {
    for (const name of rule) {
      if (HOP_BY_HOP.has(name) || GATEWAY_OWNED.has(name) || listed?.has(name) === true) continue;
      const v = src[name];
      if (v !== undefined) out[name] = v;
    }
  }
  const ip = clientIp(req);
  const xff = src['x-forwarded-for'];
  out['x-forwarded-for'] = typeof xff === 'string' && xff !== '' ? `${xff}, ${ip}` : ip;
  const host = src.host;
  if (host !== undefined) out['x-forwarded-host'] = host;
  // lura sets its own User-Agent, or names itself in X-Forwarded-Via when the client's is forwarded
  // (https://github.com/luraproject/lura/blob/master/router/gin/endpoint.go#L150-L156).
  if (out['user-agent'] === undefined) out['user-agent'] = ctx.userAgent;
  else out['x-forwarded-via'] = ctx.userAgent;
  // Go's transport asks for gzip when the request names no Accept-Encoding and no Range (not on
  // HEAD), and decodes the answer (https://github.com/golang/go/blob/master/src/net/http/transport.go,
  // `requestedGzip`).
  if (ctx.askGzip && ctx.method !== 'HEAD' && out['accept-encoding'] === undefined && out.range === undefined)
    out['accept-encoding'] = 'gzip';
  if (hasBody) {
    const ct = src['content-type'];
    if (ct !== undefined && out['content-type'] === undefined) out['content-type'] = ct;
  }
  return out;
}

function clientIp(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/** A backend's response headers minus hop-by-hop ones, ready for `res.writeHead` (no-op encoding). */
export function clientResponseHeaders(headers: Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const listed = connectionListed(headers);
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || listed?.has(name) === true) continue;
    const v = headers[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** Intersection used when a backend narrows its endpoint's `input_headers`/`input_query_strings`. */
export function narrowRule(endpoint: ForwardRule, backend: ForwardRule | undefined): ForwardRule {
  if (backend === undefined) return endpoint;
  if (endpoint === '*') return backend;
  if (backend === '*') return endpoint;
  return new Set([...backend].filter((n) => endpoint.has(n)));
}
