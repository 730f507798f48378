/**
 * The transports of span exports: the export request is encoded by Tollgate (tracing/span-encoder.ts)
 * and sent as it is, over OTLP/HTTP with one undici connection, or over OTLP/gRPC as one unary call
 * on node:http2 (grpc-unary.ts). The official exporters' delegates copied each request once or twice
 * more and ran their promise and channel machinery per call, which doubled what an export cost the
 * gateway (bench/trace-cost.ts; docs/tracing.md, "What tracing costs").
 *
 * Both keep what the official exporters do: the configured headers (gRPC metadata), TLS with the
 * configured CA, a timeout per attempt, and the OTLP retry rules: HTTP 429/502/503/504, a timeout
 * and network errors are retryable (as @opentelemetry/otlp-exporter-base's http-transport-utils),
 * and so are the retryable gRPC codes (exporters/retry.ts decides and backs off). A response body
 * is drained and never parsed (partial success is only ever logged by the SDK).
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { Client, type Dispatcher } from 'undici';
import type { EncodedSpanExporter, SpanChunk } from '../tracing/span-batcher.js';
import { encodeTraceRequest } from '../tracing/span-encoder.js';
import { SCOPE } from '../tracing/span-data.js';
import { status as GrpcCode } from '@grpc/grpc-js';
import type { GrpcUnaryClient } from './grpc-unary.js';

const TRACE_EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

/** An export that failed: `code` is a gRPC status (retry.ts retries by it), also for HTTP failures. */
export class SpanExportError extends Error {
  constructor(
    readonly code: number | undefined,
    message: string,
    /** A `Retry-After` the collector asked for, in milliseconds. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'SpanExportError';
  }
}

const failed = (error: Error): ExportResult => ({ code: ExportResultCode.FAILED, error });
const SUCCESS: ExportResult = { code: ExportResultCode.SUCCESS };

/** Network errors worth another attempt (@opentelemetry/otlp-exporter-base http-transport-utils). */
const RETRYABLE_NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'EHOSTUNREACH',
  // undici's names for a connection closed or timed out under a request.
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** `Retry-After` as milliseconds: delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterMs(raw: string | string[] | undefined): number | undefined {
  const v = Array.isArray(raw) ? raw[0] : raw;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function networkCode(err: unknown): string | undefined {
  let e: unknown = err;
  // undici wraps the socket's own error as `cause`.
  for (let i = 0; i < 3 && typeof e === 'object' && e !== null; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && RETRYABLE_NETWORK.has(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A response body longer than this is not read (OTel JS's limit). */
const MAX_RESPONSE = 4 * 1024 * 1024;

export interface HttpSpanTarget {
  /** `http(s)://host:port`. */
  readonly origin: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly ca: Buffer | undefined;
  readonly timeoutMs: number;
  readonly userAgent: string;
}

/** OTLP/HTTP protobuf to `/v1/traces` on one keep-alive connection (one export is in flight at a time). */
export class OtlpHttpSpanExporter implements EncodedSpanExporter {
  readonly #client: Client;
  readonly #target: HttpSpanTarget;
  readonly #resource: Buffer;
  readonly #headers: Record<string, string>;

  constructor(target: HttpSpanTarget, resource: Buffer) {
    this.#target = target;
    this.#resource = resource;
    this.#client = new Client(target.origin, {
      ...(target.ca === undefined ? {} : { connect: { ca: target.ca } }),
      headersTimeout: target.timeoutMs,
      bodyTimeout: target.timeoutMs,
    });
    this.#headers = {
      ...Object.fromEntries(Object.entries(target.headers).map(([k, v]) => [k.toLowerCase(), v])),
      'content-type': 'application/x-protobuf',
      'user-agent': target.userAgent,
    };
  }

  export(chunk: SpanChunk, resultCallback: (result: ExportResult) => void): void {
    const body = encodeTraceRequest(this.#resource, SCOPE.name, chunk);
    const abort = new AbortController();
    let settled = false;
    const done = (result: ExportResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resultCallback(result);
    };
    const timer = setTimeout(() => {
      // Aborting first: the batch's bytes are not read once the batcher has them back.
      abort.abort();
      done(failed(new SpanExportError(GrpcCode.DEADLINE_EXCEEDED, `no answer within ${this.#target.timeoutMs} ms`)));
    }, this.#target.timeoutMs);
    timer.unref();
    const options: Dispatcher.RequestOptions = {
      path: this.#target.path,
      method: 'POST',
      headers: this.#headers,
      body,
      signal: abort.signal,
    };
    this.#client.request(options, (err, data) => {
      if (err !== null) {
        const code = networkCode(err);
        done(failed(new SpanExportError(code === undefined ? undefined : GrpcCode.UNAVAILABLE, err.message)));
        return;
      }
      const status = data.statusCode;
      let size = 0;
      data.body.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_RESPONSE) data.body.destroy();
      });
      data.body.on('error', () => undefined);
      data.body.on('close', () => {
        if (status >= 200 && status <= 299) done(SUCCESS);
        else if (status === 429 || status === 502 || status === 503 || status === 504)
          done(
            failed(
              new SpanExportError(
                GrpcCode.UNAVAILABLE,
                `HTTP ${status}`,
                retryAfterMs(data.headers['retry-after'] as string | string[] | undefined),
              ),
            ),
          );
        else done(failed(new SpanExportError(undefined, `HTTP ${status}`)));
      });
    });
  }

  async shutdown(): Promise<void> {
    await this.#client.close().catch(() => undefined);
  }
}

/** OTLP/gRPC `TraceService/Export` as one unary call per export. */
export class OtlpGrpcSpanExporter implements EncodedSpanExporter {
  readonly #client: GrpcUnaryClient;
  readonly #resource: Buffer;
  readonly #timeoutMs: number;

  constructor(client: GrpcUnaryClient, resource: Buffer, timeoutMs: number) {
    this.#client = client;
    this.#resource = resource;
    this.#timeoutMs = timeoutMs;
  }

  export(chunk: SpanChunk, resultCallback: (result: ExportResult) => void): void {
    // 5 bytes in front for the gRPC message prefix (grpc-unary.ts).
    const framed = encodeTraceRequest(this.#resource, SCOPE.name, chunk, 5);
    this.#client.call(TRACE_EXPORT_PATH, framed, this.#timeoutMs, (error) =>
      resultCallback(error === undefined ? SUCCESS : failed(error)),
    );
  }

  shutdown(): Promise<void> {
    this.#client.close();
    return Promise.resolve();
  }
}
