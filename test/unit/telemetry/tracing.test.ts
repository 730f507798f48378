import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { DataPointType } from '@opentelemetry/sdk-metrics';
import { newSpanId, newTraceId } from '../../../src/telemetry/tracing/ids.js';
import { TraceSampler } from '../../../src/telemetry/tracing/sampler.js';
import { Propagation, propagatorNames } from '../../../src/telemetry/tracing/propagation.js';
import { normalizeConfig } from '../../../src/config/normalize.js';
import { defaultTextMapSetter, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { TraceState, W3CTraceContextPropagator } from '@opentelemetry/core';
import { otlpEndpoint } from '../../../src/config/namespaces/opentelemetry.js';
import { toResourceMetrics } from '../../../src/telemetry/exporters/otlp-metrics.js';
import { MetricStore } from '../../../src/telemetry/store/store.js';
import type { OtlpExporterSettings } from '../../../src/config/namespaces/opentelemetry.js';

it('makes well-formed random ids', () => {
  const ids = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const t = newTraceId();
    assert.match(t, /^[0-9a-f]{32}$/);
    ids.add(t);
    assert.match(newSpanId(), /^[0-9a-f]{16}$/);
  }
  assert.equal(ids.size, 1000);
});

it('samples by parent below rate 1, else by trace-id ratio; 0 starts nothing (unlike KrakenD CE)', () => {
  const half = new TraceSampler(0.5);
  assert.equal(half.shouldSample(newTraceId(), true), true);
  assert.equal(half.shouldSample(newTraceId(), false), false);
  let sampled = 0;
  for (let i = 0; i < 10_000; i++) if (half.shouldSample(newTraceId(), undefined)) sampled++;
  assert.ok(sampled > 4_500 && sampled < 5_500, `${sampled} of 10000 at 0.5`);
  assert.equal(new TraceSampler(0).shouldSample(newTraceId(), undefined), false);
  assert.equal(new TraceSampler(1).shouldSample(newTraceId(), undefined), true);
  const id = newTraceId();
  assert.equal(
    half.shouldSample(id, undefined),
    half.shouldSample(id, undefined),
    'the same trace id always gets the same answer',
  );
});

it('chooses propagators from the config, else OTEL_PROPAGATORS, else W3C', () => {
  // The variable is read when the config is loaded; the tracer gets the settings' list.
  const names = (configured: string[] | undefined, env: string | undefined): string[] => {
    const otel = configured === undefined ? {} : { propagators: configured };
    const config = normalizeConfig(
      { version: 3, extra_config: { 'telemetry/opentelemetry': otel } },
      [],
      env === undefined ? {} : { OTEL_PROPAGATORS: env },
    );
    return propagatorNames(config.otel?.propagators);
  };
  assert.deepEqual(names(undefined, undefined), ['tracecontext', 'baggage']);
  assert.deepEqual(names(undefined, ' '), ['tracecontext', 'baggage']);
  assert.deepEqual(names(undefined, 'b3multi, jaeger,bogus'), ['b3multi', 'jaeger']);
  assert.deepEqual(names(['b3'], 'jaeger'), ['b3']);
  assert.deepEqual(names(undefined, 'none'), []);
});

it('extracts and injects W3C, B3 and Jaeger headers', () => {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const w3c = new Propagation(['tracecontext', 'baggage']);
  const ctx = w3c.extract({ traceparent: `00-${traceId}-00f067aa0ba902b7-01`, baggage: 'tenant=acme' });
  assert.ok(ctx !== undefined);
  const out: Record<string, string> = {};
  w3c.inject(ctx, { traceId, spanId: '1111111111111111', traceFlags: 1 }, out);
  assert.equal(out.traceparent, `00-${traceId}-1111111111111111-01`);
  assert.equal(out.baggage, 'tenant=acme', 'baggage travels on');
  const b3 = new Propagation(['b3multi']);
  const multi: Record<string, string> = {};
  b3.inject(undefined, { traceId, spanId: '2222222222222222', traceFlags: 1 }, multi);
  assert.equal(multi['x-b3-traceid'], traceId);
  assert.equal(multi['x-b3-spanid'], '2222222222222222');
  assert.equal(multi['x-b3-sampled'], '1');
  const single: Record<string, string> = {};
  new Propagation(['b3']).inject(undefined, { traceId, spanId: '2222222222222222', traceFlags: 1 }, single);
  assert.equal(single.b3, `${traceId}-2222222222222222-1`);
  const jaeger: Record<string, string> = {};
  new Propagation(['jaeger']).inject(undefined, { traceId, spanId: '3333333333333333', traceFlags: 1 }, jaeger);
  assert.equal(jaeger['uber-trace-id'], `${traceId}:3333333333333333:0:01`);
  assert.equal(new Propagation([]).extract({ traceparent: `00-${traceId}-00f067aa0ba902b7-01` }), undefined);
});

it('takes the short ways only where the propagators would do the same: no trace headers, a context without baggage', () => {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const official = new W3CTraceContextPropagator();
  for (const names of [['tracecontext', 'baggage'], ['tracecontext']] as const) {
    const p = new Propagation(names);
    assert.equal(p.extract({ host: 'x', 'user-agent': 'y' }), undefined);
    assert.ok(p.extract({ traceparent: `00-${traceId}-00f067aa0ba902b7-01` }) !== undefined);
    for (const traceFlags of [0, 1]) {
      for (const traceState of [undefined, new TraceState('vendor=abc,other=1')]) {
        const span = { traceId, spanId: '1111111111111111', traceFlags, traceState };
        const mine: Record<string, string> = {};
        const theirs: Record<string, string> = {};
        p.inject(undefined, span, mine);
        official.inject(trace.setSpanContext(ROOT_CONTEXT, span), theirs, defaultTextMapSetter);
        assert.deepEqual(
          mine,
          theirs,
          `${names.join('+')} flags ${traceFlags} state ${String(traceState?.serialize())}`,
        );
      }
    }
  }
  // Baggage alone is still a context worth extracting; Jaeger reads uberctx-* headers too.
  assert.ok(new Propagation(['tracecontext', 'baggage']).extract({ baggage: 'tenant=acme' }) !== undefined);
  assert.ok(new Propagation(['jaeger']).extract({ 'uber-trace-id': `${traceId}:3333333333333333:0:01` }) !== undefined);
  assert.ok(new Propagation(['b3']).extract({ b3: `${traceId}-2222222222222222-1` }) !== undefined);
});

it('resolves OTLP endpoints: scheme → TLS, default ports, a port in host', () => {
  const s = (host: string, useHttp = false, port = useHttp ? 4318 : 4317): OtlpExporterSettings => ({
    name: 'x',
    host,
    port,
    useHttp,
    disableMetrics: false,
    disableTraces: false,
    reportingPeriodS: 0,
    headers: {},
    caCert: undefined,
  });
  assert.deepEqual(otlpEndpoint(s('collector')), { tls: false, base: 'http://collector:4317' });
  assert.deepEqual(otlpEndpoint(s('https://collector/ignored/path')), { tls: true, base: 'https://collector:4317' });
  assert.deepEqual(otlpEndpoint(s('http://tempo', true)), { tls: false, base: 'http://tempo:4318' });
  assert.deepEqual(otlpEndpoint(s('collector:5555')), { tls: false, base: 'http://collector:5555' });
});

it('turns a snapshot into cumulative OTLP metric data with instrument names and typed attributes', () => {
  const store = new MetricStore();
  const h = store.histogram('otel', {
    name: 'http_server_duration',
    otelName: 'http.server.duration',
    help: 'h',
    buckets: [0.1, 1],
  });
  h.bind([
    ['http.route', '/a'],
    ['http.response.status_code', 200],
  ]).observe(0.5);
  store
    .counter('otel', { name: 'started', otelName: 'http.client.request.started.count', help: 'c' })
    .bind([['error', false]])
    .add(3);
  const rm = toResourceMetrics(
    store.snapshot(undefined, 2_000),
    resourceFromAttributes({ 'service.name': 's' }),
    1_000,
  );
  const metrics = rm.scopeMetrics[0]?.metrics ?? [];
  assert.equal(rm.scopeMetrics[0]?.scope.name, 'io.krakend.krakend-otel');
  const hist = metrics.find((m) => m.descriptor.name === 'http.server.duration');
  assert.equal(hist?.dataPointType, DataPointType.HISTOGRAM);
  assert.deepEqual(hist?.dataPoints[0]?.attributes, { 'http.route': '/a', 'http.response.status_code': 200 });
  assert.deepEqual(hist?.dataPoints[0]?.value, {
    buckets: { boundaries: [0.1, 1], counts: [0, 1, 0] },
    sum: 0.5,
    count: 1,
  });
  assert.deepEqual(hist?.dataPoints[0]?.startTime, [1, 0]);
  const sum = metrics.find((m) => m.descriptor.name === 'http.client.request.started.count');
  assert.equal(sum?.dataPointType, DataPointType.SUM);
  assert.deepEqual(sum?.dataPoints[0]?.attributes, { error: false });
});

it('writes fixed64 nanoseconds exactly without BigInt (span timestamps)', async () => {
  const { ProtobufWriter } = await import('../../../src/telemetry/tracing/protobuf-writer.js');
  for (const ms of [1795320630722.2444, 1700000000000, 1700000000000.001, 86_400_000.5, 4102444800000.999, 0]) {
    const w = new ProtobufWriter();
    w.fixed64Nanos(ms);
    const s = Math.floor(ms / 1000);
    assert.equal(
      w.buf.readBigUInt64LE(0),
      BigInt(s) * 1_000_000_000n + BigInt(Math.round((ms - s * 1000) * 1e6)),
      String(ms),
    );
  }
  const w = new ProtobufWriter(4);
  w.string(1, 'héllo wörld, a non-ASCII string that is long enough to take the Buffer path ✓');
  assert.equal(
    w.buf.subarray(2, w.pos).toString('utf8'),
    'héllo wörld, a non-ASCII string that is long enough to take the Buffer path ✓',
  );
});
