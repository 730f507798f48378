/**
 * Self-test of the OTLP test receiver: requests are built here with protobufjs from the official protos and sent with
 * our own clients (node:http for OTLP/HTTP, grpc-js for OTLP/gRPC), so the receiver is checked independently of the
 * OpenTelemetry SDK exporters the gateway uses.
 */
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { describe, it, type TestContext } from 'node:test';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { makeCerts } from '../helpers/certs.js';
import {
  idToHex,
  loadOtlpProtos,
  otlpGrpcClientDefinition,
  startOtlpReceiver,
  type FlatHistogramPoint,
  type FlatMetric,
  type FlatSpan,
  type FlatSumPoint,
  type OtlpSignal,
} from '../helpers/otlp-receiver.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PARENT_ID = 'b7ad6b7169203331';
const SPAN_ID = '00f067aa0ba902b7';
const T0 = '1700000000000000000';
const T1 = '1700000000250000000';
const hex = (h: string): Buffer => Buffer.from(h, 'hex');

const kv = (key: string, value: Record<string, unknown>): Record<string, unknown> => ({ key, value });

/** One server span with every attribute type, an event, a parent and an error status. */
function traceRequest(spanName = 'GET /users/{id}'): Record<string, unknown> {
  return {
    resourceSpans: [
      {
        resource: { attributes: [kv('service.name', { stringValue: 'tollgate' })] },
        scopeSpans: [
          {
            scope: { name: 'tollgate', version: '0.1.0' },
            spans: [
              {
                traceId: hex(TRACE_ID),
                spanId: hex(SPAN_ID),
                parentSpanId: hex(PARENT_ID),
                name: spanName,
                kind: 'SPAN_KIND_SERVER',
                startTimeUnixNano: T0,
                endTimeUnixNano: T1,
                attributes: [
                  kv('http.request.method', { stringValue: 'GET' }),
                  kv('http.response.status_code', { intValue: '200' }),
                  kv('tollgate.cached', { boolValue: false }),
                  kv('tollgate.ratio', { doubleValue: 0.5 }),
                  kv('tollgate.backends', { arrayValue: { values: [{ stringValue: 'a' }, { stringValue: 'b' }] } }),
                ],
                events: [
                  {
                    name: 'retry',
                    timeUnixNano: '1700000000100000000',
                    attributes: [kv('attempt', { intValue: '2' })],
                  },
                ],
                status: { code: 'STATUS_CODE_ERROR', message: 'upstream failed' },
              },
            ],
          },
        ],
      },
    ],
  };
}

/** A histogram point carrying an exemplar, and a monotonic cumulative int sum. */
function metricsRequest(): Record<string, unknown> {
  const attrs = [kv('http.route', { stringValue: '/users/{id}' })];
  return {
    resourceMetrics: [
      {
        resource: { attributes: [kv('service.name', { stringValue: 'tollgate' })] },
        scopeMetrics: [
          {
            scope: { name: 'tollgate.metrics', version: '1.2.3' },
            metrics: [
              {
                name: 'http.server.request.duration',
                description: 'Duration of HTTP server requests.',
                unit: 's',
                histogram: {
                  aggregationTemporality: 'AGGREGATION_TEMPORALITY_CUMULATIVE',
                  dataPoints: [
                    {
                      attributes: attrs,
                      startTimeUnixNano: T0,
                      timeUnixNano: T1,
                      count: '3',
                      sum: 0.7,
                      min: 0.1,
                      max: 0.4,
                      bucketCounts: ['1', '2', '0'],
                      explicitBounds: [0.1, 0.5],
                      exemplars: [{ timeUnixNano: T1, asDouble: 0.4, traceId: hex(TRACE_ID), spanId: hex(SPAN_ID) }],
                    },
                  ],
                },
              },
              {
                name: 'tollgate.requests',
                description: 'Requests handled.',
                unit: '{request}',
                sum: {
                  aggregationTemporality: 'AGGREGATION_TEMPORALITY_CUMULATIVE',
                  isMonotonic: true,
                  dataPoints: [{ attributes: attrs, startTimeUnixNano: T0, timeUnixNano: T1, asInt: '42' }],
                },
              },
            ],
          },
        ],
      },
    ],
  };
}

function encode(signal: OtlpSignal, req: Record<string, unknown>): Buffer {
  const p = loadOtlpProtos();
  const type = signal === 'traces' ? p.ExportTraceServiceRequest : p.ExportMetricsServiceRequest;
  assert.equal(type.verify(type.fromObject(req)), null);
  return Buffer.from(type.encode(type.fromObject(req)).finish());
}

interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** POST with node:http(s) rather than fetch, so a custom CA can be trusted for the TLS case. */
function post(url: string, body: Buffer, headers: Record<string, string>, ca?: Buffer): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const options = {
      method: 'POST',
      headers: { ...headers, 'content-length': String(body.length) },
      ...(ca ? { ca } : {}),
    };
    const onResponse = (res: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    };
    const req = u.protocol === 'https:' ? httpsRequest(u, options, onResponse) : httpRequest(u, options, onResponse);
    req.on('error', reject);
    req.end(body);
  });
}

interface GrpcResult {
  readonly error: grpc.ServiceError | null;
}

/** One unary Export call with a plain grpc-js Client; path and (de)serializers come from the proto-built definition. */
async function grpcExport(
  url: string,
  signal: OtlpSignal,
  req: Record<string, unknown>,
  opts: {
    metadata?: Record<string, string>;
    creds?: grpc.ChannelCredentials;
    gzip?: boolean;
    deadlineMs?: number;
  } = {},
): Promise<GrpcResult> {
  const method = otlpGrpcClientDefinition(signal)['Export'];
  assert.ok(method);
  const client = new grpc.Client(new URL(url).host, opts.creds ?? grpc.credentials.createInsecure(), {
    ...(opts.gzip ? { 'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip } : {}),
    // The test certificate names localhost; this also keeps grpc-js from sending an IP as TLS SNI (DEP0123).
    ...(opts.creds ? { 'grpc.ssl_target_name_override': 'localhost' } : {}),
  });
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(opts.metadata ?? {})) md.set(k, v);
  try {
    return await new Promise<GrpcResult>((resolve) => {
      client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        req,
        md,
        { deadline: Date.now() + (opts.deadlineMs ?? 5000) },
        (error) => resolve({ error }),
      );
    });
  } finally {
    client.close();
  }
}

function assertSpan(t: TestContext, spans: readonly FlatSpan[]): void {
  assert.equal(spans.length, 1, t.name);
  const [s] = spans;
  assert.ok(s);
  assert.deepEqual(s.resource, { 'service.name': 'tollgate' });
  assert.deepEqual(s.scope, { name: 'tollgate', version: '0.1.0' });
  assert.equal(s.traceId, TRACE_ID);
  assert.equal(s.spanId, SPAN_ID);
  assert.equal(s.parentSpanId, PARENT_ID);
  assert.equal(s.name, 'GET /users/{id}');
  assert.equal(s.kind, 'SPAN_KIND_SERVER');
  assert.equal(s.startTimeUnixNano, T0);
  assert.equal(s.endTimeUnixNano, T1);
  assert.equal(s.durationMs, 250);
  assert.deepEqual(s.attributes, {
    'http.request.method': 'GET',
    'http.response.status_code': 200,
    'tollgate.cached': false,
    'tollgate.ratio': 0.5,
    'tollgate.backends': ['a', 'b'],
  });
  assert.deepEqual(s.events, [{ name: 'retry', attributes: { attempt: 2 }, timeUnixNano: '1700000000100000000' }]);
  assert.deepEqual(s.status, { code: 'STATUS_CODE_ERROR', message: 'upstream failed' });
}

function assertMetrics(points: readonly FlatMetric[]): void {
  assert.equal(points.length, 2);
  const h = points.find((p): p is FlatHistogramPoint => p.kind === 'histogram');
  assert.ok(h);
  assert.equal(h.name, 'http.server.request.duration');
  assert.equal(h.description, 'Duration of HTTP server requests.');
  assert.equal(h.unit, 's');
  assert.deepEqual(h.resource, { 'service.name': 'tollgate' });
  assert.deepEqual(h.scope, { name: 'tollgate.metrics', version: '1.2.3' });
  assert.equal(h.temporality, 'AGGREGATION_TEMPORALITY_CUMULATIVE');
  assert.deepEqual(h.attributes, { 'http.route': '/users/{id}' });
  assert.equal(h.count, 3);
  assert.equal(h.sum, 0.7);
  assert.equal(h.min, 0.1);
  assert.equal(h.max, 0.4);
  assert.deepEqual(h.bucketCounts, [1, 2, 0]);
  assert.deepEqual(h.explicitBounds, [0.1, 0.5]);
  assert.deepEqual(h.exemplars, [
    { traceId: TRACE_ID, spanId: SPAN_ID, value: 0.4, timeUnixNano: T1, filteredAttributes: {} },
  ]);
  assert.equal(h.startTimeUnixNano, T0);
  assert.equal(h.timeUnixNano, T1);

  const s = points.find((p): p is FlatSumPoint => p.kind === 'sum');
  assert.ok(s);
  assert.equal(s.name, 'tollgate.requests');
  assert.equal(s.monotonic, true);
  assert.equal(s.temporality, 'AGGREGATION_TEMPORALITY_CUMULATIVE');
  assert.equal(s.value, 42);
  assert.equal(s.valueType, 'int');
  assert.deepEqual(s.exemplars, []);
}

const PROTO = { 'content-type': 'application/x-protobuf' };

describe('OTLP test receiver', () => {
  it('idToHex turns base64 and bytes into lowercase hex', () => {
    assert.equal(idToHex(hex(TRACE_ID).toString('base64')), TRACE_ID);
    assert.equal(idToHex(hex(SPAN_ID)), SPAN_ID);
    assert.equal(idToHex(''), '');
  });

  it('decodes OTLP/HTTP protobuf traces and metrics, plain and gzip, and records headers', async (t) => {
    const rx = await startOtlpReceiver(t, { grpc: false });
    const r1 = await post(`${rx.httpUrl}/v1/traces`, encode('traces', traceRequest()), {
      ...PROTO,
      authorization: 'Bearer s3cret',
    });
    assert.equal(r1.status, 200);
    assert.equal(r1.headers['content-type'], 'application/x-protobuf');
    assertSpan(t, rx.spans());

    const r2 = await post(`${rx.httpUrl}/v1/metrics`, gzipSync(encode('metrics', metricsRequest())), {
      ...PROTO,
      'content-encoding': 'gzip',
    });
    assert.equal(r2.status, 200);
    assertMetrics(rx.metrics());

    assert.equal(rx.count('traces'), 1);
    assert.equal(rx.count('metrics'), 1);
    const [first, second] = rx.requests;
    assert.ok(first && second);
    assert.equal(first.transport, 'http');
    assert.equal(first.signal, 'traces');
    assert.equal(first.path, '/v1/traces');
    assert.equal(first.headers['authorization'], 'Bearer s3cret');
    assert.equal(first.accepted, true);
    assert.equal(first.httpStatus, 200);
    assert.equal(second.headers['content-encoding'], 'gzip');
    // The raw decoded request is kept too, in toObject form (ids base64, longs as strings, enums by name).
    assert.equal(
      first.signal === 'traces' ? first.request?.resourceSpans[0]?.scopeSpans[0]?.spans[0]?.kind : undefined,
      'SPAN_KIND_SERVER',
    );
  });

  it('accepts OTLP/HTTP JSON with hex ids', async (t) => {
    const rx = await startOtlpReceiver(t, { grpc: false });
    const json = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'tollgate' } }] },
          scopeSpans: [
            {
              scope: { name: 'tollgate', version: '0.1.0' },
              spans: [
                {
                  traceId: TRACE_ID,
                  spanId: SPAN_ID,
                  name: 'json span',
                  kind: 3,
                  startTimeUnixNano: T0,
                  endTimeUnixNano: T1,
                },
              ],
            },
          ],
        },
      ],
    };
    const r = await post(`${rx.httpUrl}/v1/traces`, Buffer.from(JSON.stringify(json)), {
      'content-type': 'application/json',
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), '{}');
    const [s] = rx.spans();
    assert.ok(s);
    assert.equal(s.traceId, TRACE_ID);
    assert.equal(s.spanId, SPAN_ID);
    assert.equal(s.parentSpanId, '');
    assert.equal(s.kind, 'SPAN_KIND_CLIENT');
    assert.deepEqual(s.status, { code: 'STATUS_CODE_UNSET', message: '' });
  });

  it('rejects garbage and unknown paths without recording spans', async (t) => {
    const rx = await startOtlpReceiver(t, { grpc: false });
    assert.equal((await post(`${rx.httpUrl}/v1/traces`, Buffer.from([0xff, 0xff, 0xff]), PROTO)).status, 400);
    assert.equal((await post(`${rx.httpUrl}/v1/logs`, Buffer.alloc(0), PROTO)).status, 404);
    assert.equal(rx.count('traces'), 1);
    assert.ok(rx.requests[0]?.error);
    assert.deepEqual(rx.spans(), []);
  });

  it('decodes OTLP/gRPC traces and metrics (with gzip) and records metadata', async (t) => {
    const rx = await startOtlpReceiver(t, { http: false });
    assert.match(rx.grpcUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.throws(() => rx.httpUrl, /without http/);
    const r1 = await grpcExport(rx.grpcUrl, 'traces', traceRequest(), {
      metadata: { authorization: 'Bearer grpc-token' },
    });
    assert.equal(r1.error, null);
    assertSpan(t, rx.spans());
    assert.equal(rx.spans()[0]?.transport, 'grpc');

    const r2 = await grpcExport(rx.grpcUrl, 'metrics', metricsRequest(), { gzip: true });
    assert.equal(r2.error, null);
    assertMetrics(rx.metrics());

    const [first, second] = rx.requests;
    assert.ok(first && second);
    assert.equal(first.path, '/opentelemetry.proto.collector.trace.v1.TraceService/Export');
    assert.equal(first.headers['authorization'], 'Bearer grpc-token');
    assert.equal(first.grpcCode, 0);
    assert.equal(second.path, '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export');
    assert.equal(first.headers['grpc-encoding'], 'identity');
    assert.equal(second.headers['grpc-encoding'], 'gzip');
  });

  it('serves both transports over TLS', async (t) => {
    const certs = makeCerts();
    const rx = await startOtlpReceiver(t, {
      tls: { cert: certs.pem(certs.serverCert), key: certs.pem(certs.serverKey) },
    });
    assert.match(rx.httpUrl, /^https:/);
    assert.match(rx.grpcUrl, /^https:/);
    const ca = certs.pem(certs.caCert);
    assert.equal(
      (await post(`${rx.httpUrl}/v1/traces`, encode('traces', traceRequest('https')), PROTO, ca)).status,
      200,
    );
    const r = await grpcExport(rx.grpcUrl, 'traces', traceRequest('grpcs'), { creds: grpc.credentials.createSsl(ca) });
    assert.equal(r.error, null);
    assert.deepEqual(
      rx.spans().map((s) => `${s.transport}:${s.name}`),
      ['http:https', 'grpc:grpcs'],
    );
  });

  it('unavailable: HTTP 503 and gRPC UNAVAILABLE are recorded as attempts but yield no spans', async (t) => {
    const rx = await startOtlpReceiver(t, { behaviour: { mode: 'unavailable' } });
    const r = await post(`${rx.httpUrl}/v1/traces`, encode('traces', traceRequest()), PROTO);
    assert.equal(r.status, 503);
    // The body is a google.rpc.Status, as OTLP/HTTP prescribes for errors.
    const status = loadOtlpProtos().RpcStatus.toObject(loadOtlpProtos().RpcStatus.decode(r.body));
    assert.match(String(status['message']), /unavailable/);
    const g = await grpcExport(rx.grpcUrl, 'traces', traceRequest());
    assert.equal(g.error?.code, grpc.status.UNAVAILABLE);
    assert.equal(rx.count('traces'), 2);
    assert.deepEqual(
      rx.requests.map((q) => [q.transport, q.accepted, q.httpStatus ?? q.grpcCode]),
      [
        ['http', false, 503],
        ['grpc', false, 14],
      ],
    );
    assert.equal(rx.requests[0]?.signal === 'traces' && rx.requests[0].request?.resourceSpans.length, 1);
    assert.deepEqual(rx.spans(), []);

    // Switching at run time: the retry now lands.
    rx.setBehaviour({ mode: 'ok' });
    assert.equal((await post(`${rx.httpUrl}/v1/traces`, encode('traces', traceRequest()), PROTO)).status, 200);
    assert.equal(rx.spans().length, 1);
    assert.equal(rx.count('traces'), 3);
  });

  it('status: HTTP 400 and gRPC INVALID_ARGUMENT by default, or the configured codes', async (t) => {
    const rx = await startOtlpReceiver(t, { behaviour: { mode: 'status' } });
    assert.equal((await post(`${rx.httpUrl}/v1/metrics`, encode('metrics', metricsRequest()), PROTO)).status, 400);
    assert.equal((await grpcExport(rx.grpcUrl, 'metrics', metricsRequest())).error?.code, grpc.status.INVALID_ARGUMENT);
    rx.setBehaviour({ mode: 'status', httpStatus: 429, grpcCode: grpc.status.RESOURCE_EXHAUSTED });
    assert.equal((await post(`${rx.httpUrl}/v1/metrics`, encode('metrics', metricsRequest()), PROTO)).status, 429);
    assert.equal(
      (await grpcExport(rx.grpcUrl, 'metrics', metricsRequest())).error?.code,
      grpc.status.RESOURCE_EXHAUSTED,
    );
    assert.equal(rx.count('metrics'), 4);
    assert.deepEqual(rx.metrics(), []);
  });

  it('slow: delays the answer', async (t) => {
    const rx = await startOtlpReceiver(t, { behaviour: { mode: 'slow', delayMs: 300 } });
    let start = performance.now();
    assert.equal((await post(`${rx.httpUrl}/v1/traces`, encode('traces', traceRequest()), PROTO)).status, 200);
    assert.ok(performance.now() - start >= 280, 'HTTP answer delayed');
    start = performance.now();
    assert.equal((await grpcExport(rx.grpcUrl, 'traces', traceRequest())).error, null);
    assert.ok(performance.now() - start >= 280, 'gRPC answer delayed');
    // A client deadline shorter than the delay fails the call, as an exporter timeout would.
    const late = await grpcExport(rx.grpcUrl, 'traces', traceRequest(), { deadlineMs: 100 });
    assert.equal(late.error?.code, grpc.status.DEADLINE_EXCEEDED);
  });

  it('refuse-after-headers: drops the connection without an answer', async (t) => {
    const rx = await startOtlpReceiver(t, { behaviour: { mode: 'refuse-after-headers' } });
    await assert.rejects(
      post(`${rx.httpUrl}/v1/traces`, encode('traces', traceRequest()), { ...PROTO, authorization: 'Bearer x' }),
    );
    const g = await grpcExport(rx.grpcUrl, 'traces', traceRequest());
    assert.ok(g.error, 'gRPC call failed');
    assert.notEqual(g.error.code, grpc.status.OK);
    assert.equal(rx.count('traces'), 2);
    assert.ok(rx.requests.every((q) => q.refused && !q.accepted));
    assert.equal(rx.requests[0]?.headers['authorization'], 'Bearer x');
  });

  it('waitFor resolves when the predicate holds and times out with a summary otherwise', async (t) => {
    const rx = await startOtlpReceiver(t, { grpc: false });
    setTimeout(
      () => post(`${rx.httpUrl}/v1/traces`, encode('traces', traceRequest()), PROTO).catch(() => undefined),
      50,
    );
    await rx.waitFor(() => rx.spans().length === 1, 2000);
    await assert.rejects(
      rx.waitFor(() => rx.metrics().length > 0, 100),
      /0 metrics requests/,
    );
  });
});
