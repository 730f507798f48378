/** The data listener's answer to what Node's parser refuses (`clientError`) and to CONNECT, on the socket. */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

/** A well-formed `HTTP/x.y` that llhttp refuses (`HTTP/1.2`, `HTTP/3.0`): 505, as Go and nginx answer. */
const VERSION_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ [^ \r\n]+ HTTP\/\d\.\d\r\n/;

function unsupportedVersion(err: NodeJS.ErrnoException): boolean {
  const raw = (err as { rawPacket?: unknown }).rawPacket;
  return (
    err.code === 'HPE_INVALID_VERSION' &&
    Buffer.isBuffer(raw) &&
    VERSION_LINE.test(raw.toString('latin1', 0, Math.min(raw.length, 8192)))
  );
}

/**
 * Malformed requests that never reach a handler (bad request line or version, header overflow, headers
 * or request not read in time, CONNECT) get a 4xx or 505, then the socket is destroyed once the answer
 * is written: the listener is half-open (allowHalfOpen), so a client that keeps sending, or a dripping
 * one, would otherwise hold the socket after the answer for as long as it likes.
 */
export function rejectMalformed(err: NodeJS.ErrnoException, socket: Socket): void {
  // As Node's own handler: no error answer into a response that has begun (a request timeout while
  // the handler streams one).
  const started =
    (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage?.headersSent === true;
  if (err.code === 'ECONNRESET' || !socket.writable || started) {
    socket.destroy();
    return;
  }
  const status =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? 431
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 408
        : unsupportedVersion(err)
          ? 505
          : 400;
  const code =
    status === 431 ? 'TG_ERR_HEADERS_TOO_LARGE' : status === 505 ? 'TG_ERR_HTTP_VERSION' : 'TG_ERR_BAD_REQUEST';
  const body = JSON.stringify({ error: STATUS_CODES[status], code });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  socket.once('finish', () => socket.destroy());
}
