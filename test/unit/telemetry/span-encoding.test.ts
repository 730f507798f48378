import { strict as assert } from 'node:assert';
import { performance } from 'node:perf_hooks';
import { it } from 'node:test';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { ProtobufWriter } from '../../../src/telemetry/tracing/protobuf-writer.js';
import {
  encodeAttributes,
  encodeTraceRequest,
  key,
  Kind,
  spanName,
  eventName,
  SpanStatus,
  SpanWriter,
} from '../../../src/telemetry/tracing/span-encoder.js';
import { batcherOptionsFromEnv, DEFAULT_BATCHER } from '../../../src/config/environment.js';
import { SpanBatcher, type SpanChunk } from '../../../src/telemetry/tracing/span-batcher.js';
import { CounterCell } from '../../../src/telemetry/store/cells.js';
import {
  flattenTraceRequest,
  loadOtlpProtos,
  TO_OBJECT_OPTIONS,
  type ExportTraceServiceRequestObject,
} from '../../helpers/otlp-receiver.js';

function decode(bytes: Uint8Array): ReturnType<typeof flattenTraceRequest> {
  const { ExportTraceServiceRequest } = loadOtlpProtos();
  const obj = ExportTraceServiceRequest.toObject(
    ExportTraceServiceRequest.decode(bytes),
    TO_OBJECT_OPTIONS,
  ) as ExportTraceServiceRequestObject;
  return flattenTraceRequest(obj, 'grpc');
}

it('backpatches nested lengths, moving content that needs a longer varint', () => {
  for (const n of [0, 1, 127, 128, 300, 20_000]) {
    const w = new ProtobufWriter(8);
    const m = w.open(1);
    w.string(2, 'x'.repeat(n));
    w.close(m);
    const inner = n + 1 + (n < 128 ? 1 : n < 16384 ? 2 : 3);
    const outerLen = inner < 128 ? 1 : inner < 16384 ? 2 : 3;
    assert.equal(w.pos, 1 + outerLen + inner, `n=${n}`);
    assert.equal(w.buf.subarray(w.pos - n, w.pos).toString(), 'x'.repeat(n));
  }
});

it('writes monotonic times as exact epoch nanoseconds', () => {
  const base = new ProtobufWriter();
  base.monotonicNanos(0);
  const zero = base.buf.readBigUInt64LE(0);
  // The time origin to the microsecond it is known to.
  assert.ok(Math.abs(Number(zero / 1000n) - performance.timeOrigin * 1000) <= 1);
  for (const ms of [0.000001, 1.5, 12_345.678901, 86_400_000 * 30.25, 2 ** 32 / 1e6 + 0.5]) {
    const w = new ProtobufWriter();
    w.monotonicNanos(ms);
    assert.equal(w.buf.readBigUInt64LE(0) - zero, BigInt(Math.round(ms * 1e6)), String(ms));
  }
});

it('encodes spans that the official protos decode: ids, names, kinds, attributes, events, status', () => {
  const out = new SpanWriter();
  const trace = '0af7651916cd43dd8448eb211c80319c';
  const t0 = performance.now();
  out.begin(
    spanName('/users/{id}'),
    Kind.Server,
    trace,
    'b7ad6b7169203331',
    '00f067aa0ba902b7',
    t0,
    t0 + 12.5,
    'vendor=1',
    true,
  );
  out.fixed(encodeAttributes(9, { 'krakend.stage': 'global' }));
  out.str(key('url.full'), '/users/42?q=é');
  out.num(key('http.response.status_code'), 200);
  out.num(key('response-duration'), 0.0125);
  out.num(key('negative'), -3);
  out.bool(key('complete'), true);
  out.any('http.request.header.accept', ['a', 'b']);
  out.event(eventName('first-byte-time'), t0 + 3);
  out.str(key('note'), 'x'.repeat(200));
  out.endEvent();
  out.end(SpanStatus.Ok);
  out.begin(spanName('backend'), Kind.Client, trace, '1111111111111111', 'b7ad6b7169203331', t0 + 1, t0 + 2);
  out.end(SpanStatus.Error, 'connection refused');
  out.begin(spanName('stage'), Kind.Internal, trace, '2222222222222222', 'b7ad6b7169203331', t0 + 1, t0 + 2);
  out.int(key('http.response.status_code'), 0);
  out.double(key('response-duration'), 2);
  out.end(SpanStatus.Unset);
  assert.equal(out.count, 3);
  const run = out.bytes();
  const spans = decode(
    encodeTraceRequest(encodeAttributes(1, { 'service.name': 'svc' }), 'io.krakend.krakend-otel', {
      buf: run,
      start: 0,
      end: run.length,
    }),
  );
  // With room in front of the spans, the same request is written in place.
  const roomy = Buffer.alloc(run.length + 100);
  run.copy(roomy, 100);
  const inPlace = encodeTraceRequest(encodeAttributes(1, { 'service.name': 'svc' }), 'io.krakend.krakend-otel', {
    buf: roomy,
    start: 100,
    end: roomy.length,
  });
  assert.equal(inPlace.buffer, roomy.buffer);
  assert.deepEqual(decode(inPlace), spans);
  assert.equal(spans.length, 3);
  const [g, c, st] = spans;
  assert.ok(g !== undefined && c !== undefined && st !== undefined);
  assert.equal(g.resource['service.name'], 'svc');
  assert.equal(g.scope.name, 'io.krakend.krakend-otel');
  assert.equal(g.traceId, trace);
  assert.equal(g.spanId, 'b7ad6b7169203331');
  assert.equal(g.parentSpanId, '00f067aa0ba902b7');
  assert.equal(g.traceState, 'vendor=1');
  assert.equal(g.name, '/users/{id}');
  assert.equal(g.kind, 'SPAN_KIND_SERVER');
  assert.deepEqual(g.attributes, {
    'krakend.stage': 'global',
    'url.full': '/users/42?q=é',
    'http.response.status_code': 200,
    'response-duration': 0.0125,
    negative: -3,
    complete: true,
    'http.request.header.accept': ['a', 'b'],
  });
  assert.equal(g.events.length, 1);
  assert.equal(g.events[0]?.name, 'first-byte-time');
  assert.equal(g.events[0]?.attributes.note, 'x'.repeat(200));
  assert.equal(BigInt(g.endTimeUnixNano) - BigInt(g.startTimeUnixNano), 12_500_000n);
  assert.equal(g.status.code, 'STATUS_CODE_OK');
  assert.equal(c.kind, 'SPAN_KIND_CLIENT');
  assert.equal(c.parentSpanId, 'b7ad6b7169203331');
  assert.equal(c.status.code, 'STATUS_CODE_ERROR');
  assert.equal(c.status.message, 'connection refused');
  assert.equal(st.status.code, 'STATUS_CODE_UNSET');
  assert.deepEqual(st.attributes, { 'http.response.status_code': 0, 'response-duration': 2 });
});

function counters(): { exported: CounterCell; dropped: CounterCell; failed: CounterCell } {
  return { exported: new CounterCell('', {}), dropped: new CounterCell('', {}), failed: new CounterCell('', {}) };
}

function requestSpans(n: number, tag: number): { bytes: Buffer; count: number } {
  const out = new SpanWriter();
  for (let i = 0; i < n; i++) {
    out.begin(spanName(`r${tag}-${i}`), Kind.Internal, 'a'.repeat(32), 'b'.repeat(16), undefined, 1, 2);
    out.end(SpanStatus.Unset);
  }
  return { bytes: Buffer.from(out.bytes()), count: out.count };
}

it('batches encoded spans in order, bounds the queue and counts drops and exports', async () => {
  const chunks: SpanChunk[] = [];
  const names: string[] = [];
  let release: ((r: ExportResult) => void) | undefined;
  const exporter = {
    export(chunk: SpanChunk, cb: (r: ExportResult) => void): void {
      chunks.push(chunk);
      // Read now: once the export calls back, the batcher may reuse the buffer.
      for (const s of decode(encodeTraceRequest(Buffer.alloc(0), 's', chunk))) names.push(s.name);
      release = cb;
    },
    shutdown: () => Promise.resolve(),
  };
  const stats = counters();
  const batcher = new SpanBatcher(exporter, stats, {
    maxQueue: 12,
    maxBatch: 4,
    delayMs: 60_000,
    exportTimeoutMs: 5_000,
    maxBatchBytes: 1 << 20,
  });
  for (let r = 0; r < 3; r++) {
    const s = requestSpans(2, r);
    batcher.add(s.bytes, s.count);
  }
  // 4 spans sealed a batch, sent at once; 2 wait in the open batch.
  assert.equal(chunks.length, 1);
  assert.equal(chunks[0]?.count, 4);
  for (let r = 3; r < 8; r++) {
    const s = requestSpans(2, r);
    batcher.add(s.bytes, s.count);
  }
  // 12 queued (4 in flight + 8 waiting): the last two requests did not fit.
  assert.equal(batcher.queued, 12);
  assert.equal(stats.dropped.value, 4);
  release?.({ code: ExportResultCode.SUCCESS });
  assert.equal(stats.exported.value, 4);
  assert.equal(chunks.length, 2);
  release?.({ code: ExportResultCode.SUCCESS });
  const closing = batcher.close(1_000);
  await new Promise((r) => setImmediate(r));
  release?.({ code: ExportResultCode.SUCCESS });
  await closing;
  assert.equal(stats.exported.value, 12);
  assert.equal(batcher.queued, 0);
  assert.deepEqual(names, [
    'r0-0',
    'r0-1',
    'r1-0',
    'r1-1',
    'r2-0',
    'r2-1',
    'r3-0',
    'r3-1',
    'r4-0',
    'r4-1',
    'r5-0',
    'r5-1',
  ]);
});

it('reads the OTel batch processor variables and reports bad ones', () => {
  const warnings: string[] = [];
  const o = batcherOptionsFromEnv(
    {
      OTEL_BSP_MAX_QUEUE_SIZE: '100',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '500',
      OTEL_BSP_SCHEDULE_DELAY: 'soon',
      OTEL_BSP_EXPORT_TIMEOUT: '2500',
    },
    (m) => warnings.push(m),
  );
  assert.deepEqual(o, {
    maxQueue: 100,
    maxBatch: 100,
    delayMs: DEFAULT_BATCHER.delayMs,
    exportTimeoutMs: 2500,
    maxBatchBytes: DEFAULT_BATCHER.maxBatchBytes,
  });
  assert.equal(warnings.length, 2);
  assert.match(warnings.join('\n'), /OTEL_BSP_SCHEDULE_DELAY="soon"/);
  assert.match(warnings.join('\n'), /exceeds OTEL_BSP_MAX_QUEUE_SIZE/);
  assert.deepEqual(
    batcherOptionsFromEnv({}, () => assert.fail('no warning expected')),
    DEFAULT_BATCHER,
  );
});

it('sends a batch early when its bytes reach the size limit', () => {
  const chunks: SpanChunk[] = [];
  const exporter = { export: (chunk: SpanChunk): void => void chunks.push(chunk), shutdown: () => Promise.resolve() };
  const batcher = new SpanBatcher(exporter, counters(), {
    maxQueue: 1000,
    maxBatch: 1000,
    delayMs: 60_000,
    exportTimeoutMs: 5_000,
    maxBatchBytes: 200,
  });
  for (let r = 0; r < 5; r++) {
    const s = requestSpans(2, r);
    batcher.add(s.bytes, s.count);
  }
  assert.equal(chunks.length, 1);
  assert.ok((chunks[0]?.end ?? 0) - (chunks[0]?.start ?? 0) >= 200);
  assert.ok((chunks[0]?.count ?? 1000) < 10);
});

it('keeps exporting when an exporter calls back or throws synchronously', () => {
  let calls = 0;
  const exporter = {
    export(_chunk: SpanChunk, cb: (r: ExportResult) => void): void {
      calls++;
      if (calls % 2 === 0) throw new Error('sync failure');
      cb({ code: ExportResultCode.SUCCESS });
    },
    shutdown: () => Promise.resolve(),
  };
  const stats = counters();
  const batcher = new SpanBatcher(exporter, stats, {
    maxQueue: 8,
    maxBatch: 2,
    delayMs: 60_000,
    exportTimeoutMs: 5_000,
    maxBatchBytes: 1 << 20,
  });
  for (let r = 0; r < 10; r++) {
    const s = requestSpans(2, r);
    batcher.add(s.bytes, s.count);
  }
  assert.equal(calls, 10);
  assert.equal(stats.exported.value, 10);
  assert.equal(stats.failed.value, 10);
  assert.equal(stats.dropped.value, 0);
  assert.equal(batcher.queued, 0);
});
