/**
 * Stage: request-line and Host checks that llhttp leaves to the server (RFC 9112 §3.2, §2.3), answered as Go's
 * net/http server and nginx answer them: 400 for a missing, repeated or malformed Host, 505 for a
 * version other than HTTP/1.x. Runs before routing, so nothing of such a request reaches a backend.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TollgateError } from '../../errors/catalogue.js';
import { sendError } from '../../http/respond.js';

/**
 * The bytes a Host value may hold: those of RFC 3986's `uri-host [":" port]` (reg-name, IPv4, IP
 * literal with its brackets, percent-encoding), the same lenient set as Go's httpguts.ValidHostHeader
 * (github.com/golang/net/blob/master/http/httpguts/httplex.go). An empty value is allowed (§3.2).
 */
const HOST = /^[A-Za-z0-9!$%&'()*+,\-.:;=[\]_~]*$/;

/** Why the request must be refused, or undefined when its line and Host are acceptable. */
export function requestLineError(req: IncomingMessage): TollgateError | undefined {
  // llhttp accepts an HTTP/0.9 request line (no version, so no Host header either); Go's server,
  // and so KrakenD, answers 400.
  if (req.httpVersionMajor < 1) return new TollgateError('TG_ERR_BAD_REQUEST', 'HTTP/1.0 or later is required');
  // llhttp also takes `HTTP/2.0` on a text request line; this listener speaks HTTP/1.x only.
  if (req.httpVersionMajor > 1) return new TollgateError('TG_ERR_HTTP_VERSION');
  let hosts = 0;
  let host = '';
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host') {
      hosts++;
      host = raw[i + 1] as string;
    }
  }
  // Node keeps the first of two Host headers; a proxy in front may have routed on the other one.
  if (hosts > 1) return new TollgateError('TG_ERR_BAD_REQUEST', 'more than one Host header');
  if (hosts === 1 && !HOST.test(host))
    return new TollgateError('TG_ERR_BAD_REQUEST', 'the Host header is not a valid host');
  // RFC 9112 §3.2: a server must answer 400 to an HTTP/1.1 request without Host.
  if (hosts === 0 && req.httpVersionMinor >= 1)
    return new TollgateError('TG_ERR_BAD_REQUEST', 'the Host header is required');
  return undefined;
}

/** Refuses (and closes the connection of) a request whose line or Host is not acceptable. */
export function refuseRequestLine(req: IncomingMessage, res: ServerResponse): boolean {
  const refused = requestLineError(req);
  if (refused === undefined) return false;
  res.setHeader('connection', 'close');
  sendError(res, refused);
  return true;
}
