/** Gateway-generated responses: JSON bodies with a stable error code (or gin's plain-text ones), never a stack or a secret. */
import type { ServerResponse } from 'node:http';
import type { TollgateError } from '../errors/catalogue.js';

export function sendJson(res: ServerResponse, status: number, body: unknown, extra?: Record<string, string>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...extra,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, err: TollgateError, extra?: Record<string, string>): void {
  if (res.headersSent) {
    res.destroy(err);
    return;
  }
  if (res.destroyed) return;
  sendJson(res, err.statusCode, { error: err.message, code: err.code }, extra);
}

/** A short `text/plain` answer, as gin's serveError writes its default 404 and 405 bodies. */
export function sendText(res: ServerResponse, status: number, text: string, extra?: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text), ...extra });
  res.end(text);
}
