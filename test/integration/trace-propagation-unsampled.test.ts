/**
 * Requests that are not sampled still carry their trace context to the backends (issue 20): a request
 * without a parent gets its own trace and span ids, sent with the sampled flag off; a parent that is
 * not sampled is passed on as it came, with its trace state. Nothing of theirs is exported.
 */
import { strict as assert } from 'node:assert';
import { describe, it, type TestContext } from 'node:test';
import { request } from 'undici';
import { startGateway } from '../helpers/gateway.js';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { sendJson, startUpstream, type Upstream } from '../helpers/upstream.js';

const PARENT = 'aaaaaaaaaaaaaaaa0000000000000001';
const UNSAMPLED_ROOT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-00$/;

async function get(url: string, headers: Record<string, string> = {}): Promise<void> {
  const r = await request(url, { headers });
  await r.body.dump();
  assert.equal(r.statusCode, 200);
}

function otel(rx: OtlpReceiver, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    'telemetry/opentelemetry': {
      service_name: 'unsampled',
      exporters: { otlp: [{ name: 'collector', host: '127.0.0.1', port: rx.grpcPort }] },
      ...extra,
    },
  };
}

async function gateway(t: TestContext, rx: OtlpReceiver, up: Upstream, extra: Record<string, unknown>) {
  return startGateway(t, {
    extra_config: otel(rx, extra),
    endpoints: [
      { endpoint: '/one', backend: [{ host: [up.url], url_pattern: '/one' }] },
      {
        endpoint: '/two',
        backend: [
          { host: [up.url], url_pattern: '/a', group: 'a' },
          { host: [up.url], url_pattern: '/b', group: 'b' },
        ],
      },
    ],
  });
}

describe('trace context of requests that are not sampled', () => {
  it('sends a request without a parent on with its own ids and the sampled flag off, one trace per request', async (t) => {
    const rx = await startOtlpReceiver(t);
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, {}));
    const gw = await gateway(t, rx, up, { trace_sample_rate: 0 });
    await get(`${gw.url}/one`);
    await get(`${gw.url}/one`);
    await get(`${gw.url}/two`);
    const sent = up.seen.map((s) => UNSAMPLED_ROOT.exec(String(s.headers.traceparent)));
    assert.ok(
      sent.every((m) => m !== null),
      up.seen.map((s) => s.headers.traceparent).join(' '),
    );
    const traces = sent.map((m) => m?.[1]);
    assert.notEqual(traces[0], traces[1], 'each request starts its own trace');
    assert.equal(traces[2], traces[3], "the two backends of one request share the request's trace");
    assert.equal(up.seen[0]?.headers.tracestate, undefined);
    await gw.gateway.close(2_000);
    assert.equal(rx.count('traces'), 0, 'nothing of an unsampled request is exported');
  });

  it('passes an unsampled parent on as it came, with its trace state, at any rate but always-sample', async (t) => {
    const rx = await startOtlpReceiver(t);
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, {}));
    const gw = await gateway(t, rx, up, { trace_sample_rate: 0.5 });
    const parent = `00-${PARENT}-00f067aa0ba902b7-00`;
    await get(`${gw.url}/one`, { traceparent: parent });
    await get(`${gw.url}/one`, { traceparent: parent, tracestate: 'vendor=abc' });
    await get(`${gw.url}/two`, { traceparent: parent });
    assert.deepEqual(
      up.seen.map((s) => s.headers.traceparent),
      [parent, parent, parent, parent],
    );
    assert.deepEqual(
      up.seen.map((s) => s.headers.tracestate),
      [undefined, 'vendor=abc', undefined, undefined],
    );
    await gw.gateway.close(2_000);
    assert.equal(rx.count('traces'), 0);
  });

  it('ignores a malformed parent and starts a trace of its own; disable_propagation ignores any parent', async (t) => {
    const rx = await startOtlpReceiver(t);
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, {}));
    const gw = await gateway(t, rx, up, { trace_sample_rate: 0 });
    for (const bad of [
      `00-${PARENT.toUpperCase()}-00f067aa0ba902b7-00`,
      `00-${'0'.repeat(32)}-00f067aa0ba902b7-00`,
      'x',
    ])
      await get(`${gw.url}/one`, { traceparent: bad });
    const off = await gateway(t, rx, up, {
      trace_sample_rate: 0,
      layers: { global: { disable_propagation: true } },
    });
    await get(`${off.url}/one`, { traceparent: `00-${PARENT}-00f067aa0ba902b7-00` });
    for (const s of up.seen) {
      const m = UNSAMPLED_ROOT.exec(String(s.headers.traceparent));
      assert.ok(m !== null, String(s.headers.traceparent));
      assert.notEqual(m[1], PARENT.toLowerCase());
    }
  });

  it('writes the unsampled context with the configured propagators (B3: sampled 0)', async (t) => {
    const rx = await startOtlpReceiver(t);
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, {}));
    const gw = await gateway(t, rx, up, { trace_sample_rate: 0, propagators: ['b3multi'] });
    await get(`${gw.url}/one`);
    const h = up.seen[0]?.headers ?? {};
    assert.match(String(h['x-b3-traceid']), /^[0-9a-f]{32}$/);
    assert.match(String(h['x-b3-spanid']), /^[0-9a-f]{16}$/);
    assert.equal(h['x-b3-sampled'], '0');
    assert.equal(h.traceparent, undefined);
  });
});
