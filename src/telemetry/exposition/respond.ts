/**
 * Sends an exposition already encoded (a multi-megabyte /metrics is never held as a string), and
 * remembers its size so the next one is written into a buffer of the right size at once.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export class ExpositionResponder {
  #lastSize = 0;

  send(req: IncomingMessage, res: ServerResponse, contentType: string, encode: (sizeHint: number) => Buffer): void {
    const body = encode(this.#lastSize);
    this.#lastSize = body.length;
    res.writeHead(200, { 'content-type': contentType, 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}
