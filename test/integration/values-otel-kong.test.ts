/**
 * Issue 19 items 4, 5 and 14, each checked on the exposition a real gateway serves after real traffic:
 * which label wins when a static attribute names a built-in one (krakend-otel's order per layer),
 * which round-trip families exist with semconv 1.27 and `detailed_connection: false` (none of the
 * no-op instruments), and which targets `kong_upstream_target_health` lists (Kong's Upstreams only).
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { find, parseSamples, value, type Sample } from '../helpers/exposition.js';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { deadPort, sendJson, startUpstream } from '../helpers/upstream.js';

async function scrape(port: number | undefined): Promise<{ text: string; samples: Sample[] }> {
  assert.ok(port !== undefined, 'the listener is up');
  const r = await request(`http://127.0.0.1:${port}/metrics`);
  assert.equal(r.statusCode, 200);
  const text = await r.body.text();
  return { text, samples: parseSamples(text) };
}

const otelScrape = (gw: RunningGateway): Promise<{ text: string; samples: Sample[] }> =>
  scrape(gw.gateway.telemetry.exporters[0]?.address?.port);

async function send(url: string, method = 'GET'): Promise<number> {
  const r = await request(url, { method });
  await r.body.dump();
  return r.statusCode;
}

const attrs = (o: Record<string, string>): { key: string; value: string }[] =>
  Object.entries(o).map(([key, v]) => ({ key, value: v }));

describe('issue 19 item 4: static attributes and built-in labels, in krakend-otel order', () => {
  it('never lets a static attribute replace a global built-in, and lets it where krakend-otel puts it last', async (t) => {
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, { ok: true }));
    const gw = await startGateway(t, {
      extra_config: {
        'telemetry/opentelemetry': {
          exporters: { prometheus: [{ name: 'p', port: 0, listen_ip: '127.0.0.1' }] },
          layers: {
            global: {
              metrics_static_attributes: attrs({ 'http.route': '/svc-static', 'url.scheme': 'gopher', team: 'svc' }),
            },
          },
        },
      },
      endpoints: [
        {
          endpoint: '/users/{id}',
          extra_config: {
            'telemetry/opentelemetry': {
              global: {
                metrics_static_attributes: attrs({ 'http.request.method': 'BREW', 'http.route': '/ep', team: 'ep' }),
              },
              proxy: { metrics_static_attributes: attrs({ 'http.route': '/proxy-static' }) },
            },
          },
          backend: [
            {
              host: [up.url],
              url_pattern: '/u/{id}',
              extra_config: {
                'telemetry/opentelemetry': {
                  backend: {
                    metrics: {
                      round_trip: true,
                      read_payload: true,
                      static_attributes: attrs({
                        'http.route': '/backend-static',
                        'http.request.method': 'BREW',
                        'krakend.endpoint.route': '/ep-static',
                        'server.address': 'nowhere',
                        clientname: 'someone',
                      }),
                    },
                  },
                },
              },
            },
          ],
        },
      ],
    });
    assert.equal(await send(`${gw.url}/users/1`), 200);
    assert.equal(await send(`${gw.url}/nowhere`), 404);
    const { samples } = await otelScrape(gw);

    // Global: static attributes first, built-ins after (http/server/metrics.go:79-88): the built-ins stay;
    // the endpoint's static attributes come after the service's, so `team` is the endpoint's.
    const [global] = find(samples, 'http_server_duration_count', { http_response_status_code: '200' });
    assert.deepEqual(
      [global?.labels.http_route, global?.labels.http_request_method, global?.labels.url_scheme, global?.labels.team],
      ['/users/:id', 'GET', 'http', 'ep'],
    );
    const [unmatched] = find(samples, 'http_server_duration_count', { http_response_status_code: '404' });
    assert.deepEqual(
      [unmatched?.labels.http_route, unmatched?.labels.url_scheme, unmatched?.labels.team],
      ['404 Not Found', 'http', 'svc'],
    );

    // Proxy and backend stage: static attributes after the built-ins (lura/proxy.go:118-130, 167-182).
    assert.equal(value(samples, 'krakend_proxy_duration_count', { http_route: '/proxy-static' }), 1);
    const [stage] = find(samples, 'krakend_backend_duration_count');
    assert.deepEqual(
      [stage?.labels.http_route, stage?.labels.http_request_method, stage?.labels.krakend_endpoint_route],
      ['/backend-static', 'BREW', '/ep-static'],
    );

    // Round trip: the static attributes replace route and endpoint route, but clientname, method,
    // server address and port and the status are appended after them (transport_metrics.go:227-253).
    const [rt] = find(samples, 'http_client_duration_count');
    assert.deepEqual(
      [
        rt?.labels.http_route,
        rt?.labels.krakend_endpoint_route,
        rt?.labels.clientname,
        rt?.labels.http_request_method,
        rt?.labels.server_address,
        rt?.labels.http_response_status_code,
      ],
      ['/backend-static', '/ep-static', '/u/:id', 'GET', '127.0.0.1', '200'],
    );

    // Read payload: the backend's fixed set with its static attributes last (transport.go:90-100).
    const [read] = find(samples, 'http_client_response_read_size_total');
    assert.deepEqual([read?.labels.http_route, read?.labels.http_request_method], ['/backend-static', 'BREW']);
  });
});

describe('issue 19 item 5: round-trip instruments that are no-op in krakend-otel emit no series', () => {
  it('semconv 1.27 without detailed_connection has no started/failed/canceled/timedout/no-content-length series', async (t) => {
    const up = await startUpstream(t, (req, res) => {
      // No Content-Length: counted by no-content-length where that instrument is real.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"chunked":true}');
    });
    const dead = `http://127.0.0.1:${await deadPort()}`;
    const backend = (host: string, detailed: boolean): Record<string, unknown> => ({
      host: [host],
      url_pattern: '/x',
      extra_config: {
        'telemetry/opentelemetry': {
          backend: { metrics: { round_trip: true, read_payload: true, detailed_connection: detailed } },
        },
      },
    });
    const config = (semconv: string): Record<string, unknown> => ({
      extra_config: {
        'telemetry/opentelemetry': {
          exporters: { prometheus: [{ name: 'p', port: 0, listen_ip: '127.0.0.1' }] },
          layers: { global: { semantic_convention: semconv } },
        },
      },
      endpoints: [
        { endpoint: '/plain', backend: [backend(up.url, false)] },
        { endpoint: '/plain-dead', backend: [backend(dead, false)] },
        { endpoint: '/detailed', backend: [backend(up.url, true)] },
      ],
    });
    const counters = [
      'http_client_request_started_count_total',
      'http_client_request_failed_count_total',
      'http_client_request_canceled_count_total',
      'http_client_request_timedout_count_total',
    ];

    const modern = await startGateway(t, config('1.27'));
    assert.equal(await send(`${modern.url}/plain`), 200);
    assert.equal(await send(`${modern.url}/plain-dead`), 500);
    assert.equal(await send(`${modern.url}/detailed`), 200);
    const m = await otelScrape(modern);
    const modernNames = [
      ...counters,
      'http_client_response_no_content_length_bytes_total',
      'http_client_request_get_conn_duration_seconds_count',
      'http_client_request_dns_duration_seconds_count',
      'http_client_request_tls_duration_seconds_count',
    ];
    for (const name of modernNames) {
      for (const route of ['/plain', '/plain-dead'])
        assert.equal(find(m.samples, name, { krakend_endpoint_route: route }).length, 0, `${name} ${route}`);
      assert.equal(find(m.samples, name, { krakend_endpoint_route: '/detailed' }).length, 1, `${name} /detailed`);
    }
    assert.equal(
      value(m.samples, 'http_client_request_duration_seconds_count', { krakend_endpoint_route: '/plain' }),
      1,
    );
    assert.equal(
      value(m.samples, 'http_client_request_duration_seconds_count', {
        krakend_endpoint_route: '/plain-dead',
        http_response_status_code: '0',
      }),
      1,
      'the required duration is recorded for the failed round trip',
    );

    // Legacy names: those counters are real instruments, the connection details only with detailed_connection.
    const legacy = await startGateway(t, config(''));
    assert.equal(await send(`${legacy.url}/plain`), 200);
    assert.equal(await send(`${legacy.url}/plain-dead`), 500);
    const l = await otelScrape(legacy);
    assert.equal(value(l.samples, 'http_client_request_started_count_total', { krakend_endpoint_route: '/plain' }), 1);
    assert.equal(
      value(l.samples, 'http_client_request_failed_count_total', { krakend_endpoint_route: '/plain-dead' }),
      1,
    );
    assert.equal(
      value(l.samples, 'http_client_response_no_content_length_total', { krakend_endpoint_route: '/plain' }),
      1,
    );
    for (const name of ['http_client_request_get_conn_duration_count', 'http_client_request_dns_duration_count'])
      assert.equal(find(l.samples, name, { krakend_endpoint_route: '/plain' }).length, 0, name);
  });
});

describe('issue 19 item 14: kong_upstream_target_health lists the targets of Upstreams only', () => {
  it('has rows for backends with backend/healthcheck (checked or not) and none for plain hosts', async (t) => {
    const checked = await startUpstream(t, (_req, res) => sendJson(res, 200, {}));
    const unchecked = await startUpstream(t, (_req, res) => sendJson(res, 200, {}));
    const plain = await startUpstream(t, (_req, res) => sendJson(res, 200, {}));
    const gw = await startGateway(t, {
      extra_config: {
        'telemetry/kong-prometheus': { upstream_health_metrics: true, listen_address: '127.0.0.1:0' },
      },
      endpoints: [
        {
          endpoint: '/checked',
          backend: [
            {
              host: [checked.url],
              url_pattern: '/',
              extra_config: {
                'backend/healthcheck': { upstream: 'pool', passive: { unhealthy: { http_failures: 3 } } },
              },
            },
          ],
        },
        {
          endpoint: '/unchecked',
          backend: [
            { host: [unchecked.url], url_pattern: '/', extra_config: { 'backend/healthcheck': { upstream: 'idle' } } },
          ],
        },
        { endpoint: '/plain', backend: [{ host: [plain.url], url_pattern: '/' }] },
      ],
    });
    for (const p of ['/checked', '/unchecked', '/plain']) assert.equal(await send(`${gw.url}${p}`), 200);
    const { samples } = await scrape(gw.gateway.telemetry.kongStatus?.address?.port);
    const rows = find(samples, 'kong_upstream_target_health')
      .filter((s) => s.value === 1)
      .map((s) => [s.labels.upstream, s.labels.target, s.labels.state]);
    assert.deepEqual(rows.sort(), [
      ['idle', `127.0.0.1:${unchecked.port}`, 'healthchecks_off'],
      ['pool', `127.0.0.1:${checked.port}`, 'healthy'],
    ]);
    assert.equal(find(samples, 'kong_upstream_target_health', { target: `127.0.0.1:${plain.port}` }).length, 0);
    assert.equal(find(samples, 'kong_upstream_target_health').length, 8, 'one-hot over four states, two targets');
  });
});

describe('issue 19 item 3: read metrics only for bodies lura reads', () => {
  it('records no read for a failed status under the default status handler, and one with return_error_code/details', async (t) => {
    const up = await startUpstream(t, (req, res) => {
      if (req.url === '/ok') sendJson(res, 200, { ok: true });
      else sendJson(res, 404, { missing: true });
    });
    const backend = (path: string, http?: Record<string, unknown>): Record<string, unknown> => ({
      host: [up.url],
      url_pattern: path,
      extra_config: {
        'telemetry/opentelemetry': { backend: { metrics: { round_trip: true, read_payload: true } } },
        ...(http !== undefined ? { 'backend/http': http } : {}),
      },
    });
    const gw = await startGateway(t, {
      extra_config: {
        'telemetry/opentelemetry': { exporters: { prometheus: [{ name: 'p', port: 0, listen_ip: '127.0.0.1' }] } },
      },
      endpoints: [
        { endpoint: '/ok', backend: [backend('/ok')] },
        { endpoint: '/default', backend: [backend('/missing')] },
        { endpoint: '/code', backend: [backend('/missing', { return_error_code: true })] },
        { endpoint: '/details', backend: [backend('/missing', { return_error_details: 'm' })] },
        { endpoint: '/noop', output_encoding: 'no-op', backend: [{ ...backend('/missing'), encoding: 'no-op' }] },
      ],
    });
    assert.equal(await send(`${gw.url}/ok`), 200);
    assert.equal(await send(`${gw.url}/default`), 500);
    assert.equal(await send(`${gw.url}/code`), 404);
    assert.equal(await send(`${gw.url}/details`), 200);
    assert.equal(await send(`${gw.url}/noop`), 404);
    const { samples, text } = await otelScrape(gw);
    const reads = (route: string): number =>
      find(samples, 'http_client_response_read_size_hist_count', { krakend_endpoint_route: route }).reduce(
        (n, s) => n + s.value,
        0,
      );
    assert.ok(text.includes('http_client_response_read_size_hist'), 'read-payload families are exported');
    for (const route of ['/ok', '/code', '/details', '/noop']) assert.equal(reads(route), 1, route);
    assert.equal(reads('/default'), 0, 'lura neither reads nor closes the body of a 404 under the default handler');
    // The round trip itself is recorded either way.
    assert.equal(value(samples, 'http_client_duration_count', { krakend_endpoint_route: '/default' }), 1);
  });
});
