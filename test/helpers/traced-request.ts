/**
 * The request tracer without a network, for tests and in-process benchmarks (bench/trace-cost.ts,
 * bench/tracing-record.ts): a tracer whose batches are encoded as export requests and then dropped,
 * a traced request's record up to its backend request, and the end of that record for a backend that
 * answered 200, as the proxy fills it.
 */
import { IncomingMessage, ServerResponse, type IncomingHttpHeaders } from 'node:http';
import { Socket } from 'node:net';
import type { GatewayConfig } from '../../src/config/types.js';
import { Outcome, RequestRecord, type BackendRecord } from '../../src/telemetry/record.js';
import { CounterCell } from '../../src/telemetry/store/cells.js';
import type { Propagation } from '../../src/telemetry/tracing/propagation.js';
import { RequestTracer } from '../../src/telemetry/tracing/request-tracer.js';
import type { BatcherOptions } from '../../src/config/environment.js';
import { SpanBatcher, type SpanChunk } from '../../src/telemetry/tracing/span-batcher.js';
import { encodeAttributes, encodeTraceRequest } from '../../src/telemetry/tracing/span-encoder.js';
import { observedRoutes } from './routes.js';

export interface EncodingTracer {
  readonly tracer: RequestTracer;
  readonly batcher: SpanBatcher;
  /** Spans exported so far, and the bytes of their export requests. */
  readonly exported: { spans: number; bytes: number };
}

/**
 * A tracer for `config` (its `otel` must be set) whose spans go through a real SpanBatcher to an
 * exporter that encodes each export request, as the OTLP transports do, and drops it.
 */
export function encodingTracer(
  config: GatewayConfig,
  propagation: Propagation,
  batcher: BatcherOptions,
): EncodingTracer {
  const otel = config.otel;
  if (otel === undefined) throw new Error('telemetry/opentelemetry is not configured');
  const resource = encodeAttributes(1, { 'service.name': 'bench' });
  const exported = { spans: 0, bytes: 0 };
  const exporter = {
    export(chunk: SpanChunk, cb: (r: { code: number }) => void): void {
      exported.bytes += encodeTraceRequest(resource, 'io.krakend.krakend-otel', chunk).length;
      exported.spans += chunk.count;
      cb({ code: 0 });
    },
    shutdown: () => Promise.resolve(),
  };
  const cell = (): CounterCell => new CounterCell('', {});
  const b = new SpanBatcher(exporter, { exported: cell(), dropped: cell(), failed: cell() }, batcher);
  const tracer = new RequestTracer(otel, config, observedRoutes(config), propagation, (bytes, count) =>
    b.add(bytes, count),
  );
  return { tracer, batcher: b, exported };
}

/**
 * A GET of `path` with the client's `headers`, begun under `tracer` and matched to route 0, whose
 * backend 0 request (to `/p` on target 0) was dispatched: its record, that backend's record, and the
 * start time. Its response `res` has no headers yet.
 */
export function dispatched(
  tracer: RequestTracer,
  path: string,
  headers: IncomingHttpHeaders,
): { rec: RequestRecord; b: BackendRecord; t: number; res: ServerResponse } {
  const req = new IncomingMessage(new Socket());
  req.url = path;
  req.method = 'GET';
  req.headers = headers;
  const res = new ServerResponse(req);
  const t = performance.now();
  const rec = new RequestRecord('GET', path, t);
  tracer.begin(rec, req, res);
  rec.route = 0;
  rec.proxyStart = t + 0.1;
  const b = rec.backend(0);
  b.stageStart = t + 0.2;
  b.target = 0;
  b.path = '/p';
  b.dispatchAt = t + 0.3;
  return { rec, b, t, res };
}

/**
 * A request's record from its backend's answer on: `b` answered 200 with `bytes` bytes, read in full,
 * and the request ended with them; times in ms after `t` (the backend request was sent before t + 1).
 */
export function answeredOk(rec: RequestRecord, b: BackendRecord, t: number, bytes: number): void {
  b.headersAt = t + 1;
  b.bodyStartAt = t + 1;
  b.bodyEndAt = t + 1.1;
  b.status = 200;
  b.outcome = Outcome.Ok;
  b.contentLength = bytes;
  b.readBytes = bytes;
  b.stageEnd = t + 1.2;
  b.stageComplete = true;
  rec.proxyEnd = t + 1.3;
  rec.proxyComplete = true;
  rec.status = 200;
  rec.bytesOut = bytes;
  rec.end = t + 1.4;
}
