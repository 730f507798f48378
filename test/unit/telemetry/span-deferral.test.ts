/**
 * Sampled requests' spans encoded in groups (span-deferral.ts), over the real tracer and batcher:
 * nothing is encoded while fewer than a group wait and the delay has not passed, a full group or the
 * delay or `flush` encodes all that wait, requests without spans are never queued, and a request whose
 * spans fail to encode loses no other request's.
 */
import { strict as assert } from 'node:assert';
import { setTimeout as sleep } from 'node:timers/promises';
import { it } from 'node:test';
import { loadConfigValue } from '../../../src/config/load.js';
import { RequestRecord } from '../../../src/telemetry/record.js';
import { DEFERRAL_DELAY_MS, DEFERRAL_GROUP, SpanDeferral } from '../../../src/telemetry/tracing/span-deferral.js';
import { traceInjector } from '../../../src/telemetry/tracing/trace-injector.js';
import { answeredOk, dispatched, encodingTracer, type EncodingTracer } from '../../helpers/traced-request.js';

/** Global, proxy, stage and client span per request. */
const SPANS_PER_REQUEST = 4;

function setUp(): EncodingTracer {
  const { config } = loadConfigValue(
    {
      version: 3,
      port: 8080,
      extra_config: {
        'telemetry/opentelemetry': {
          service_name: 'deferral',
          trace_sample_rate: 1,
          exporters: { otlp: [{ name: 'c', host: '127.0.0.1', port: 4317 }] },
          layers: { backend: { traces: { round_trip: true } } },
        },
      },
      endpoints: [{ endpoint: '/d', backend: [{ host: ['http://127.0.0.1:8081'], url_pattern: '/p' }] }],
    },
    'inline',
  );
  const injector = traceInjector(config.otel);
  if (injector === undefined) throw new Error('tracing is off');
  return encodingTracer(config, injector.propagation, {
    maxQueue: 100_000,
    maxBatch: 100_000,
    delayMs: 60_000,
    exportTimeoutMs: 1_000,
    maxBatchBytes: 64 << 20,
  });
}

/** A finished request through `/d`, traced by `tracer` (sampled: the rate is 1). */
function finished({ tracer }: EncodingTracer): RequestRecord {
  const { rec, b, t } = dispatched(tracer, '/d', { host: 'gw' });
  b.clientSpanId = 'aaaaaaaaaaaaaaaa';
  answeredOk(rec, b, t, 3);
  return rec;
}

it('encodes queued requests when a group is full, after the delay, or on flush; never requests without spans', async () => {
  const e = setUp();
  const errors: unknown[] = [];
  const d = new SpanDeferral(e.tracer, (err) => errors.push(err));
  const G = DEFERRAL_GROUP;
  for (let i = 0; i < G - 1; i++) d.add(finished(e));
  assert.equal(e.batcher.queued, 0, 'fewer than a group: nothing encoded yet');
  d.add(finished(e));
  assert.equal(e.batcher.queued, G * SPANS_PER_REQUEST, 'a full group is encoded at once');

  d.add(finished(e));
  assert.equal(e.batcher.queued, G * SPANS_PER_REQUEST);
  await sleep(DEFERRAL_DELAY_MS + 50);
  assert.equal(e.batcher.queued, (G + 1) * SPANS_PER_REQUEST, 'a lone request is encoded after the delay');

  d.add(finished(e));
  d.flush();
  assert.equal(e.batcher.queued, (G + 2) * SPANS_PER_REQUEST, 'flush encodes what waits');

  // No trace context (tracing skipped it): admitted by nobody, never queued.
  d.add(new RequestRecord('GET', '/d', performance.now()));
  d.flush();
  assert.equal(e.batcher.queued, (G + 2) * SPANS_PER_REQUEST);
  assert.deepEqual(errors, []);
});

it('sets the ids exemplars use when a request ends, before its spans are encoded', () => {
  const e = setUp();
  const d = new SpanDeferral(e.tracer, () => undefined);
  const rec = finished(e);
  d.add(rec);
  assert.match(rec.trace?.proxySpanId ?? '', /^[0-9a-f]{16}$/);
  assert.equal(e.batcher.queued, 0);
});

it('loses no other request when one fails to encode', () => {
  const e = setUp();
  const errors: unknown[] = [];
  const d = new SpanDeferral(e.tracer, (err) => errors.push(err));
  const bad = finished(e);
  d.add(finished(e));
  d.add(bad);
  d.add(finished(e));
  Object.defineProperty(bad.trace?.req, 'headers', {
    get() {
      throw new Error('broken request');
    },
  });
  d.flush();
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]), /broken request/);
  // The failing request's spans written before it threw are discarded with it.
  assert.equal(e.batcher.queued, 2 * SPANS_PER_REQUEST);
});
