/**
 * backend/healthcheck: active probes and passive counting move targets between healthy and
 * unhealthy, unhealthy targets leave the round-robin and come back, a name that does not resolve is
 * dns_error, every target down answers 503 at once; Kong's kong_upstream_target_health follows.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { find, value, parseSamples } from '../helpers/exposition.js';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { deadPort, sendJson, startUpstream } from '../helpers/upstream.js';

async function get(url: string): Promise<{ status: number; body: unknown }> {
  const r = await request(url);
  return { status: r.statusCode, body: await r.body.json().catch(() => undefined) };
}

async function health(gw: RunningGateway): Promise<ReturnType<typeof parseSamples>> {
  const port = gw.gateway.telemetry.kongStatus?.address?.port;
  return parseSamples(await (await request(`http://127.0.0.1:${port}/metrics`)).body.text());
}

async function until(check: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const KONG = { 'telemetry/kong-prometheus': { upstream_health_metrics: true, listen_address: '127.0.0.1:0' } };

describe('backend/healthcheck', () => {
  it('takes a target failing its active probes out of the round-robin and brings it back', async (t) => {
    let bSick = true;
    const a = await startUpstream(t, (_req, res) => sendJson(res, 200, { from: 'a' }));
    const b = await startUpstream(t, (req, res) =>
      req.url === '/health' && bSick ? sendJson(res, 500, {}) : sendJson(res, 200, { from: 'b' }),
    );
    const gw = await startGateway(t, {
      extra_config: KONG,
      endpoints: [
        {
          endpoint: '/rr',
          backend: [
            {
              host: [a.url, b.url],
              url_pattern: '/',
              extra_config: {
                'backend/healthcheck': {
                  upstream: 'pool',
                  active: {
                    http_path: '/health',
                    interval: 0.1,
                    healthy: { successes: 1 },
                    unhealthy: { http_failures: 1 },
                  },
                },
              },
            },
          ],
        },
      ],
    });
    await until(
      async () =>
        value(await health(gw), 'kong_upstream_target_health', {
          target: `127.0.0.1:${b.port}`,
          state: 'unhealthy',
        }) === 1,
    );
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add(((await get(`${gw.url}/rr`)).body as { from: string }).from);
    assert.deepEqual([...seen], ['a'], 'the unhealthy target gets no traffic');
    assert.equal(
      value(await health(gw), 'kong_upstream_target_health', {
        upstream: 'pool',
        target: `127.0.0.1:${a.port}`,
        state: 'healthy',
      }),
      1,
    );
    bSick = false;
    await until(
      async () =>
        value(await health(gw), 'kong_upstream_target_health', { target: `127.0.0.1:${b.port}`, state: 'healthy' }) ===
        1,
    );
    seen.clear();
    for (let i = 0; i < 6; i++) seen.add(((await get(`${gw.url}/rr`)).body as { from: string }).from);
    assert.deepEqual([...seen].sort(), ['a', 'b'], 'back in the rotation');
  });

  it('counts live failures passively, and answers 503 at once when every target is down', async (t) => {
    const dead = `http://127.0.0.1:${await deadPort()}`;
    const a = await startUpstream(t, (_req, res) => sendJson(res, 200, { from: 'a' }));
    const gw = await startGateway(t, {
      extra_config: KONG,
      endpoints: [
        {
          endpoint: '/mixed',
          output_encoding: 'no-op',
          backend: [
            {
              host: [a.url, dead],
              url_pattern: '/',
              extra_config: { 'backend/healthcheck': { passive: { unhealthy: { tcp_failures: 1 } } } },
            },
          ],
        },
        {
          endpoint: '/gone',
          output_encoding: 'no-op',
          backend: [
            {
              host: [dead],
              url_pattern: '/',
              extra_config: { 'backend/healthcheck': { passive: { unhealthy: { tcp_failures: 1 } } } },
            },
          ],
        },
      ],
    });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await get(`${gw.url}/mixed`)).status);
    assert.equal(statuses.filter((s) => s === 502).length, 1, 'one failure, then the dead target is skipped');
    assert.deepEqual(statuses.slice(2), [200, 200, 200, 200]);
    assert.equal((await get(`${gw.url}/gone`)).status, 502);
    const started = Date.now();
    const r = await get(`${gw.url}/gone`);
    assert.equal(r.status, 503);
    assert.deepEqual(r.body, { error: 'every target of the backend is unhealthy', code: 'TG_ERR_NO_HEALTHY_TARGET' });
    assert.ok(Date.now() - started < 200, 'answered without trying the backend');
    const deadPortNo = dead.split(':')[2];
    assert.equal(
      value(await health(gw), 'kong_upstream_target_health', { target: `127.0.0.1:${deadPortNo}`, state: 'unhealthy' }),
      1,
    );
  });

  it('marks a host that does not resolve as dns_error, reports healthchecks_off without checks, and lists only Upstreams', async (t) => {
    const a = await startUpstream(t, (_req, res) => sendJson(res, 200, {}));
    const b = await startUpstream(t, (_req, res) => sendJson(res, 200, {}));
    const gw = await startGateway(t, {
      extra_config: KONG,
      endpoints: [
        {
          endpoint: '/dns',
          backend: [
            {
              host: ['http://no-such-host.invalid:8080'],
              url_pattern: '/',
              extra_config: { 'backend/healthcheck': { active: { interval: 0.2 } } },
            },
          ],
        },
        {
          endpoint: '/unchecked',
          backend: [{ host: [a.url], url_pattern: '/', extra_config: { 'backend/healthcheck': { upstream: 'idle' } } }],
        },
        { endpoint: '/plain', backend: [{ host: [b.url], url_pattern: '/' }] },
      ],
    });
    await until(
      async () =>
        value(await health(gw), 'kong_upstream_target_health', {
          target: 'no-such-host.invalid:8080',
          state: 'dns_error',
        }) === 1,
    );
    assert.equal(
      value(await health(gw), 'kong_upstream_target_health', {
        upstream: 'idle',
        target: `127.0.0.1:${a.port}`,
        state: 'healthchecks_off',
      }),
      1,
    );
    // Kong lists the targets of its Upstream entities only; a host without backend/healthcheck is none.
    assert.equal(find(await health(gw), 'kong_upstream_target_health', { target: `127.0.0.1:${b.port}` }).length, 0);
    assert.equal((await get(`${gw.url}/dns`)).status, 500, 'json endpoint: its only backend failed');
  });
});
