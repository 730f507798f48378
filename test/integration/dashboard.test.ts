/**
 * The live dashboard end to end: its API against known traffic, its token, and the page itself in a
 * real headless Chromium (Debian `chromium` + playwright-core), with a screenshot kept in
 * test/artifacts/ for a human to look at.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { request } from 'undici';
import { freePort } from '../helpers/cli.js';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { deadPort, sendJson, startUpstream } from '../helpers/upstream.js';
import type { DashboardState } from '../../src/telemetry/dashboard/dashboard-model.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const ARTIFACTS = join(import.meta.dirname, '../artifacts');

async function gatewayWithTraffic(
  t: TestContext,
  extra: Record<string, unknown> = {},
): Promise<{ gw: RunningGateway; dashboard: string }> {
  const up = await startUpstream(t, (req, res) => {
    if (req.url === '/slow') setTimeout(() => sendJson(res, 200, { slow: true }), 120);
    else sendJson(res, 200, { ok: true });
  });
  const dashPort = await freePort();
  const gw = await startGateway(t, {
    extra_config: { 'telemetry/dashboard': { listen_address: `127.0.0.1:${dashPort}`, ...extra } },
    endpoints: [
      { endpoint: '/a', backend: [{ host: [up.url], url_pattern: '/a' }] },
      { endpoint: '/slow', backend: [{ host: [up.url], url_pattern: '/slow' }] },
      { endpoint: '/down', backend: [{ host: [`http://127.0.0.1:${await deadPort()}`], url_pattern: '/d' }] },
    ],
  });
  const hit = async (path: string, n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await (await request(`${gw.url}${path}`)).body.dump();
  };
  await hit('/a', 30);
  await hit('/slow', 2);
  await hit('/down', 3);
  await hit('/nowhere', 5);
  // The next tick of the dashboard has every one of them.
  await gw.gateway.telemetry.dashboard?.tick();
  return { gw, dashboard: `http://127.0.0.1:${dashPort}` };
}

describe('telemetry/dashboard', { timeout: 90_000 }, () => {
  it('serves the traffic it saw from the metric store: totals, statuses, routes, backends, slow requests', async (t) => {
    const { dashboard } = await gatewayWithTraffic(t);
    const r = await request(`${dashboard}/api/state`);
    assert.equal(r.statusCode, 200);
    const s = (await r.body.json()) as DashboardState;
    assert.deepEqual(s.totals, { requests: 40, serverErrors: 3, clientErrors: 5 });
    const statuses = Object.fromEntries(s.statuses.map((x) => [x.status, x.requests]));
    assert.deepEqual(statuses, { '200': 32, '404': 5, '500': 3 });
    const route = (p: string) => s.routes.find((x) => x.route === p);
    assert.equal(route('/a')?.requests, 30);
    assert.equal(route('/down')?.errorRatio, 1);
    assert.ok((route('/slow')?.latency?.p50 ?? 0) >= 100, `p50 of /slow: ${route('/slow')?.latency?.p50}`);
    assert.ok((s.latency.gateway?.p99 ?? 0) >= 100);
    assert.ok((s.latency.upstream?.p50 ?? 0) > 0);
    const backend = s.backends.find((b) => b.route === '/down');
    assert.deepEqual([backend?.requests, backend?.errors], [3, 3]);
    assert.equal(s.slow[0]?.route, '/slow');
    assert.ok((s.slow[0]?.durationMs ?? 0) >= 100);
    // Served from loopback with the page's assets bundled (no CDN).
    const page = await (await request(`${dashboard}/`)).body.text();
    assert.match(page, /assets\/uplot\.js/);
    assert.doesNotMatch(page, /https?:\/\//);
    const uplot = await request(`${dashboard}/assets/uplot.js`);
    assert.equal(uplot.statusCode, 200);
    assert.ok((await uplot.body.text()).includes('uPlot'));
  });

  it('streams one state a second over server-sent events', async (t) => {
    const { dashboard } = await gatewayWithTraffic(t);
    const r = await request(`${dashboard}/api/events`);
    assert.equal(r.headers['content-type'], 'text/event-stream; charset=utf-8');
    let text = '';
    const started = Date.now();
    for await (const chunk of r.body) {
      text += String(chunk);
      if ((text.match(/^data: /gm) ?? []).length >= 2) break;
      if (Date.now() - started > 5_000) break;
    }
    r.body.destroy();
    const frames = text.split('\n').filter((l) => l.startsWith('data: '));
    assert.ok(frames.length >= 2, text);
    assert.equal((JSON.parse((frames[0] as string).slice(6)) as DashboardState).totals.requests, 40);
  });

  it('requires its token when one is set: Bearer header, or a cookie from /?token=', async (t) => {
    const token = 'correct-horse-battery';
    const { dashboard } = await gatewayWithTraffic(t, { token });
    assert.equal((await request(`${dashboard}/api/state`)).statusCode, 401);
    assert.equal(
      (await request(`${dashboard}/api/state`, { headers: { authorization: 'Bearer wrong-token-xx' } })).statusCode,
      401,
    );
    assert.equal(
      (await request(`${dashboard}/api/state`, { headers: { authorization: `Bearer ${token}` } })).statusCode,
      200,
    );
    const login = await request(`${dashboard}/?token=${token}`);
    assert.equal(login.statusCode, 303);
    const cookie = String(login.headers['set-cookie']).split(';')[0] as string;
    assert.match(String(login.headers['set-cookie']), /HttpOnly; SameSite=Strict/);
    assert.equal((await request(`${dashboard}/api/state`, { headers: { cookie } })).statusCode, 200);
    const body = await (await request(`${dashboard}/api/state`, { headers: { cookie } })).body.text();
    assert.ok(!body.includes(token), 'the token is never echoed');
  });

  it('listens on loopback by default', async (t) => {
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, {}));
    const gw = await startGateway(t, {
      extra_config: { 'telemetry/dashboard': {} },
      endpoints: [{ endpoint: '/a', backend: [{ host: [up.url], url_pattern: '/a' }] }],
    });
    const address = gw.gateway.telemetry.dashboard?.address;
    assert.equal(address?.address, '127.0.0.1');
    assert.equal(address?.port, 8091);
  });

  it('renders in headless Chromium with the numbers of the traffic, sorts routes, and saves a screenshot', async (t) => {
    if (CHROMIUM === undefined)
      return t.skip('chromium is not installed (Debian package chromium; .ci/run installs it)');
    const { chromium } = await import('playwright-core');
    const { gw, dashboard } = await gatewayWithTraffic(t);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    t.after(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('requestfailed', (r) => errors.push(`failed: ${r.url()}`));
    await page.goto(`${dashboard}/`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 });
    await page.locator('#total-requests').filter({ hasText: /^40$/ }).waitFor({ timeout: 10_000 });
    const cell = (sel: string) => page.locator(sel).first().textContent();
    assert.equal(await cell('tr[data-route="/a"] td.requests'), '30');
    assert.equal(await cell('tr[data-status="404"] td.requests'), '5');
    assert.equal(await cell('tr[data-status="500"] td.requests'), '3');
    assert.equal(await cell('#server-errors'), '3');
    assert.equal(await cell('tr[data-backend="/d"] td.errors'), '3');
    // Live: more traffic shows up within a few ticks, without a reload.
    for (let i = 0; i < 10; i++) await (await request(`${gw.url}/a`)).body.dump();
    await page.locator('#total-requests').filter({ hasText: /^50$/ }).waitFor({ timeout: 10_000 });
    // Sorting by route name puts /a first; clicking again reverses.
    await page.click('th[data-sort="route"]');
    assert.equal(await cell('#routes-body tr td.route'), '/a');
    await page.click('th[data-sort="route"]');
    assert.equal(await cell('#routes-body tr td.route'), 'unmatched');
    assert.equal(await page.locator('#rate-chart .uplot').count(), 1, 'the uPlot chart is drawn');
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, 'dashboard.png');
    await page.screenshot({ path: file, fullPage: true });
    t.diagnostic(`screenshot: ${file}`);
    assert.deepEqual(errors, []);
  });
});
