/**
 * The short ways of span encoding, decoded with the official protos: ids copied from where they were
 * first written (also after a span's content moved to make room for a long length), and reported
 * headers taken from the encoding kept for a name's last value, which must always be the value of
 * this request, never the previous one's, and never a credential.
 */
import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { loadConfigValue } from '../../../src/config/load.js';
import { RequestTracer } from '../../../src/telemetry/tracing/request-tracer.js';
import { encodeTraceRequest } from '../../../src/telemetry/tracing/span-encoder.js';
import { traceInjector } from '../../../src/telemetry/tracing/trace-injector.js';
import {
  flattenTraceRequest,
  loadOtlpProtos,
  TO_OBJECT_OPTIONS,
  type ExportTraceServiceRequestObject,
  type FlatSpan,
} from '../../helpers/otlp-receiver.js';
import { observedRoutes } from '../../helpers/routes.js';
import { answeredOk, dispatched } from '../../helpers/traced-request.js';

function decode(run: Buffer): FlatSpan[] {
  const { ExportTraceServiceRequest } = loadOtlpProtos();
  const bytes = encodeTraceRequest(Buffer.alloc(0), 's', { buf: run, start: 0, end: run.length });
  const obj = ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(bytes), TO_OBJECT_OPTIONS);
  return flattenTraceRequest(obj as ExportTraceServiceRequestObject, 'grpc');
}

function setUp(): { run: (reqHeaders: Record<string, string>, sent: Record<string, string>) => FlatSpan[] } {
  const all = { disable_stage: false, round_trip: true, read_payload: true, report_headers: true };
  const { config } = loadConfigValue(
    {
      version: 3,
      port: 8080,
      extra_config: {
        'telemetry/opentelemetry': {
          service_name: 'enc',
          trace_sample_rate: 1,
          exporters: { otlp: [{ name: 'c', host: '127.0.0.1', port: 4317 }] },
          layers: {
            global: { report_headers: true },
            proxy: { report_headers: true },
            backend: { traces: all },
          },
        },
      },
      endpoints: [
        {
          endpoint: '/noop',
          output_encoding: 'no-op',
          backend: [{ host: ['http://127.0.0.1:8081'], url_pattern: '/p', encoding: 'no-op' }],
        },
      ],
    },
    'encoding.json',
  );
  const injector = traceInjector(config.otel);
  if (config.otel === undefined || injector === undefined) throw new Error('tracing is off');
  let last: Buffer = Buffer.alloc(0);
  const tracer = new RequestTracer(config.otel, config, observedRoutes(config), injector.propagation, (b) => {
    last = Buffer.from(b);
  });
  return {
    run(reqHeaders, sent) {
      const { rec, b, t, res } = dispatched(tracer, '/noop', reqHeaders);
      res.setHeader('content-type', 'text/plain');
      injector.inject(rec, b, { ...sent });
      answeredOk(rec, b, t, 3);
      tracer.record(rec);
      return decode(last);
    },
  };
}

const attr = (s: FlatSpan | undefined, k: string): unknown => s?.attributes[k];

it('links every span to its parent and its trace, ids copied or not', () => {
  const { run } = setUp();
  const huge = 'u'.repeat(20_000);
  for (const ua of ['short', huge]) {
    // A 20 KB header makes the global span need a 3-byte length: its content moves, and so do its ids.
    const spans = run({ host: 'gw', 'user-agent': ua }, { 'user-agent': 'KrakenD' });
    const [server, proxy, stage, client, read] = spans;
    assert.equal(spans.length, 5);
    assert.equal(server?.kind, 'SPAN_KIND_SERVER');
    assert.equal(attr(server, 'user_agent.original'), ua);
    assert.equal(new Set(spans.map((s) => s.traceId)).size, 1);
    assert.match(server?.traceId ?? '', /^[0-9a-f]{32}$/);
    assert.equal(server?.parentSpanId ?? '', '', 'a root');
    assert.equal(proxy?.parentSpanId, server?.spanId);
    assert.equal(stage?.parentSpanId, proxy?.spanId);
    assert.equal(client?.parentSpanId, stage?.spanId);
    assert.equal(read?.parentSpanId, client?.spanId);
    assert.equal(new Set(spans.map((s) => s.spanId)).size, 5);
  }
});

it('writes the stage and read spans fresh ids of their own (written as bytes, never made as strings)', () => {
  const { run } = setUp();
  const seen = new Set<string>();
  for (let i = 0; i < 1200; i++) {
    const [, , stage, , read] = run({ host: 'gw' }, {});
    for (const id of [stage?.spanId ?? '', read?.spanId ?? '']) {
      assert.match(id, /^[0-9a-f]{16}$/);
      assert.notEqual(id, '0'.repeat(16));
      seen.add(id);
    }
  }
  // 2,400 ids (19 KB) across a refill of the 16 KB random pool, none repeated.
  assert.equal(seen.size, 2400);
});

it("reports each request's own header values, from the kept encoding or not, and never a credential", () => {
  const { run } = setUp();
  for (let i = 0; i < 40; i++) {
    const host = i % 10 === 9 ? `other-${i}` : 'gw.example';
    const spans = run(
      { host, authorization: `Bearer token-${i}`, 'x-request-id': `id-${i}` },
      { 'x-forwarded-for': `10.0.0.${i}`, 'user-agent': 'KrakenD', authorization: `Bearer token-${i}` },
    );
    const [server, proxy, stage, client] = spans;
    assert.deepEqual(attr(server, 'http.request.header.host'), [host], `request ${i}`);
    assert.deepEqual(attr(proxy, 'http.request.header.host'), [host]);
    assert.deepEqual(attr(server, 'http.request.header.x-request-id'), [`id-${i}`]);
    assert.deepEqual(attr(server, 'http.request.header.authorization'), ['REDACTED']);
    assert.deepEqual(attr(server, 'http.response.header.content-type'), ['text/plain']);
    for (const s of [stage, client]) {
      assert.deepEqual(attr(s, 'http.request.header.x-forwarded-for'), [`10.0.0.${i}`], `request ${i}`);
      assert.deepEqual(attr(s, 'http.request.header.user-agent'), ['KrakenD']);
      assert.deepEqual(attr(s, 'http.request.header.authorization'), ['REDACTED']);
      assert.equal(attr(s, 'http.request.header.traceparent'), undefined, 'what the propagators wrote is not reported');
    }
  }
});
