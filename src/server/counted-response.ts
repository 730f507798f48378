/**
 * The data listener's response class (node:http's `ServerResponse` option): it counts the body bytes
 * handed to `write()`/`end()` and the chunked framing Node adds around them, so the record gets the
 * bytes written for every response, whoever wrote it (the proxy, a gateway error, a built-in) and
 * however its headers were set (`setHeader` or `writeHead`). One class for every response: counting
 * costs two numbers per response and no closure or wrapper per request.
 *
 * Two counts, because the products count differently:
 * - `bodyBytes`: what krakend-otel counts, the bytes each `Write` of the handler accepted
 *   (krakend-otel http/server/response_writer.go:41-49). Go accepts and drops the body of a HEAD
 *   response (net/http server.go chunkWriter.Write "Eat writes") and refuses any body for 1xx, 204
 *   and 304 (ErrBodyNotAllowed): HEAD bodies count, those do not.
 * - `wireBytes`: what nginx's `$bytes_sent` counts for Kong's bandwidth egress, the status line,
 *   headers, body and chunk framing that went out on the connection.
 */
import { ServerResponse, type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders } from 'node:http';

type WriteCallback = (error: Error | null | undefined) => void;

/** Node's head of a response once it is stored (internal, but the field `headersSent` is read from). */
interface StoredHead {
  readonly _header?: string | null;
}

/** Bytes of a chunk as Node sends it; 0 for no chunk (a callback in its place). */
function chunkBytes(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string')
    return chunk.length === 0
      ? 0
      : Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}

/** Digits of `n` in hex: the chunk-size line Node writes (`1a2\r\n`), without making the string. */
function hexDigits(n: number): number {
  if (n < 0x1_0000_0000) return ((31 - Math.clz32(n)) >> 2) + 1;
  let d = 1;
  for (let v = n; v >= 16; v = Math.floor(v / 16)) d++;
  return d;
}

/** Headers given to writeHead as one flat list (`[name, value, name, value…]`), as an object. */
function fromList(list: readonly OutgoingHttpHeader[]): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (let i = 0; i + 1 < list.length; i += 2) {
    const name = String(list[i]);
    const had = out[name];
    // A repeated name (Set-Cookie) keeps every value, as Node sends them.
    out[name] = had === undefined ? list[i + 1] : [had, list[i + 1]].flat().map(String);
  }
  return out;
}

/** 1xx, 204 and 304 carry no body (RFC 9110 §6.4.1); Go refuses one and Node drops it. */
function bodyAllowed(status: number): boolean {
  return status >= 200 && status !== 204 && status !== 304;
}

export class CountedResponse<Req extends IncomingMessage = IncomingMessage> extends ServerResponse<Req> {
  #body = 0;
  #framing = 0;
  /** A header was set before the head (setHeader…): Node keeps them all, and getHeaders() has the head's. */
  #progressive = false;
  /** The headers of a head written from one writeHead object alone, which Node writes without keeping. */
  #head: OutgoingHttpHeaders | readonly OutgoingHttpHeader[] | undefined;

  override setHeader(name: string, value: number | string | readonly string[]): this {
    this.#progressive = true;
    return super.setHeader(name, value);
  }

  override appendHeader(name: string, value: string | readonly string[]): this {
    this.#progressive = true;
    return super.appendHeader(name, value);
  }

  override writeHead(
    statusCode: number,
    reason?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
    headers?: OutgoingHttpHeaders | OutgoingHttpHeader[],
  ): this {
    const given = typeof reason === 'string' ? headers : reason;
    if (!this.#progressive && given !== undefined && !this.headersSent) this.#head = given;
    return super.writeHead(statusCode, reason as string, headers);
  }

  /**
   * The headers of the head, as the tracer reports them (krakend-otel gathers them when the head is
   * written): when the head was written from one writeHead object, that object — Node sends it
   * without keeping it, so getHeaders() is empty then; otherwise Node's own (undefined: ask it).
   */
  get headHeaders(): OutgoingHttpHeaders | undefined {
    const head = this.#head;
    if (head === undefined) return undefined;
    return Array.isArray(head) ? fromList(head) : (head as OutgoingHttpHeaders);
  }

  override write(chunk: unknown, encoding?: BufferEncoding | WriteCallback, cb?: WriteCallback): boolean {
    const open = !this.destroyed && !this.writableEnded;
    const ok = super.write(chunk, encoding as BufferEncoding, cb);
    if (open) this.#count(chunk, encoding);
    return ok;
  }

  override end(chunk?: unknown, encoding?: BufferEncoding | (() => void), cb?: () => void): this {
    const open = !this.destroyed && !this.writableEnded;
    super.end(chunk, encoding as BufferEncoding, cb);
    if (open) this.#count(chunk, encoding);
    return this;
  }

  /** Counted after Node wrote the chunk: only then is `chunkedEncoding` decided (on the first write). */
  #count(chunk: unknown, encoding: unknown): void {
    const n = chunkBytes(chunk, encoding);
    if (n === 0) return;
    this.#body += n;
    if (this.chunkedEncoding) this.#framing += hexDigits(n) + 4;
  }

  /** Body bytes the handlers wrote, as krakend-otel counts them (HEAD bodies included). */
  get bodyBytes(): number {
    return bodyAllowed(this.statusCode) ? this.#body : 0;
  }

  /** Bytes of this response on the connection: status line and headers, body, chunk framing. */
  get wireBytes(): number {
    const head = (this as StoredHead)._header;
    if (typeof head !== 'string') return 0;
    // Node sends the head as latin1 (one byte per character) and no body for HEAD, 1xx, 204, 304.
    if (this.req.method === 'HEAD' || !bodyAllowed(this.statusCode)) return head.length;
    // The last chunk `0\r\n\r\n` goes out with `end()`.
    const last = this.chunkedEncoding && this.writableEnded ? 5 : 0;
    return head.length + this.#body + this.#framing + last;
  }
}
