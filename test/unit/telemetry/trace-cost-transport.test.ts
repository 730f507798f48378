/**
 * Tollgate's own span transports (exporters/otlp-span-transports.ts, grpc-unary.ts) against the real
 * OTLP receiver of the tests (official protos, grpc-js server, node:http): what arrives decodes, the
 * configured headers and metadata go along, TLS trusts the configured CA, and each failure comes back
 * with the status that decides a retry (exporters/retry.ts): retryable for UNAVAILABLE, 429/502/503/504,
 * a timeout, a refused or dropped connection; final for the others.
 */
import { strict as assert } from 'node:assert';
import { it, type TestContext } from 'node:test';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { GrpcUnaryClient } from '../../../src/telemetry/exporters/grpc-unary.js';
import type { SpanExportError } from '../../../src/telemetry/exporters/otlp-span-transports.js';
import {
  OtlpGrpcSpanExporter,
  OtlpHttpSpanExporter,
  retryAfterMs,
} from '../../../src/telemetry/exporters/otlp-span-transports.js';
import type { EncodedSpanExporter, SpanChunk } from '../../../src/telemetry/tracing/span-batcher.js';
import {
  encodeAttributes,
  Kind,
  spanName,
  SpanStatus,
  SpanWriter,
} from '../../../src/telemetry/tracing/span-encoder.js';
import { makeCerts } from '../../helpers/certs.js';
import { startOtlpReceiver } from '../../helpers/otlp-receiver.js';
import { deadPort, startUpstream } from '../../helpers/upstream.js';

const RESOURCE = encodeAttributes(1, { 'service.name': 'transport' });
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

/** Two spans after 512 free bytes, as the batcher hands them over. */
function chunk(): SpanChunk {
  const w = new SpanWriter();
  const t = performance.now();
  w.begin(spanName('/a'), Kind.Server, TRACE, '00f067aa0ba902b7', undefined, t, t + 1);
  w.end(SpanStatus.Ok);
  w.begin(spanName('/b'), Kind.Client, TRACE, '1111111111111111', '00f067aa0ba902b7', t, t + 1);
  w.end(SpanStatus.Ok);
  const spans = w.bytes();
  const buf = Buffer.alloc(512 + spans.length);
  spans.copy(buf, 512);
  return { buf, start: 512, end: buf.length, count: 2 };
}

function send(exporter: EncodedSpanExporter): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(chunk(), resolve));
}

function errorOf(r: ExportResult): { code: number | undefined; retryAfterMs?: number } {
  assert.equal(r.code, ExportResultCode.FAILED);
  const e = r.error as SpanExportError;
  return { code: e.code, ...(e.retryAfterMs === undefined ? {} : { retryAfterMs: e.retryAfterMs }) };
}

function grpcExporter(t: TestContext, origin: string, timeoutMs = 2_000, ca?: Buffer): EncodedSpanExporter {
  const metadata = { authorization: 'Bearer abc', 'x-tenant-bin': Buffer.from([1, 2, 3]).toString('base64') };
  const e = new OtlpGrpcSpanExporter(
    new GrpcUnaryClient({ origin, ca, metadata, userAgent: 'test' }),
    RESOURCE,
    timeoutMs,
  );
  t.after(() => e.shutdown());
  return e;
}

function httpExporter(t: TestContext, origin: string, timeoutMs = 2_000, ca?: Buffer): EncodedSpanExporter {
  const target = {
    origin,
    path: '/v1/traces',
    headers: { Authorization: 'Bearer abc' },
    ca,
    timeoutMs,
    userAgent: 'test',
  };
  const e = new OtlpHttpSpanExporter(target, RESOURCE);
  t.after(() => e.shutdown());
  return e;
}

it('exports over gRPC with the metadata, and reports each failure with its gRPC status', async (t) => {
  const rx = await startOtlpReceiver(t, { http: false });
  const e = grpcExporter(t, rx.grpcUrl, 500);
  assert.equal((await send(e)).code, ExportResultCode.SUCCESS);
  const spans = rx.spans();
  assert.deepEqual(
    spans.map((s) => [s.name, s.traceId, s.parentSpanId ?? '']),
    [
      ['/a', TRACE, ''],
      ['/b', TRACE, '00f067aa0ba902b7'],
    ],
  );
  assert.equal(spans[0]?.resource['service.name'], 'transport');
  assert.equal(rx.requests[0]?.headers.authorization, 'Bearer abc');
  assert.equal(rx.requests[0]?.headers['x-tenant-bin'], 'AQID');

  rx.setBehaviour({ mode: 'unavailable' });
  assert.deepEqual(errorOf(await send(e)), { code: 14 });
  rx.setBehaviour({ mode: 'status', grpcCode: 3 });
  assert.deepEqual(errorOf(await send(e)), { code: 3 });
  rx.setBehaviour({ mode: 'slow', delayMs: 1_500 });
  assert.deepEqual(errorOf(await send(e)), { code: 4 }, 'DEADLINE_EXCEEDED');
  rx.setBehaviour({ mode: 'refuse-after-headers' });
  assert.deepEqual(errorOf(await send(e)), { code: 14 });
  rx.setBehaviour({ mode: 'ok' });
  assert.equal((await send(e)).code, ExportResultCode.SUCCESS, 'a new connection after the dropped one');
  assert.equal(rx.spans().length, 4);

  const dead = grpcExporter(t, `http://127.0.0.1:${await deadPort()}`);
  assert.deepEqual(errorOf(await send(dead)), { code: 14 }, 'connection refused: UNAVAILABLE');
});

it('exports over HTTP with the headers, and tells retryable failures (with Retry-After) from final ones', async (t) => {
  const rx = await startOtlpReceiver(t, { grpc: false });
  const e = httpExporter(t, rx.httpUrl, 500);
  assert.equal((await send(e)).code, ExportResultCode.SUCCESS);
  assert.deepEqual(
    rx.spans().map((s) => s.name),
    ['/a', '/b'],
  );
  assert.equal(rx.requests[0]?.path, '/v1/traces');
  assert.equal(rx.requests[0]?.headers.authorization, 'Bearer abc');
  assert.equal(rx.requests[0]?.headers['content-type'], 'application/x-protobuf');

  rx.setBehaviour({ mode: 'unavailable' });
  assert.deepEqual(errorOf(await send(e)), { code: 14 }, '503 is retryable');
  rx.setBehaviour({ mode: 'status', httpStatus: 400 });
  assert.deepEqual(errorOf(await send(e)), { code: undefined }, '400 is final');
  rx.setBehaviour({ mode: 'slow', delayMs: 1_500 });
  assert.deepEqual(errorOf(await send(e)), { code: 4 }, 'a timeout is retryable');
  rx.setBehaviour({ mode: 'refuse-after-headers' });
  assert.deepEqual(errorOf(await send(e)), { code: 14 }, 'a dropped connection is retryable');
  rx.setBehaviour({ mode: 'ok' });
  assert.equal((await send(e)).code, ExportResultCode.SUCCESS);

  const busy = await startUpstream(t, (_req, res) =>
    res.writeHead(429, { 'retry-after': '7', 'content-length': '0' }).end(),
  );
  const e429 = httpExporter(t, busy.url);
  assert.deepEqual(errorOf(await send(e429)), { code: 14, retryAfterMs: 7_000 });

  const dead = httpExporter(t, `http://127.0.0.1:${await deadPort()}`);
  assert.deepEqual(errorOf(await send(dead)), { code: 14 }, 'connection refused is retryable');
});

it('reads Retry-After as seconds or as a date', () => {
  assert.equal(retryAfterMs('3'), 3_000);
  assert.equal(retryAfterMs(undefined), undefined);
  assert.equal(retryAfterMs('soon'), undefined);
  const inTwo = retryAfterMs(new Date(Date.now() + 2_000).toUTCString()) ?? -1;
  assert.ok(inTwo > 0 && inTwo <= 2_000, String(inTwo));
  assert.equal(retryAfterMs(new Date(Date.now() - 60_000).toUTCString()), 0);
});

it('trusts the configured CA over TLS, on both transports', async (t) => {
  const certs = makeCerts();
  const rx = await startOtlpReceiver(t, {
    tls: { cert: certs.pem(certs.serverCert), key: certs.pem(certs.serverKey) },
  });
  const ca = certs.pem(certs.caCert);
  const grpc = grpcExporter(t, `https://localhost:${rx.grpcPort}`, 2_000, ca);
  const http = httpExporter(t, `https://localhost:${rx.httpPort}`, 2_000, ca);
  assert.equal((await send(grpc)).code, ExportResultCode.SUCCESS);
  assert.equal((await send(http)).code, ExportResultCode.SUCCESS);
  assert.deepEqual(rx.requests.map((r) => r.transport).sort(), ['grpc', 'http']);
  // Without the CA the certificate is not trusted.
  const untrusted = httpExporter(t, `https://localhost:${rx.httpPort}`);
  assert.equal((await send(untrusted)).code, ExportResultCode.FAILED);
});

it('settles an export by its status without reading an endless answer to its end', async (t) => {
  const LIMIT = 64 * 1024 * 1024;
  let written = 0;
  // Writes until the exporter goes away (bounded, so a broken exporter fails the test instead of hanging it).
  const chatty = await startUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-protobuf' });
    const chunk = Buffer.alloc(1024 * 1024);
    const more = (): void => {
      while (written < LIMIT && !res.destroyed) {
        written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', more);
      }
      res.end();
    };
    more();
  });
  const e = httpExporter(t, chatty.url);
  assert.equal((await send(e)).code, ExportResultCode.SUCCESS);
  assert.ok(written < LIMIT, `the exporter read ${written} bytes of the answer`);
});
