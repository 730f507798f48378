import { strict as assert } from 'node:assert';
import { describe, it, type TestContext } from 'node:test';
import { request } from 'undici';
import { find, parseSamples, typeLines, value, type Sample } from '../helpers/exposition.js';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { deadPort, sendJson, startUpstream, type Upstream } from '../helpers/upstream.js';

const SCOPE = { otel_scope_name: 'io.krakend.krakend-otel', otel_scope_version: '' };

async function scrape(
  gw: RunningGateway,
  accept?: string,
): Promise<{ text: string; samples: Sample[]; contentType: string }> {
  const port = gw.gateway.telemetry.exporters[0]?.address?.port;
  assert.ok(port !== undefined, 'the prometheus exporter listens');
  const r = await request(`http://127.0.0.1:${port}/metrics`, accept === undefined ? {} : { headers: { accept } });
  assert.equal(r.statusCode, 200);
  const text = await r.body.text();
  return {
    text,
    samples: accept?.includes('openmetrics') === true ? [] : parseSamples(text),
    contentType: String(r.headers['content-type']),
  };
}

async function get(url: string, times = 1): Promise<void> {
  for (let i = 0; i < times; i++) {
    const r = await request(url);
    await r.body.dump();
  }
}

function otel(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'telemetry/opentelemetry': {
      service_name: 'tg-test',
      exporters: { prometheus: [{ name: 'local', port: 0, listen_ip: '127.0.0.1' }] },
      ...extra,
    },
  };
}

async function users(t: TestContext): Promise<Upstream> {
  return startUpstream(t, (req, res) => {
    if (req.url?.startsWith('/u/')) sendJson(res, 200, { id: 1, name: 'ada' });
    else if (req.url === '/orders') sendJson(res, 200, { orders: [1, 2] });
    else if (req.url === '/chunked') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"chunked":true}');
    } else sendJson(res, 503, { down: true });
  });
}

describe('telemetry/opentelemetry with the Prometheus exporter', () => {
  it('records every KrakenD layer with krakend-otel names and labels', async (t) => {
    const up = await users(t);
    const gw = await startGateway(t, {
      extra_config: otel(),
      endpoints: [
        {
          endpoint: '/users/{id}',
          backend: [
            { host: [up.url], url_pattern: '/u/{id}' },
            { host: [up.url], url_pattern: '/orders', group: 'o' },
          ],
        },
        { endpoint: '/raw', output_encoding: 'no-op', backend: [{ host: [up.url], url_pattern: '/chunked' }] },
      ],
    });
    await get(`${gw.url}/users/1`, 3);
    await get(`${gw.url}/raw`, 2);
    await get(`${gw.url}/does/not/exist`, 2);
    await get(`${gw.url}/__health`, 5);
    const { samples, text } = await scrape(gw);

    const route = {
      http_route: '/users/:id',
      http_request_method: 'GET',
      url_scheme: 'http',
      http_response_status_code: '200',
      ...SCOPE,
    };
    assert.equal(value(samples, 'http_server_duration_count', route), 3);
    assert.equal(value(samples, 'http_server_duration_bucket', { ...route, le: '+Inf' }), 3);
    assert.equal(value(samples, 'http_server_response_size_count', route), 3);
    assert.ok(value(samples, 'http_server_response_size_sum', route) > 0);
    assert.equal(
      value(samples, 'http_server_duration_count', {
        http_route: '404 Not Found',
        http_response_status_code: '404',
        http_request_method: 'GET',
      }),
      2,
    );
    assert.equal(
      find(samples, 'http_server_duration_count', { http_route: '200 OK' }).length,
      0,
      '/__health is in the default skip_paths',
    );
    assert.ok(!text.includes('/does/not/exist'), 'a raw path never becomes a label');

    assert.equal(
      value(samples, 'krakend_proxy_duration_count', {
        http_route: '/users/:id',
        http_request_method: 'GET',
        error: 'false',
        canceled: 'false',
        complete: 'true',
        ...SCOPE,
      }),
      3,
    );
    const stage = {
      http_route: '/u/:id',
      krakend_endpoint_route: '/users/:id',
      krakend_endpoint_method: 'GET',
      http_request_method: 'GET',
      error: 'false',
      canceled: 'false',
      complete: 'true',
    };
    assert.equal(value(samples, 'krakend_backend_duration_count', stage), 3);
    assert.equal(value(samples, 'krakend_backend_duration_count', { ...stage, http_route: '/orders' }), 3);

    const rt = {
      http_route: '/u/:id',
      clientname: '/u/:id',
      server_address: '127.0.0.1',
      server_port: String(up.port),
      http_response_status_code: '200',
      krakend_endpoint_route: '/users/:id',
    };
    assert.equal(value(samples, 'http_client_duration_count', rt), 3);
    assert.equal(value(samples, 'http_client_request_started_count_total', rt), 3);
    assert.equal(value(samples, 'http_client_response_size_count', rt), 3);
    assert.equal(value(samples, 'http_client_request_size_total', rt), 0);
    assert.equal(value(samples, 'http_client_request_get_conn_duration_count', rt), 3);
    assert.equal(value(samples, 'http_client_request_dns_duration_count', rt), 3);
    assert.equal(value(samples, 'http_client_request_tls_duration_count', rt), 3);
    assert.equal(value(samples, 'http_client_response_no_content_length_total', { http_route: '/chunked' }), 2);
    const read = {
      http_route: '/u/:id',
      krakend_endpoint_route: '/users/:id',
      krakend_endpoint_method: 'GET',
      http_request_method: 'GET',
    };
    assert.equal(value(samples, 'http_client_response_read_size_hist_count', read), 3);
    assert.equal(
      value(samples, 'http_client_response_read_size_total', read),
      3 * JSON.stringify({ id: 1, name: 'ada' }).length,
    );
    assert.equal(value(samples, 'http_client_response_read_time_hist_seconds_count', read), 3);
    assert.ok(value(samples, 'http_client_response_read_time_seconds_total', read) >= 0);

    assert.equal(value(samples, 'target_info', { service_name: 'tg-test' }), 1);
    assert.equal(value(samples, 'otel_scope_info', SCOPE), 1);
    const types = typeLines(text);
    assert.equal(types.get('http_client_request_started_count_total'), 'counter');
    assert.equal(types.get('http_server_duration'), 'histogram');
    for (const s of samples)
      if (s.name !== 'target_info' && !s.name.startsWith('process_') && !s.name.startsWith('nodejs_'))
        assert.equal(s.labels.otel_scope_name, 'io.krakend.krakend-otel', s.name);
  });

  it('flags proxy and backend errors, counts failed and timed-out round trips with status 0', async (t) => {
    const up = await users(t);
    const dead = `http://127.0.0.1:${await deadPort()}`;
    const stall = await startUpstream(t, () => {});
    const gw = await startGateway(t, {
      extra_config: otel(),
      endpoints: [
        {
          endpoint: '/partial',
          backend: [
            { host: [up.url], url_pattern: '/u/1' },
            { host: [up.url], url_pattern: '/bad' },
          ],
        },
        { endpoint: '/dead', backend: [{ host: [dead], url_pattern: '/x' }] },
        { endpoint: '/slow', timeout: '100ms', backend: [{ host: [stall.url], url_pattern: '/s' }] },
      ],
    });
    await get(`${gw.url}/partial`, 2);
    await get(`${gw.url}/dead`);
    await get(`${gw.url}/slow`);
    const { samples } = await scrape(gw);
    assert.equal(
      value(samples, 'krakend_proxy_duration_count', {
        http_route: '/partial',
        error: 'true',
        complete: 'false',
        canceled: 'false',
      }),
      2,
    );
    assert.equal(
      value(samples, 'krakend_backend_duration_count', { http_route: '/bad', error: 'true', complete: 'false' }),
      2,
    );
    assert.equal(
      value(samples, 'http_client_duration_count', { http_route: '/bad', http_response_status_code: '503' }),
      2,
      'a 503 is a completed round trip',
    );
    assert.equal(
      value(samples, 'http_client_request_failed_count_total', { http_route: '/x', http_response_status_code: '0' }),
      1,
    );
    assert.equal(
      value(samples, 'http_client_request_failed_count_total', { http_route: '/s', http_response_status_code: '0' }),
      1,
    );
    assert.equal(
      value(samples, 'http_client_request_timedout_count_total', { http_route: '/s', http_response_status_code: '0' }),
      1,
    );
    assert.equal(
      value(samples, 'http_server_duration_count', { http_route: '/slow', http_response_status_code: '500' }),
      1,
    );
  });

  it('records a client that leaves mid-request as canceled, with a real duration (regression: negative proxy sum)', async (t) => {
    const slow = await startUpstream(t, (_req, res) => {
      setTimeout(() => sendJson(res, 200, {}), 400);
    });
    const gw = await startGateway(t, {
      extra_config: otel(),
      endpoints: [
        { endpoint: '/json', backend: [{ host: [slow.url], url_pattern: '/j' }] },
        { endpoint: '/noop', output_encoding: 'no-op', backend: [{ host: [slow.url], url_pattern: '/n' }] },
      ],
    });
    for (const path of ['/json', '/noop']) {
      const ac = new AbortController();
      const pending = request(`${gw.url}${path}`, { signal: ac.signal }).catch(() => undefined);
      setTimeout(() => ac.abort(), 50);
      await pending;
    }
    await new Promise((r) => setTimeout(r, 100));
    const { samples } = await scrape(gw);
    for (const route of ['/json', '/noop']) {
      const match = { http_route: route, canceled: 'true', error: 'false', complete: 'false' };
      assert.equal(value(samples, 'krakend_proxy_duration_count', match), 1, route);
      const sum = value(samples, 'krakend_proxy_duration_sum', match);
      assert.ok(sum > 0.03 && sum < 0.4, `${route} proxy duration ${sum}`);
    }
    assert.equal(value(samples, 'http_client_request_canceled_count_total', { http_route: '/j' }), 1);
    assert.equal(value(samples, 'http_client_request_canceled_count_total', { http_route: '/n' }), 1);
  });

  it('uses the semconv 1.27 names when asked', async (t) => {
    const up = await users(t);
    const gw = await startGateway(t, {
      extra_config: otel({ layers: { global: { semantic_convention: '1.27' } } }),
      endpoints: [{ endpoint: '/u/{id}', backend: [{ host: [up.url], url_pattern: '/u/{id}' }] }],
    });
    await get(`${gw.url}/u/1`);
    const { samples, text } = await scrape(gw);
    assert.equal(value(samples, 'http_server_request_duration_seconds_count', { http_route: '/u/:id' }), 1);
    assert.equal(value(samples, 'http_server_response_body_size_bytes_count', { http_route: '/u/:id' }), 1);
    assert.equal(value(samples, 'http_client_request_duration_seconds_count', { http_route: '/u/:id' }), 1);
    assert.equal(value(samples, 'http_client_request_body_size_bytes_count', { http_route: '/u/:id' }), 1);
    assert.equal(value(samples, 'http_client_request_get_conn_duration_seconds_count', { http_route: '/u/:id' }), 1);
    assert.equal(find(samples, 'http_server_duration_count').length, 0);
    assert.ok(!text.includes('http_client_request_size_total'));
  });

  it('honours the layer flags with KrakenD defaulting rules, skip_paths and static attributes', async (t) => {
    const up = await users(t);
    const gw = await startGateway(t, {
      extra_config: otel({
        skip_paths: ['/hidden/{id}'],
        layers: {
          global: {
            metrics_static_attributes: [
              { key: 'env', value: 'test' },
              { key: 'empty', value: '' },
            ],
          },
          proxy: { disable_metrics: true },
          backend: { metrics: { disable_stage: false, read_payload: true } },
        },
      }),
      endpoints: [
        {
          endpoint: '/shown',
          extra_config: {
            'telemetry/opentelemetry': {
              global: { metrics_static_attributes: [{ key: 'team', value: 'core' }] },
              proxy: { disable_metrics: false },
            },
          },
          backend: [{ host: [up.url], url_pattern: '/u/1' }],
        },
        {
          endpoint: '/other',
          backend: [
            {
              host: [up.url],
              url_pattern: '/orders',
              extra_config: {
                'telemetry/opentelemetry': { backend: { metrics: { disable_stage: true, round_trip: true } } },
              },
            },
          ],
        },
        { endpoint: '/hidden/{id}', backend: [{ host: [up.url], url_pattern: '/u/{id}' }] },
      ],
    });
    await get(`${gw.url}/shown`);
    await get(`${gw.url}/other`);
    await get(`${gw.url}/hidden/1`);
    const { samples } = await scrape(gw);
    assert.equal(value(samples, 'http_server_duration_count', { http_route: '/shown', env: 'test', team: 'core' }), 1);
    assert.equal(value(samples, 'http_server_duration_count', { http_route: '/other', env: 'test' }), 1);
    assert.equal(find(samples, 'http_server_duration_count', { http_route: '/other', team: 'core' }).length, 0);
    assert.ok(
      find(samples, 'http_server_duration_count').every((s) => s.labels.empty === undefined),
      'attributes with an empty value are dropped',
    );
    assert.equal(
      value(samples, 'krakend_proxy_duration_count', { http_route: '/shown' }),
      1,
      'endpoint proxy override replaces the service setting',
    );
    assert.equal(find(samples, 'krakend_proxy_duration_count', { http_route: '/other' }).length, 0);
    assert.equal(
      value(samples, 'krakend_backend_duration_count', { http_route: '/u/1', krakend_endpoint_route: '/shown' }),
      1,
    );
    assert.equal(
      value(samples, 'http_client_duration_count', { http_route: '/u/1' }),
      1,
      'read_payload alone still records round-trip metrics (KrakenD quirk kept)',
    );
    assert.equal(
      find(samples, 'http_client_request_get_conn_duration_count').length,
      0,
      'detailed_connection omitted in a present object means false',
    );
    assert.equal(value(samples, 'http_client_response_read_size_hist_count', { http_route: '/u/1' }), 1);
    assert.equal(
      find(samples, 'krakend_backend_duration_count', { http_route: '/orders' }).length,
      0,
      'backend override disables the stage',
    );
    assert.equal(value(samples, 'http_client_duration_count', { http_route: '/orders' }), 1);
    assert.equal(find(samples, 'http_client_response_read_size_hist_count', { http_route: '/orders' }).length, 0);
    assert.equal(
      find(samples, 'http_server_duration_count', { http_route: '/hidden/:id' }).length,
      0,
      'skip_paths match the literal endpoint',
    );
  });

  it('serves OpenMetrics when the scraper asks for it, text otherwise, and nothing but /metrics', async (t) => {
    const up = await users(t);
    const gw = await startGateway(t, {
      extra_config: otel(),
      endpoints: [{ endpoint: '/u', backend: [{ host: [up.url], url_pattern: '/u/1' }] }],
    });
    await get(`${gw.url}/u`);
    const text = await scrape(gw);
    assert.equal(text.contentType, 'text/plain; version=0.0.4; charset=utf-8');
    const om = await scrape(gw, 'application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3');
    assert.equal(om.contentType, 'application/openmetrics-text; version=1.0.0; charset=utf-8');
    assert.ok(om.text.endsWith('# EOF\n'));
    assert.match(om.text, /^# TYPE http_client_request_started_count counter$/m);
    const port = gw.gateway.telemetry.exporters[0]?.address?.port;
    const other = await request(`http://127.0.0.1:${port}/other`);
    assert.equal(other.statusCode, 404);
    await other.body.dump();
  });

  it('rejects duplicate exporter names, bad ports, out-of-range rates and unordered buckets with their paths', async () => {
    const { loadConfigValue, ConfigError } = await import('../../src/config/load.js');
    try {
      loadConfigValue(
        {
          version: 3,
          extra_config: {
            'telemetry/opentelemetry': {
              trace_sample_rate: 1.5,
              layers: { global: { metrics_static_attributes: 'env=prod' } },
              histograms: { time_buckets: [1, 0.5] },
              exporters: {
                prometheus: [
                  { name: 'a', port: 70000 },
                  { name: 'a', port: 9091 },
                ],
                otlp: [{ name: 'a', host: 'collector' }],
              },
            },
          },
        },
        'c.json',
      );
      assert.fail('should be rejected');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.issues.map((i) => `${i.path}: ${i.message}`).sort(), [
        'extra_config["telemetry/opentelemetry"].exporters.prometheus[0].port: must be <= 65535',
        'extra_config["telemetry/opentelemetry"].layers.global.metrics_static_attributes: must be a list of {"key", "value"} objects (or an object of strings)',
        'extra_config["telemetry/opentelemetry"].trace_sample_rate: must be <= 1',
      ]);
    }
    try {
      loadConfigValue(
        {
          version: 3,
          extra_config: {
            'telemetry/opentelemetry': {
              histograms: { time_buckets: [1, 0.5] },
              exporters: { prometheus: [{ name: 'a' }, { name: 'a', port: 9091 }], otlp: [{ name: 'a', host: 'c' }] },
            },
          },
        },
        'c.json',
      );
      assert.fail('should be rejected');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(
        err.issues.map((i) => `${i.path}: ${i.message}`),
        [
          'extra_config["telemetry/opentelemetry"].exporters.prometheus[1].name: duplicate exporter name "a" (also at extra_config["telemetry/opentelemetry"].exporters.prometheus[0].name)',
          'extra_config["telemetry/opentelemetry"].exporters.otlp[0].name: duplicate exporter name "a" (also at extra_config["telemetry/opentelemetry"].exporters.prometheus[0].name)',
          'extra_config["telemetry/opentelemetry"].histograms.time_buckets: bucket bounds must be strictly increasing',
        ],
      );
    }
  });
});
