/**
 * One gRPC unary call over node:http2, for OTLP/gRPC span exports: the message is already encoded
 * protobuf, so the call is a POST of the 5-byte length prefix and those bytes, and the answer is the
 * `grpc-status` trailer (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md). With
 * @grpc/grpc-js (directly or through the official exporter) a 2048-span export costs the gateway
 * twice the CPU: its message framing copies the request, and its channel machinery runs per call.
 *
 * One HTTP/2 session per collector, opened on the first call and again after it fails; it keeps
 * the process alive only while a call is in flight. Failures come back as gRPC status codes
 * (exporters/retry.ts retries the retryable ones).
 */
import { connect, constants, type ClientHttp2Session, type OutgoingHttpHeaders } from 'node:http2';
import { status as GrpcCode } from '@grpc/grpc-js';

/** A failed call: `code` is the gRPC status (what retry.ts reads). */
export class GrpcCallError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'GrpcCallError';
  }
}

/** The gRPC status of a response without one, from its HTTP status (PROTOCOL-HTTP2.md, "HTTP to gRPC Status Code Mapping"). */
function statusFromHttp(status: number): number {
  switch (status) {
    case 400:
      return GrpcCode.INTERNAL;
    case 401:
      return GrpcCode.UNAUTHENTICATED;
    case 403:
      return GrpcCode.PERMISSION_DENIED;
    case 404:
      return GrpcCode.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcCode.UNAVAILABLE;
    default:
      return GrpcCode.UNKNOWN;
  }
}

/** `grpc-message` is percent-encoded (PROTOCOL-HTTP2.md). */
function decodeMessage(raw: unknown): string {
  if (typeof raw !== 'string') return '';
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** A response longer than this is not read further (an export's answer is a few bytes). */
const MAX_RESPONSE = 4 * 1024 * 1024;

export interface GrpcUnaryOptions {
  /** `http://host:port` or `https://host:port`. */
  readonly origin: string;
  /** Trust for `https` (`ca_cert`); the system's roots when undefined. */
  readonly ca: Buffer | undefined;
  /** Metadata sent with every call (lower-case names; `-bin` values base64, as on the wire). */
  readonly metadata: Readonly<Record<string, string>>;
  readonly userAgent: string;
}

export class GrpcUnaryClient {
  readonly #options: GrpcUnaryOptions;
  #session: ClientHttp2Session | undefined;
  #active = 0;

  constructor(options: GrpcUnaryOptions) {
    this.#options = options;
  }

  #connect(): ClientHttp2Session {
    const o = this.#options;
    const session = connect(o.origin, o.ca === undefined ? {} : { ca: o.ca });
    const forget = (): void => {
      if (this.#session === session) this.#session = undefined;
    };
    // Errors reach the calls through their streams; the session is only dropped so the next call reconnects.
    session.on('error', forget);
    session.on('goaway', forget);
    session.on('close', forget);
    this.#session = session;
    return session;
  }

  /**
   * Calls `path` with `framed`: 5 free bytes, where the length prefix goes, then the encoded request.
   * `framed` is not read once `done` has been called.
   */
  call(path: string, framed: Buffer, timeoutMs: number, done: (error: GrpcCallError | undefined) => void): void {
    const session = this.#session !== undefined && !this.#session.destroyed ? this.#session : this.#connect();
    const headers: OutgoingHttpHeaders = {
      ...this.#options.metadata,
      [constants.HTTP2_HEADER_METHOD]: 'POST',
      [constants.HTTP2_HEADER_PATH]: path,
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-timeout': `${Math.max(1, Math.ceil(timeoutMs))}m`,
      'user-agent': this.#options.userAgent,
    };
    let finished = false;
    let httpStatus = 0;
    let grpcStatus: unknown;
    let grpcMessage: unknown;
    let received = 0;
    this.#active++;
    if (this.#active === 1) session.ref();
    const stream = session.request(headers);
    const finish = (error: GrpcCallError | undefined): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      // Nothing may read the message once the caller has it back.
      if (!stream.closed && !stream.destroyed) stream.close(constants.NGHTTP2_CANCEL);
      if (--this.#active === 0 && !session.destroyed) session.unref();
      done(error);
    };
    const timer = setTimeout(() => {
      // A collector that never answers may be a dead connection: the next call opens a new one.
      if (this.#active === 1) session.destroy();
      finish(new GrpcCallError(GrpcCode.DEADLINE_EXCEEDED, `no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    timer.unref();
    stream.on('response', (h) => {
      httpStatus = Number(h[constants.HTTP2_HEADER_STATUS]);
      // A trailers-only answer carries its status with the headers.
      grpcStatus = h['grpc-status'];
      grpcMessage = h['grpc-message'];
    });
    stream.on('trailers', (t) => {
      grpcStatus = t['grpc-status'];
      grpcMessage = t['grpc-message'];
    });
    stream.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > MAX_RESPONSE) finish(new GrpcCallError(GrpcCode.RESOURCE_EXHAUSTED, 'response too large'));
    });
    stream.on('end', () => {
      // No answer at all: the connection went away under the call.
      if (httpStatus === 0) finish(new GrpcCallError(GrpcCode.UNAVAILABLE, 'the connection closed without an answer'));
      else if (grpcStatus === undefined)
        finish(
          new GrpcCallError(
            httpStatus === 200 ? GrpcCode.UNKNOWN : statusFromHttp(httpStatus),
            `HTTP ${httpStatus} without grpc-status`,
          ),
        );
      else if (Number(grpcStatus) === GrpcCode.OK) finish(undefined);
      else
        finish(
          new GrpcCallError(Number(grpcStatus), decodeMessage(grpcMessage) || `grpc-status ${String(grpcStatus)}`),
        );
    });
    // Connection refused or reset, the session closed under the stream, a RST_STREAM: the collector is
    // unavailable for now (as grpc-js reports these).
    stream.on('error', (err: Error) => finish(new GrpcCallError(GrpcCode.UNAVAILABLE, err.message)));
    stream.on('close', () => {
      if (!finished) finish(new GrpcCallError(GrpcCode.UNAVAILABLE, `stream closed (code ${stream.rstCode ?? 0})`));
    });
    // Not compressed (flag 0), then the message length, big-endian.
    framed[0] = 0;
    framed.writeUInt32BE(framed.length - 5, 1);
    stream.end(framed);
  }

  close(): void {
    this.#session?.close();
    this.#session = undefined;
  }
}
