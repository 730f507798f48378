/**
 * Kong's Prometheus plugin families (https://developer.konghq.com/plugins/prometheus/, docs/kong.md)
 * on the Kong status listener: names, HELP texts,
 * label order, buckets, latencies, both namings, listener protection, promtool, and the PromQL of
 * Kong's Grafana dashboard 7424 (https://grafana.com/grafana/dashboards/7424-kong-official/) on a real
 * Prometheus.
 */
import { strict as assert } from 'node:assert';
import { describe, it, type TestContext } from 'node:test';
import { request } from 'undici';
import { find, parseSamples, value } from '../helpers/exposition.js';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { promtoolCheckMetrics, skipUnlessJudge } from '../helpers/judges.js';
import { startPrometheus } from '../helpers/prometheus.js';
import { sendJson, startUpstream, type Upstream } from '../helpers/upstream.js';

const ALL_ON = {
  status_code_metrics: true,
  latency_metrics: true,
  bandwidth_metrics: true,
  upstream_health_metrics: true,
  listen_address: '127.0.0.1:0',
};

async function upstream(t: TestContext): Promise<Upstream> {
  return startUpstream(t, (req, res) => {
    if (req.url === '/slow') setTimeout(() => sendJson(res, 200, { slow: true }), 60);
    else sendJson(res, 200, { ok: true });
  });
}

async function scrape(
  gw: RunningGateway,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; contentType: string }> {
  const port = gw.gateway.telemetry.kongStatus?.address?.port;
  const r = await request(`http://127.0.0.1:${port}/metrics`, { headers });
  return { status: r.statusCode, text: await r.body.text(), contentType: String(r.headers['content-type']) };
}

async function get(url: string, n = 1): Promise<void> {
  for (let i = 0; i < n; i++) await (await request(url)).body.dump();
}

describe('telemetry/kong-prometheus', () => {
  it('emits the 3.x families with Kong names, HELP texts, label order and buckets', async (t) => {
    const up = await upstream(t);
    const gw = await startGateway(t, {
      extra_config: { 'telemetry/kong-prometheus': ALL_ON },
      endpoints: [
        {
          endpoint: '/users/{id}',
          extra_config: { 'telemetry/kong-prometheus': { route: 'users', service: 'users-svc' } },
          backend: [{ host: [up.url], url_pattern: '/slow' }],
        },
        { endpoint: '/plain', backend: [{ host: [up.url], url_pattern: '/ok' }] },
      ],
    });
    await get(`${gw.url}/users/1`, 3);
    await get(`${gw.url}/plain`);
    await get(`${gw.url}/no/route`, 2);
    const { text, contentType, status } = await scrape(gw);
    assert.equal(status, 200);
    assert.equal(contentType, 'text/plain; charset=UTF-8');
    assert.ok(!text.includes('# EOF'));
    assert.match(text, /^# HELP kong_http_requests_total HTTP status codes per consumer\/service\/route in Kong$/m);
    assert.match(
      text,
      /^kong_http_requests_total\{service="users-svc",route="users",code="200",source="service",workspace="default",consumer=""\} 3$/m,
    );
    assert.match(
      text,
      /^kong_http_requests_total\{service="127\.0\.0\.1",route="\/plain",code="200",source="service",workspace="default",consumer=""\} 1$/m,
    );
    assert.ok(!text.includes('/no/route'), 'unmatched requests are never counted');
    const samples = parseSamples(text);
    const buckets = find(samples, 'kong_kong_latency_ms_bucket', { route: 'users' }).map((s) => s.labels.le);
    assert.deepEqual(buckets, [
      '1',
      '2',
      '5',
      '7',
      '10',
      '15',
      '20',
      '30',
      '50',
      '75',
      '100',
      '200',
      '500',
      '750',
      '1000',
      '3000',
      '6000',
      '+Inf',
    ]);
    assert.deepEqual(
      find(samples, 'kong_upstream_latency_ms_bucket', { route: 'users' })
        .map((s) => s.labels.le)
        .slice(0, 3),
      ['25', '50', '80'],
    );
    assert.ok(
      value(samples, 'kong_upstream_latency_ms_sum', { route: 'users' }) >= 3 * 55,
      'upstream latency includes the 60 ms backend delay',
    );
    assert.ok(
      value(samples, 'kong_request_latency_ms_sum', { route: 'users' }) >=
        value(samples, 'kong_upstream_latency_ms_sum', { route: 'users' }),
    );
    assert.equal(value(samples, 'kong_kong_latency_ms_count', { route: 'users' }), 3);
    assert.match(
      text,
      /^kong_bandwidth_bytes\{service="users-svc",route="users",direction="ingress",workspace="default",consumer=""\} \d+$/m,
    );
    assert.ok(
      value(samples, 'kong_bandwidth_bytes', { route: 'users', direction: 'egress' }) > 3 * 100,
      'egress counts headers and body',
    );
    assert.match(text, /^# TYPE kong_bandwidth_bytes counter$/m);
    const nodeId = find(samples, 'kong_node_info')[0]?.labels.node_id ?? '';
    assert.match(nodeId, /^[0-9a-f-]{36}$/);
    assert.ok(
      value(samples, 'kong_nginx_connections_total', { node_id: nodeId, subsystem: 'http', state: 'accepted' }) >= 1,
    );
    assert.equal(value(samples, 'kong_nginx_connections_total', { state: 'total' }), 6);
    assert.equal(value(samples, 'kong_nginx_requests_total', { subsystem: 'http' }), 6);
    assert.equal(value(samples, 'kong_datastore_reachable'), 1);
    assert.equal(value(samples, 'kong_nginx_metric_errors_total'), 0);
    assert.ok(
      value(samples, 'kong_memory_workers_lua_vms_bytes', { pid: String(process.pid), kong_subsystem: 'http' }) > 0,
    );
    // No backend/healthcheck, so no Upstream in Kong terms: Kong lists no target (exporter.lua walks
    // its Upstream entities only).
    assert.equal(find(samples, 'kong_upstream_target_health').length, 0);
    if (!skipUnlessJudge(t, 'promtool')) {
      const check = await promtoolCheckMetrics(text);
      assert.ok(!check.parseError, check.output);
      // promtool's naming lint flags choices Kong made itself (ms units, `_total` on gauges, a counter
      // without `_total`); dashboards and alerts query those exact names, so they stay. Nothing else.
      const kongNaming = new Set([
        'kong_bandwidth_bytes',
        'kong_kong_latency_ms',
        'kong_upstream_latency_ms',
        'kong_request_latency_ms',
        'kong_nginx_connections_total',
        'kong_nginx_requests_total',
      ]);
      assert.deepEqual(
        check.lint.filter((l) => !kongNaming.has(l.metric)),
        [],
        check.output,
      );
    }
  });

  it('keeps Kong defaults (flags off: node gauges only) and serves the 2.x names on request', async (t) => {
    const up = await upstream(t);
    const off = await startGateway(t, {
      extra_config: { 'telemetry/kong-prometheus': { listen_address: '127.0.0.1:0' } },
      endpoints: [{ endpoint: '/a', backend: [{ host: [up.url], url_pattern: '/ok' }] }],
    });
    await get(`${off.url}/a`);
    const quiet = (await scrape(off)).text;
    assert.ok(
      !quiet.includes('kong_http_requests_total') && !quiet.includes('latency_ms') && !quiet.includes('kong_bandwidth'),
    );
    assert.match(quiet, /^kong_nginx_connections_total\{/m);
    const v2 = await startGateway(t, {
      extra_config: { 'telemetry/kong-prometheus': { naming: '2.x', listen_address: '127.0.0.1:0' } },
      endpoints: [
        {
          endpoint: '/a',
          extra_config: { 'telemetry/kong-prometheus': { route: 'r', service: 's' } },
          backend: [{ host: [up.url], url_pattern: '/ok' }],
        },
      ],
    });
    await get(`${v2.url}/a`, 2);
    const text = (await scrape(v2)).text;
    assert.match(text, /^kong_http_status\{service="s",route="r",code="200"\} 2$/m);
    assert.match(text, /^kong_latency_bucket\{service="s",route="r",type="kong",le="1"\} \d+$/m);
    assert.match(text, /^kong_latency_count\{service="s",route="r",type="upstream"\} 2$/m);
    assert.match(text, /^kong_bandwidth\{service="s",route="r",type="egress"\} \d+$/m);
    assert.match(text, /^kong_nginx_http_current_connections\{state="accepted"\} \d+$/m);
    assert.ok(!text.includes('kong_node_info'));
  });

  it('identifies consumers with auth/api-keys: 401 without a key, 403 without the role, consumer labels with per_consumer', async (t) => {
    const up = await upstream(t);
    const gw = await startGateway(t, {
      extra_config: {
        'auth/api-keys': {
          keys: [
            { key: 'gold-key-1', consumer: 'acme', roles: ['gold'] },
            { key: 'silver-key-2', consumer: 'globex', roles: ['silver'] },
          ],
        },
        'telemetry/kong-prometheus': { ...ALL_ON, per_consumer: true },
      },
      endpoints: [
        {
          endpoint: '/gold',
          extra_config: { 'auth/api-keys': { roles: ['gold'] } },
          backend: [{ host: [up.url], url_pattern: '/ok' }],
        },
        { endpoint: '/open', backend: [{ host: [up.url], url_pattern: '/ok' }] },
      ],
    });
    const call = async (path: string, key?: string): Promise<number> => {
      const r = await request(`${gw.url}${path}`, {
        headers: key === undefined ? {} : { authorization: `Bearer ${key}` },
      });
      await r.body.dump();
      return r.statusCode;
    };
    assert.equal(await call('/gold'), 401);
    assert.equal(await call('/gold', 'random-guess-123'), 401);
    assert.equal(await call('/gold', 'silver-key-2'), 403);
    assert.equal(await call('/gold', 'gold-key-1'), 200);
    assert.equal(await call('/gold', 'gold-key-1'), 200);
    assert.equal(await call('/open'), 200);
    const { text } = await scrape(gw);
    assert.match(
      text,
      /^kong_http_requests_total\{service="127\.0\.0\.1",route="\/gold",code="200",source="service",workspace="default",consumer="acme"\} 2$/m,
    );
    assert.match(
      text,
      /^kong_http_requests_total\{service="127\.0\.0\.1",route="\/gold",code="401",source="kong",workspace="default",consumer=""\} 2$/m,
    );
    assert.match(
      text,
      /^kong_http_requests_total\{service="127\.0\.0\.1",route="\/gold",code="403",source="kong",workspace="default",consumer=""\} 1$/m,
    );
    assert.match(
      text,
      /^kong_bandwidth_bytes\{service="127\.0\.0\.1",route="\/gold",direction="egress",workspace="default",consumer="acme"\} \d+$/m,
    );
    assert.ok(!text.includes('random-guess') && !text.includes('gold-key-1'), 'keys never become labels');
    assert.ok(!JSON.stringify(gw.logs).includes('gold-key-1'), 'keys never reach the logs');
  });

  it('protects the status listener with allow (CIDR) and a bearer token', async (t) => {
    const up = await upstream(t);
    const guarded = await startGateway(t, {
      extra_config: { 'telemetry/kong-prometheus': { listen_address: '127.0.0.1:0', token: 's3cret-token' } },
      endpoints: [{ endpoint: '/a', backend: [{ host: [up.url], url_pattern: '/ok' }] }],
    });
    assert.equal((await scrape(guarded)).status, 401);
    assert.equal((await scrape(guarded, { authorization: 'Bearer nope' })).status, 401);
    assert.equal((await scrape(guarded, { authorization: 'Bearer s3cret-token' })).status, 200);
    const denied = await startGateway(t, {
      extra_config: { 'telemetry/kong-prometheus': { listen_address: '127.0.0.1:0', allow: ['10.0.0.0/8'] } },
      endpoints: [{ endpoint: '/a', backend: [{ host: [up.url], url_pattern: '/ok' }] }],
    });
    assert.equal((await scrape(denied)).status, 403);
    const allowed = await startGateway(t, {
      extra_config: { 'telemetry/kong-prometheus': { listen_address: '127.0.0.1:0', allow: ['127.0.0.0/8', '::1'] } },
      endpoints: [{ endpoint: '/a', backend: [{ host: [up.url], url_pattern: '/ok' }] }],
    });
    assert.equal((await scrape(allowed)).status, 200);
  });

  it("answers the PromQL of Kong's dashboard 7424 from a real Prometheus, with consumers and a target going down and back", async (t) => {
    if (skipUnlessJudge(t, 'prometheus')) return;
    const up = await upstream(t);
    let bDown = false;
    const b = await startUpstream(t, (req, res) =>
      bDown && req.url === '/health' ? sendJson(res, 503, {}) : sendJson(res, 200, { ok: true }),
    );
    const gw = await startGateway(t, {
      extra_config: {
        'auth/api-keys': { keys: [{ key: 'acme-key-1', consumer: 'acme' }] },
        'telemetry/kong-prometheus': { ...ALL_ON, per_consumer: true },
      },
      endpoints: [
        {
          endpoint: '/a',
          backend: [
            {
              host: [up.url, b.url],
              url_pattern: '/ok',
              extra_config: {
                'backend/healthcheck': {
                  upstream: 'pool',
                  active: {
                    http_path: '/health',
                    interval: 0.2,
                    healthy: { successes: 1 },
                    unhealthy: { http_failures: 1 },
                  },
                },
              },
            },
          ],
        },
        {
          endpoint: '/keyed',
          extra_config: { 'auth/api-keys': {} },
          backend: [{ host: [up.url], url_pattern: '/ok' }],
        },
      ],
    });
    const port = gw.gateway.telemetry.kongStatus?.address?.port;
    const prom = await startPrometheus(t, {
      scrapeIntervalMs: 500,
      targets: [{ job: 'kong', target: `127.0.0.1:${port}` }],
    });
    const traffic = async (): Promise<void> => {
      await get(`${gw.url}/a`, 3);
      await (await request(`${gw.url}/keyed`, { headers: { authorization: 'Bearer acme-key-1' } })).body.dump();
      await get(`${gw.url}/keyed`);
    };
    await traffic();
    await prom.waitForScrapes('kong', 1);
    bDown = true;
    const until = Date.now() + 2_000;
    while (Date.now() < until) await traffic();
    await prom.waitForScrapes('kong', 2);
    const health = async (state: string): Promise<number> =>
      Number(
        (
          await prom.query(`kong_upstream_target_health{upstream="pool",target="127.0.0.1:${b.port}",state="${state}"}`)
        )[0]?.value ?? -1,
      );
    assert.equal(await health('unhealthy'), 1, 'Prometheus sees the target go down');
    bDown = false;
    const back = Date.now() + 5_000;
    while ((await health('healthy')) !== 1) {
      if (Date.now() > back) assert.fail('the target did not come back healthy');
      await new Promise((r) => setTimeout(r, 200));
    }
    const buckets = (await prom.query('count by (le) (kong_kong_latency_ms_bucket)')).map((s) => s.metric.le ?? '');
    const bound = (le: string): number => (le === '+Inf' ? Infinity : Number(le));
    buckets.sort((x, y) => bound(x) - bound(y));
    assert.deepEqual(
      buckets,
      [
        '1',
        '2',
        '5',
        '7',
        '10',
        '15',
        '20',
        '30',
        '50',
        '75',
        '100',
        '200',
        '500',
        '750',
        '1000',
        '3000',
        '6000',
        '+Inf',
      ],
      "Kong's bucket bounds",
    );
    assert.equal(
      (await prom.query('sum(kong_http_requests_total{consumer="acme"})')).length,
      1,
      'consumer label reaches Prometheus',
    );
    assert.equal((await prom.query('sum(kong_http_requests_total{code="401",source="kong"})')).length, 1);
    const sel = 'service=~".*", route=~".*", instance=~".*"';
    const queries = [
      'sum(rate(kong_http_requests_total{instance=~".*"}[1m]))',
      `sum(rate(kong_http_requests_total{${sel}}[1m])) by (service)`,
      `sum(rate(kong_http_requests_total{${sel}}[1m])) by (route)`,
      `sum(rate(kong_http_requests_total{${sel}}[1m])) by (service,code)`,
      `sum(rate(kong_http_requests_total{${sel}}[1m])) by (route,code)`,
      'histogram_quantile(0.90, sum(rate(kong_kong_latency_ms_bucket{instance=~".*"}[1m])) by (le))',
      `histogram_quantile(0.95, sum(rate(kong_kong_latency_ms_bucket{${sel}}[1m])) by (service,le))`,
      `histogram_quantile(0.99, sum(rate(kong_kong_latency_ms_bucket{${sel}}[1m])) by (route,le))`,
      'histogram_quantile(0.90, sum(rate(kong_request_latency_ms_bucket{}[1m])) by (le))',
      `histogram_quantile(0.90, sum(rate(kong_request_latency_ms_bucket{${sel}}[1m])) by (service,le))`,
      'histogram_quantile(0.90, sum(rate(kong_upstream_latency_ms_bucket{}[1m])) by (le))',
      `histogram_quantile(0.90, sum(rate(kong_upstream_latency_ms_bucket{${sel}}[1m])) by (route,le))`,
      'sum(irate(kong_bandwidth_bytes{instance=~".*"}[1m])) by (type)',
      `sum(irate(kong_bandwidth_bytes{direction="egress", ${sel}}[1m])) by (service)`,
      'sum(irate(kong_bandwidth_bytes{direction="ingress", service =~".*"}[1m])) by (service)',
      'kong_memory_workers_lua_vms_bytes{instance=~".*"}',
      'sum(kong_upstream_target_health{state="healthy",upstream=~".*"}) by (upstream,target,address) * -1  + sum(kong_upstream_target_health{state=~"(unhealthy|dns_error)",upstream=~".*"}) by (upstream,target,address)',
      'sum(label_replace(label_replace(label_replace(kong_upstream_target_health{upstream=~".*"}, "state_value", "1", "state", "healthy"), "state_value", "0", "state", "healthchecks_off"), "state_value", "-1", "state", "(dns_error|unhealthy)")) by (upstream, target, address, state, state_value) > 0',
      'sum(kong_nginx_connections_total{state=~"active|reading|writing|waiting", instance=~".*"}) by (state)',
      'sum(kong_nginx_connections_total{state="total", instance=~".*"})',
      'sum(kong_nginx_connections_total{state="handled", instance=~".*"})',
      'sum(kong_nginx_connections_total{state="accepted", instance=~".*"})',
    ];
    const empty: string[] = [];
    for (const q of queries) if ((await prom.query(q)).length === 0) empty.push(q);
    assert.deepEqual(empty, []);
  });
});
