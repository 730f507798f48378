/**
 * Issue 19, traces (items 8–10): the span values Tollgate exports to a real OTLP receiver, compared
 * with what krakend-otel writes for the same traffic. The expected values are worked out here from
 * what the test sent and the upstreams answered, with the krakend-otel and lura rules they follow:
 * - statuses: the global span OK unless the response write failed (http/server/traces.go:112-118),
 *   proxy and stage spans unset with `http.response.status_code` from lura's response or 500 on error
 *   (lura/proxy_tracer.go:66-85), client spans OK once the head arrived (http/client/transport_traces.go);
 * - sampling: state/state.go:118-122 and OTel Go's TraceIDRatioBased (sdk/trace/sampling.go:71-117);
 * - attributes: http/attributes.go (RemoteAddr, ContentLength, Host, User-Agent), Float64 durations.
 */
import { strict as assert } from 'node:assert';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import {
  idToHex,
  startOtlpReceiver,
  type FlatSpan,
  type OtlpAnyValueObject,
  type OtlpReceiver,
} from '../helpers/otlp-receiver.js';
import { deadPort, sendJson, startUpstream, type Upstream } from '../helpers/upstream.js';

interface Sent {
  readonly status: number;
  readonly body: string;
  /** The client side's port of the connection: KrakenD's `client.address` is `ip:port`. */
  readonly localPort: number;
}

/** One request on its own connection, so its local port is known. */
function send(
  url: string,
  opts: { method?: string; headers?: IncomingHttpHeaders; body?: string; chunked?: boolean } = {},
): Promise<Sent> {
  return new Promise((resolve, reject) => {
    let localPort = 0;
    const req = httpRequest(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), localPort }));
    });
    req.on('socket', (s) => s.once('connect', () => (localPort = s.localPort ?? 0)));
    req.on('error', reject);
    if (opts.chunked === true) {
      req.setHeader('transfer-encoding', 'chunked');
      req.write(opts.body ?? '');
      req.end();
    } else req.end(opts.body);
  });
}

function otel(rx: OtlpReceiver, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'telemetry/opentelemetry': {
      service_name: 'values',
      exporters: { otlp: [{ name: 'collector', host: '127.0.0.1', port: rx.grpcPort }] },
      ...extra,
    },
  };
}

/** The spans of one trace, found by the route of its global span. */
interface Tree {
  readonly global: FlatSpan;
  readonly proxy: FlatSpan | undefined;
  readonly stages: FlatSpan[];
  readonly clients: FlatSpan[];
  readonly reads: FlatSpan[];
}

function tree(spans: readonly FlatSpan[], route: string): Tree {
  const global = spans.find((s) => s.kind === 'SPAN_KIND_SERVER' && s.attributes['http.route'] === route);
  assert.ok(global !== undefined, `no global span for ${route}`);
  const mine = spans.filter((s) => s.traceId === global.traceId);
  const stage = (name: string): FlatSpan[] => mine.filter((s) => s.attributes['krakend.stage'] === name);
  return {
    global,
    proxy: stage('proxy')[0],
    stages: stage('backend'),
    clients: mine.filter((s) => s.kind === 'SPAN_KIND_CLIENT'),
    reads: mine.filter((s) => s.name === 'http.client.response.read.tracker'),
  };
}

/** The attributes of a span as sent, with their OTLP value kind (int or double), and how often each key appears. */
function typed(rx: OtlpReceiver, spanId: string): { kinds: Record<string, string>; keys: string[] } {
  for (const r of rx.requests) {
    if (r.signal !== 'traces' || r.request === undefined) continue;
    for (const rs of r.request.resourceSpans)
      for (const ss of rs.scopeSpans)
        for (const s of ss.spans) {
          if (idToHex(s.spanId) !== spanId) continue;
          const kinds: Record<string, string> = {};
          const kind = (v: OtlpAnyValueObject | null): string =>
            v?.intValue !== undefined ? 'int' : v?.doubleValue !== undefined ? 'double' : 'other';
          for (const kv of s.attributes) kinds[kv.key] = kind(kv.value);
          return { kinds, keys: s.attributes.map((kv) => kv.key) };
        }
  }
  throw new Error(`span ${spanId} not received`);
}

async function finish(gw: RunningGateway, rx: OtlpReceiver, servers: number): Promise<FlatSpan[]> {
  await gw.gateway.close(3_000);
  await rx.waitFor(() => rx.spans().filter((s) => s.kind === 'SPAN_KIND_SERVER').length >= servers, 5_000);
  return rx.spans();
}

function statusUpstream(t: TestContext): Promise<Upstream> {
  return startUpstream(t, (req, res) => {
    const code = /^\/s(\d{3})/.exec(req.url ?? '')?.[1];
    if (code === '204') {
      res.writeHead(204);
      res.end();
    } else if (req.url === '/chunked') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('part one, ');
      res.end('part two');
    } else if (code !== undefined) sendJson(res, Number(code), { code: Number(code) });
    else sendJson(res, 200, { path: req.url });
  });
}

describe('span values as krakend-otel writes them', () => {
  it('statuses: global OK unless the write failed, proxy and stage unset with the status lura leaves', async (t) => {
    const rx = await startOtlpReceiver(t);
    const up = await statusUpstream(t);
    const noop = { output_encoding: 'no-op' };
    const be = (url: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
      host: [up.url],
      url_pattern: url,
      ...extra,
    });
    const gw = await startGateway(t, {
      extra_config: otel(rx),
      endpoints: [
        { endpoint: '/ok', backend: [be('/s200')] },
        { endpoint: '/fail', backend: [be('/s503')] },
        { endpoint: '/merge', backend: [be('/s200', { group: 'a' }), be('/s201', { group: 'b' })] },
        { endpoint: '/partial', backend: [be('/s200', { group: 'a' }), be('/s503', { group: 'b' })] },
        { endpoint: '/noop', ...noop, backend: [be('/s404', { encoding: 'no-op' })] },
        {
          endpoint: '/details',
          backend: [be('/s404', { extra_config: { 'backend/http': { return_error_details: 'b' } } })],
        },
        {
          endpoint: '/code',
          backend: [be('/s418', { extra_config: { 'backend/http': { return_error_code: true } } })],
        },
      ],
    });
    const answers: Record<string, number> = {};
    for (const p of ['/ok', '/fail', '/merge', '/partial', '/noop', '/details', '/code'])
      answers[p] = (await send(`${gw.url}${p}`)).status;
    assert.deepEqual(answers, {
      '/ok': 200,
      '/fail': 500,
      '/merge': 200,
      '/partial': 200,
      '/noop': 404,
      '/details': 200,
      '/code': 418,
    });
    const spans = await finish(gw, rx, 7);

    for (const [route, status] of Object.entries(answers)) {
      const { global } = tree(spans, route);
      // krakend-otel sets OK on the global span whatever the status: only a failed write is an error.
      assert.equal(global.status.code, 'STATUS_CODE_OK', route);
      assert.equal(global.attributes['http.response.status_code'], status, route);
    }
    /** [proxy status, proxy error?, proxy complete, stage statuses, stage errors] per route, from lura's rules. */
    const expected: Record<string, [number, boolean, boolean, number[], boolean[]]> = {
      // A decoded response carries no status (lura proxy/http_response.go:55), nor does a merged one.
      '/ok': [0, false, true, [0], [false]],
      // The default status handler fails on 503: an error, 500.
      '/fail': [500, true, false, [500], [true]],
      '/merge': [0, false, true, [0, 0], [false, false]],
      '/partial': [500, true, false, [0, 500], [false, true]],
      // no-op copies the status into the response metadata.
      '/noop': [404, false, true, [404], [false]],
      // return_error_details turns the failure into a response with the backend's status.
      '/details': [404, false, false, [404], [false]],
      // return_error_code stays an error for the stage.
      '/code': [500, true, false, [500], [true]],
    };
    for (const [route, [pStatus, pError, pComplete, sStatus, sError]] of Object.entries(expected)) {
      const tr = tree(spans, route);
      assert.ok(tr.proxy !== undefined, route);
      assert.equal(tr.proxy.status.code, 'STATUS_CODE_UNSET', `${route} proxy`);
      assert.equal(tr.proxy.attributes['http.response.status_code'], pStatus, `${route} proxy status`);
      assert.equal(typeof tr.proxy.attributes.error === 'string', pError, `${route} proxy error`);
      assert.equal(tr.proxy.attributes.complete, pComplete, `${route} proxy complete`);
      const stages = [...tr.stages].sort((a, b) => a.name.localeCompare(b.name));
      assert.deepEqual(
        stages.map((s) => s.attributes['http.response.status_code']),
        sStatus,
        `${route} stage statuses`,
      );
      assert.deepEqual(
        stages.map((s) => typeof s.attributes.error === 'string'),
        sError,
        `${route} stage errors`,
      );
      for (const s of stages) assert.equal(s.status.code, 'STATUS_CODE_UNSET', `${route} stage`);
      // Go's RoundTrip succeeded on every one of these: the client spans are OK, with the backend's status.
      for (const c of tr.clients) assert.equal(c.status.code, 'STATUS_CODE_OK', `${route} client`);
    }
    // The merged error joins every failed stage's, as lura's mergeError.
    assert.equal(
      tree(spans, '/partial').proxy?.attributes.error,
      tree(spans, '/partial').stages.find((s) => s.name === '/s503')?.attributes.error,
    );
    // lura reads a body only when it keeps it: not for a 503 under the default handler.
    assert.equal(tree(spans, '/fail').reads.length, 0, 'no read span for an unread body');
    assert.equal(tree(spans, '/details').reads.length, 1, 'return_error_details reads the body');
    assert.equal(tree(spans, '/code').reads.length, 1, 'return_error_code reads the body');
    assert.equal(tree(spans, '/noop').reads.length, 1, 'no-op copies the body');
  });

  it('marks the global span as failed when the client connection breaks while the response is written', async (t) => {
    const rx = await startOtlpReceiver(t);
    const up = await startUpstream(t, (_req, res) => {
      // Head and a first chunk, then the body stays open: the client leaves in between.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('x'.repeat(1000));
    });
    const gw = await startGateway(t, {
      extra_config: otel(rx),
      endpoints: [
        {
          endpoint: '/stream',
          output_encoding: 'no-op',
          timeout: '3s',
          backend: [{ host: [up.url], url_pattern: '/s', encoding: 'no-op' }],
        },
      ],
    });
    await new Promise<void>((resolve, reject) => {
      const s = connect(gw.port, '127.0.0.1', () => s.write('GET /stream HTTP/1.1\r\nHost: gw\r\n\r\n'));
      s.once('data', () => {
        s.destroy();
        resolve();
      });
      s.on('error', reject);
    });
    const spans = await finish(gw, rx, 1);
    const { global } = tree(spans, '/stream');
    assert.equal(global.status.code, 'STATUS_CODE_ERROR');
    assert.ok(global.status.message !== '');
    assert.ok(
      global.events.some((e) => e.name === 'exception'),
      'RecordError adds an exception event',
    );
  });

  it('attributes: client.address, body sizes, server.address, user agents, doubles, client span end', async (t) => {
    const rx = await startOtlpReceiver(t);
    const up = await statusUpstream(t);
    const slow = await startUpstream(t, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      setTimeout(() => res.end('{"late":true}'), 300);
    });
    const dead = await deadPort();
    const gw = await startGateway(t, {
      extra_config: otel(rx),
      endpoints: [
        { endpoint: '/get', backend: [{ host: [up.url], url_pattern: '/s200' }] },
        {
          endpoint: '/post',
          method: 'POST',
          // Forwarded, lura sets the backend request's ContentLength from it (proxy/http.go:99-105).
          input_headers: ['Content-Length', 'Content-Type'],
          backend: [{ host: [up.url], url_pattern: '/s200' }],
        },
        { endpoint: '/slow', backend: [{ host: [slow.url], url_pattern: '/slow' }] },
        { endpoint: '/dead', backend: [{ host: [`http://127.0.0.1:${dead}`], url_pattern: '/x' }] },
        {
          endpoint: '/chunked',
          output_encoding: 'no-op',
          backend: [{ host: [up.url], url_pattern: '/chunked', encoding: 'no-op' }],
        },
        {
          endpoint: '/empty',
          output_encoding: 'no-op',
          backend: [{ host: [up.url], url_pattern: '/s204', encoding: 'no-op' }],
        },
      ],
    });
    const get = await send(`${gw.url}/get?q=1`, { headers: { 'user-agent': 'values-test/1.0' } });
    const post = await send(`${gw.url}/post`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    const chunkedPost = await send(`${gw.url}/post`, { method: 'POST', body: '{"b":2}', chunked: true });
    await send(`${gw.url}/slow`);
    await send(`${gw.url}/dead`);
    await send(`${gw.url}/chunked`);
    await send(`${gw.url}/empty`);
    assert.equal(get.status, 200);
    assert.equal(post.status, 200);
    assert.equal(chunkedPost.status, 200);
    const spans = await finish(gw, rx, 7);
    const byTrace = (route: string, port: number): Tree => {
      const tr = spans
        .filter((s) => s.kind === 'SPAN_KIND_SERVER' && s.attributes['http.route'] === route)
        .find((s) => s.attributes['client.address'] === `127.0.0.1:${port}`);
      assert.ok(tr !== undefined, `no ${route} span from port ${port}`);
      return tree(
        spans.filter((s) => s.traceId === tr.traceId),
        route,
      );
    };

    // Global span (http/attributes.go TraceIncomingRequestAttrs).
    const g = byTrace('/get', get.localPort);
    assert.equal(g.global.attributes['client.address'], `127.0.0.1:${get.localPort}`, 'RemoteAddr is ip:port');
    assert.equal(g.global.attributes['http.request.body.size'], 0, 'a body-less request has ContentLength 0');
    assert.equal(g.global.attributes['server.address'], `127.0.0.1:${gw.port}`);
    assert.equal(g.global.attributes['user_agent.original'], 'values-test/1.0');
    assert.equal(g.global.attributes['url.full'], '/get?q=1');
    assert.equal(g.global.attributes['url.scheme'], 'http', "Tollgate's addition (docs/tracing.md)");
    assert.equal(g.global.attributes['http.response.body.size'], Buffer.byteLength(get.body));
    const p = byTrace('/post', post.localPort);
    assert.equal(p.global.attributes['http.request.body.size'], 7);
    const cp = byTrace('/post', chunkedPost.localPort);
    assert.equal(cp.global.attributes['http.request.body.size'], undefined, 'chunked: ContentLength -1, not written');

    // Client span (transport_traces.go, attributes.go TraceRequestAttrs / TraceResponseAttrs).
    const c = g.clients[0];
    assert.ok(c !== undefined);
    assert.equal(c.attributes['server.address'], `127.0.0.1:${up.port}`, 'Request.Host: host:port as written');
    // No input_query_strings: the query stays at the gateway, as in lura.
    assert.equal(c.attributes['url.full'], `${up.url}/s200`);
    const seen = up.seen.find((s) => s.url === '/s200');
    assert.equal(
      c.attributes['user_agent.original'],
      seen?.headers['user-agent'],
      'the User-Agent sent to the backend',
    );
    assert.equal(c.attributes['http.request.body.size'], 0);
    assert.equal(c.attributes['http.response.status_code'], 200);
    assert.equal(c.attributes['http.response.body.size'], Buffer.byteLength(JSON.stringify({ code: 200 })));
    const kinds = typed(rx, c.spanId).kinds;
    for (const k of ['response-duration', 'get-conn-duration', 'dns-duration', 'tls-duration'])
      assert.equal(kinds[k], 'double', `${k} is a Float64 attribute`);
    assert.equal(kinds['http.response.status_code'], 'int');
    assert.equal(byTrace('/post', post.localPort).clients[0]?.attributes['http.request.body.size'], 7);
    // A merging endpoint reads the body first and sends its length; lura streams it (ContentLength 0):
    // Tollgate reports what it sends (docs/tracing.md, differences).
    assert.equal(cp.clients[0]?.attributes['http.request.body.size'], 7);

    // Response sizes as Go's ContentLength: -1 when unknown (chunked), 0 for a 204.
    const chunked = tree(spans, '/chunked').clients[0];
    assert.equal(chunked?.attributes['http.response.body.size'], -1);
    assert.equal(tree(spans, '/empty').clients[0]?.attributes['http.response.body.size'], 0);

    // A failed round trip: error status and exception, no durations, no response attributes.
    const d = tree(spans, '/dead').clients[0];
    assert.ok(d !== undefined);
    assert.equal(d.status.code, 'STATUS_CODE_ERROR');
    assert.ok(d.events.some((e) => e.name === 'exception'));
    for (const k of [
      'response-duration',
      'get-conn-duration',
      'dns-duration',
      'tls-duration',
      'http.response.status_code',
    ])
      assert.equal(d.attributes[k], undefined, `${k} only on success`);

    // The client span ends with RoundTrip, at the head; the read span covers the body.
    const s = tree(spans, '/slow');
    const client = s.clients[0];
    const read = s.reads[0];
    assert.ok(client !== undefined && read !== undefined);
    assert.ok(client.durationMs < 250, `client span ${client.durationMs} ms ends at the head, not the body`);
    assert.ok(read.durationMs >= 250, `read span ${read.durationMs} ms covers the late body`);
    assert.ok(BigInt(read.startTimeUnixNano) >= BigInt(client.endTimeUnixNano) - 1_000_000n);
    assert.equal(typed(rx, read.spanId).kinds['http.client.response.read.time'], 'double');
    assert.equal(typed(rx, read.spanId).kinds['http.client.response.read.size'], 'int');
  });

  it('static attributes replace built-ins where krakend-otel sets them later, never twice', async (t) => {
    const rx = await startOtlpReceiver(t);
    const up = await statusUpstream(t);
    const gw = await startGateway(t, {
      extra_config: otel(rx, {
        layers: {
          global: {
            traces_static_attributes: [
              { key: 'user_agent.original', value: 'static-ua' },
              { key: 'http.route', value: 'static-route' },
            ],
          },
          proxy: { traces_static_attributes: [{ key: 'krakend.stage', value: 'static-stage' }] },
        },
      }),
      endpoints: [{ endpoint: '/st', backend: [{ host: [up.url], url_pattern: '/s200' }] }],
    });
    await send(`${gw.url}/st`, { headers: { 'user-agent': 'real-ua' } });
    await gw.gateway.close(3_000);
    await rx.waitFor(() => rx.spans().some((s) => s.kind === 'SPAN_KIND_SERVER'), 5_000);
    const spans = rx.spans();
    const global = spans.find((s) => s.kind === 'SPAN_KIND_SERVER');
    assert.ok(global !== undefined);
    // Set after the request attributes (traces.go:58-61), before the route (traces.go:92-95).
    assert.equal(global.attributes['user_agent.original'], 'static-ua');
    assert.equal(global.attributes['http.route'], '/st');
    // krakend.stage goes after the statics on stage spans (proxy_tracer.go:33-35).
    assert.ok(spans.some((s) => s.attributes['krakend.stage'] === 'proxy'));
    for (const s of spans) {
      const { keys } = typed(rx, s.spanId);
      assert.equal(new Set(keys).size, keys.length, `${s.name}: a key appears once`);
    }
  });

  it('samples as KrakenD: Go trace-id ratio without a parent, the parent below 1, always at 1', async (t) => {
    const rx = await startOtlpReceiver(t);
    const up = await statusUpstream(t);
    const half = await startGateway(t, {
      extra_config: otel(rx, { trace_sample_rate: 0.5 }),
      endpoints: [{ endpoint: '/r', backend: [{ host: [up.url], url_pattern: '/s200' }] }],
    });
    const n = 60;
    for (let i = 0; i < n; i++) await send(`${half.url}/r`);
    const parentSampled = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentUnsampled = 'aaaaaaaaaaaaaaaa0000000000000001';
    await send(`${half.url}/r`, {
      headers: { traceparent: `00-${parentSampled}-00f067aa0ba902b7-01`, tracestate: 'v=1' },
    });
    await send(`${half.url}/r`, { headers: { traceparent: `00-${parentUnsampled}-00f067aa0ba902b7-00` } });
    const sampledIds = up.seen
      .slice(0, n)
      .map((s) => /^00-([0-9a-f]{32})-[0-9a-f]{16}-01$/.exec(String(s.headers.traceparent))?.[1])
      .filter((id): id is string => id !== undefined);
    /** OTel Go: bytes 8–16 big-endian >> 1 below uint64(0.5 × 2^63). */
    const goSampled = (id: string): boolean => BigInt(`0x${id.slice(16)}`) >> 1n < 1n << 62n;
    assert.ok(sampledIds.length > 10 && sampledIds.length < 50, `${sampledIds.length} of ${n} sampled at 0.5`);
    for (const id of sampledIds) assert.ok(goSampled(id), `${id} was sampled, Go would not have`);
    const spans = await finish(half, rx, sampledIds.length + 1);
    const roots = new Set(spans.filter((s) => s.kind === 'SPAN_KIND_SERVER').map((s) => s.traceId));
    assert.deepEqual([...roots].sort(), [...sampledIds, parentSampled].sort());
    // A sampled parent is followed whatever the id (this one Go's ratio would drop), an unsampled one too.
    assert.equal(goSampled(parentSampled), false);
    assert.equal(goSampled(parentUnsampled), true);
    assert.ok(!roots.has(parentUnsampled));
    // The parent's trace state is on every span of its trace (OTel Go's samplers pass it on).
    for (const s of spans.filter((x) => x.traceId === parentSampled)) assert.equal(s.traceState, 'v=1', s.name);

    // Rate 1 is AlwaysSample: an unsampled parent is traced (and told so downstream)…
    const rx1 = await startOtlpReceiver(t);
    const always = await startGateway(t, {
      extra_config: otel(rx1, { trace_sample_rate: 1 }),
      endpoints: [{ endpoint: '/r', backend: [{ host: [up.url], url_pattern: '/s201' }] }],
    });
    await send(`${always.url}/r`, { headers: { traceparent: `00-${parentUnsampled}-00f067aa0ba902b7-00` } });
    assert.match(String(up.seen.at(-1)?.headers.traceparent), new RegExp(`^00-${parentUnsampled}-[0-9a-f]{16}-01$`));
    const spans1 = await finish(always, rx1, 1);
    assert.equal(spans1.find((s) => s.kind === 'SPAN_KIND_SERVER')?.parentSpanId, '00f067aa0ba902b7');

    // …unless trace_sampler asks the parent to decide at every rate.
    const rx2 = await startOtlpReceiver(t);
    const pb = await startGateway(t, {
      extra_config: otel(rx2, { trace_sample_rate: 1, trace_sampler: 'parentbased_traceidratio' }),
      endpoints: [{ endpoint: '/r', backend: [{ host: [up.url], url_pattern: '/s201' }] }],
    });
    await send(`${pb.url}/r`, { headers: { traceparent: `00-${parentUnsampled}-00f067aa0ba902b7-00` } });
    await send(`${pb.url}/r`);
    assert.equal(String(up.seen.at(-2)?.headers.traceparent), `00-${parentUnsampled}-00f067aa0ba902b7-00`);
    const spans2 = await finish(pb, rx2, 1);
    assert.ok(!spans2.some((s) => s.traceId === parentUnsampled));
  });
});
