/**
 * `security/http` on real sockets, answered as KrakenD's unrolled/secure v1.15.0 answers: allowed
 * hosts (also through host_proxy_headers, also as regular expressions) with `500 Bad Host`, the HTTPS
 * redirect (ssl_host, ssl_proxy_headers), HSTS only over HTTPS unless force_sts_header, each header's
 * exact value, is_development, the order against CORS, and refusals counted in /metrics.
 */
import { strict as assert } from 'node:assert';
import { describe, it, type TestContext } from 'node:test';
import { request } from 'undici';
import type { DashboardState } from '../../src/telemetry/dashboard/dashboard-model.js';
import { makeCerts } from '../helpers/certs.js';
import { freePort } from '../helpers/cli.js';
import { find, parseSamples } from '../helpers/exposition.js';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { rawRequest, type RawAnswer } from '../helpers/security-raw-http.js';
import { sendJson, startUpstream, type Upstream } from '../helpers/upstream.js';

async function gateway(
  t: TestContext,
  secure: Record<string, unknown>,
  more: Record<string, unknown> = {},
): Promise<{ gw: RunningGateway; up: Upstream }> {
  const up = await startUpstream(t, (_req, res) => sendJson(res, 200, { ok: true }));
  const gw = await startGateway(t, {
    ...more,
    extra_config: { 'security/http': secure, ...(more.extra_config as object | undefined) },
    endpoints: [
      { endpoint: '/items', backend: [{ host: [up.url], url_pattern: '/b' }] },
      { endpoint: '/items', method: 'POST', backend: [{ host: [up.url], url_pattern: '/b' }] },
    ],
  });
  return { gw, up };
}

function get(port: number, headers: [string, string][], target = '/items', method = 'GET'): Promise<RawAnswer> {
  return rawRequest(port, { method, target, headers });
}

function assertBadHost(r: RawAnswer): void {
  assert.equal(r.status, 500);
  assert.equal(r.one('Content-Type'), 'text/plain; charset=utf-8');
  assert.equal(r.one('X-Content-Type-Options'), 'nosniff');
  assert.equal(r.body, 'Bad Host\n');
  assert.equal(r.one('X-Frame-Options'), undefined, 'a refused request gets no security headers');
}

const HEADERS = {
  frame_deny: true,
  content_type_nosniff: true,
  browser_xss_filter: true,
  content_security_policy: "default-src 'self'; frame-ancestors 'none'",
  referrer_policy: 'same-origin',
};

describe('security/http', () => {
  it('answers 500 Bad Host to a Host not in allowed_hosts (compared case-insensitively, port included)', async (t) => {
    const { gw, up } = await gateway(t, { allowed_hosts: ['api.example.com', 'api.example.com:8443'] });
    assert.equal((await get(gw.port, [['Host', 'api.example.com']])).status, 200);
    assert.equal((await get(gw.port, [['Host', 'API.Example.COM']])).status, 200);
    assert.equal((await get(gw.port, [['Host', 'api.example.com:8443']])).status, 200);
    assert.equal(up.seen.length, 3);
    for (const host of ['evil.test', 'api.example.com:80', 'api.example.com.evil.test'])
      assertBadHost(await get(gw.port, [['Host', host]]));
    // Before routing and the built-ins: an unknown path and the health endpoint are refused alike.
    assertBadHost(await get(gw.port, [['Host', 'evil.test']], '/no/such/path'));
    assertBadHost(await get(gw.port, [['Host', 'evil.test']], '/__health'));
    assert.equal(up.seen.length, 3, 'a refused request never reaches a backend');
  });

  it('reads the host from the first host_proxy_headers header with a value', async (t) => {
    const { gw } = await gateway(t, {
      allowed_hosts: ['api.example.com'],
      host_proxy_headers: ['X-Forwarded-Host', 'X-Original-Host'],
    });
    assert.equal(
      (
        await get(gw.port, [
          ['Host', 'evil.test'],
          ['X-Forwarded-Host', 'api.example.com'],
        ])
      ).status,
      200,
    );
    assert.equal(
      (
        await get(gw.port, [
          ['Host', 'evil.test'],
          ['X-Original-Host', 'api.example.com'],
        ])
      ).status,
      200,
    );
    assertBadHost(
      await get(gw.port, [
        ['Host', 'api.example.com'],
        ['X-Forwarded-Host', 'evil.test'],
      ]),
    );
    // An empty header is skipped: the Host decides.
    assert.equal(
      (
        await get(gw.port, [
          ['Host', 'api.example.com'],
          ['X-Forwarded-Host', ''],
        ])
      ).status,
      200,
    );
  });

  it('takes allowed_hosts as Go regular expressions anchored ^…$ with allowed_hosts_are_regex', async (t) => {
    const { gw } = await gateway(t, {
      allowed_hosts: ['(?i)[a-z]+\\.example\\.com', 'localhost:\\d+'],
      allowed_hosts_are_regex: true,
    });
    assert.equal((await get(gw.port, [['Host', 'API.example.com']])).status, 200);
    assert.equal((await get(gw.port, [['Host', 'localhost:8080']])).status, 200);
    assertBadHost(await get(gw.port, [['Host', 'a.b.example.com']]));
    assertBadHost(await get(gw.port, [['Host', 'localhost:80x']]));
  });

  it('redirects plain HTTP to https:// with 301, as Go http.Redirect writes it', async (t) => {
    const { gw, up } = await gateway(t, { ssl_redirect: true, sts_seconds: 300 });
    const r = await get(gw.port, [['Host', 'api.example.com']], '/items?q=1&b=%20');
    assert.equal(r.status, 301);
    assert.equal(r.one('Location'), 'https://api.example.com/items?q=1&b=%20');
    assert.equal(r.one('Content-Type'), 'text/html; charset=utf-8');
    assert.equal(r.body, '<a href="https://api.example.com/items?q=1&amp;b=%20">Moved Permanently</a>.\n\n');
    assert.equal(r.one('Content-Length'), String(r.body.length));
    assert.equal(r.one('Strict-Transport-Security'), undefined);
    const head = await get(gw.port, [['Host', 'api.example.com']], '/items', 'HEAD');
    assert.equal(head.status, 301);
    assert.equal(head.one('Content-Type'), 'text/html; charset=utf-8');
    const post = await rawRequest(gw.port, { method: 'POST', target: '/x', headers: [['Host', 'h']], body: '{}' });
    assert.equal(post.status, 301);
    assert.equal(post.one('Location'), 'https://h/x');
    assert.equal(post.one('Content-Type'), undefined);
    assert.equal(post.one('Content-Length'), '0');
    assert.equal(up.seen.length, 0);
  });

  it('redirects to ssl_host, and not a request ssl_proxy_headers marks as HTTPS (which gets HSTS)', async (t) => {
    const { gw, up } = await gateway(t, {
      ssl_redirect: true,
      ssl_host: 'secure.example.com:8443',
      ssl_proxy_headers: { 'X-Forwarded-Proto': 'https' },
      sts_seconds: 31536000,
      sts_include_subdomains: true,
    });
    const r = await get(gw.port, [['Host', 'api.example.com']], '/items?x');
    assert.equal(r.one('Location'), 'https://secure.example.com:8443/items?x');
    // The value must match exactly (Go's Header.Get == value).
    const wrong = await get(gw.port, [['X-Forwarded-Proto', 'HTTPS']]);
    assert.equal(wrong.status, 301);
    const ok = await get(gw.port, [['X-Forwarded-Proto', 'https']]);
    assert.equal(ok.status, 200);
    assert.equal(ok.one('Strict-Transport-Security'), 'max-age=31536000; includeSubDomains');
    assert.equal(up.seen.length, 1);
  });

  it('sends HSTS on a TLS listener, never over plain HTTP unless force_sts_header', async (t) => {
    const certs = makeCerts();
    const { gw } = await gateway(
      t,
      { sts_seconds: 600, ssl_redirect: true },
      {
        tls: { public_key: certs.serverCert, private_key: certs.serverKey },
      },
    );
    const tls = await rawRequest(gw.port, { target: '/items', tls: true });
    assert.equal(tls.status, 200);
    assert.equal(tls.one('Strict-Transport-Security'), 'max-age=600');
    const { gw: plain } = await gateway(t, { sts_seconds: 600 });
    assert.equal((await get(plain.port, [])).one('Strict-Transport-Security'), undefined);
    const { gw: forced } = await gateway(t, { sts_seconds: 600, force_sts_header: true });
    assert.equal((await get(forced.port, [])).one('Strict-Transport-Security'), 'max-age=600');
  });

  it('sets each header with its exact value on every answer: proxied, 404, built-in', async (t) => {
    const { gw } = await gateway(t, HEADERS);
    for (const target of ['/items', '/nothing', '/__health']) {
      const r = await get(gw.port, [], target);
      assert.equal(r.one('X-Frame-Options'), 'DENY', target);
      assert.equal(r.one('X-Content-Type-Options'), 'nosniff', target);
      assert.equal(r.one('X-Xss-Protection'), '1; mode=block', target);
      assert.equal(r.one('Content-Security-Policy'), "default-src 'self'; frame-ancestors 'none'", target);
      assert.equal(r.one('Referrer-Policy'), 'same-origin', target);
      assert.equal(r.one('Strict-Transport-Security'), undefined, target);
    }
    const { gw: custom } = await gateway(t, { frame_deny: true, custom_frame_options_value: 'SAMEORIGIN' });
    const r = await get(custom.port, []);
    assert.equal(r.one('X-Frame-Options'), 'SAMEORIGIN');
    assert.equal(r.one('X-Content-Type-Options'), undefined);
    assert.equal(r.one('X-Xss-Protection'), undefined);
  });

  it("replaces $NONCE in content_security_policy with a fresh 'nonce-…' each request", async (t) => {
    const { gw } = await gateway(t, { content_security_policy: "script-src $NONCE 'self'; style-src $NONCE" });
    const one = (await get(gw.port, [])).one('Content-Security-Policy') ?? '';
    const two = (await get(gw.port, [])).one('Content-Security-Policy') ?? '';
    const re = /^script-src 'nonce-([A-Za-z0-9+/]{22})' 'self'; style-src 'nonce-([A-Za-z0-9+/]{22})'$/;
    const m = re.exec(one);
    assert.ok(m !== null, one);
    assert.equal(m[1], m[2], 'one nonce per request');
    assert.notEqual(one, two);
  });

  it('with is_development ignores allowed_hosts, ssl_redirect and HSTS, and keeps the other headers', async (t) => {
    const { gw } = await gateway(t, {
      allowed_hosts: ['api.example.com'],
      ssl_redirect: true,
      sts_seconds: 600,
      force_sts_header: true,
      frame_deny: true,
      is_development: true,
    });
    const r = await get(gw.port, [['Host', 'evil.test']]);
    assert.equal(r.status, 200);
    assert.equal(r.one('Strict-Transport-Security'), undefined);
    assert.equal(r.one('X-Frame-Options'), 'DENY');
  });

  it('runs after CORS: a preflight is answered whatever the host, a refusal keeps the CORS headers', async (t) => {
    const { gw } = await gateway(
      t,
      { allowed_hosts: ['api.example.com'] },
      {
        extra_config: { 'security/cors': { allow_origins: ['https://app.test'] } },
      },
    );
    const pre = await get(
      gw.port,
      [
        ['Host', 'evil.test'],
        ['Origin', 'https://app.test'],
        ['Access-Control-Request-Method', 'GET'],
      ],
      '/items',
      'OPTIONS',
    );
    assert.equal(pre.status, 204);
    assert.equal(pre.one('Access-Control-Allow-Origin'), 'https://app.test');
    const refused = await get(gw.port, [
      ['Host', 'evil.test'],
      ['Origin', 'https://app.test'],
    ]);
    assertBadHost(refused);
    assert.deepEqual(refused.all('Vary'), ['Origin']);
    assert.equal(refused.one('Access-Control-Allow-Origin'), 'https://app.test');
  });

  it('counts refused and redirected requests by their status in /metrics and the dashboard', async (t) => {
    const dash = await freePort();
    const { gw } = await gateway(
      t,
      { allowed_hosts: ['api.example.com'], ssl_redirect: true },
      {
        extra_config: {
          'telemetry/opentelemetry': {
            service_name: 'secure-test',
            exporters: { prometheus: [{ name: 'local', port: 0, listen_ip: '127.0.0.1' }] },
          },
          'telemetry/dashboard': { listen_address: `127.0.0.1:${dash}` },
        },
      },
    );
    await get(gw.port, [['Host', 'evil.test']]);
    await get(gw.port, [['Host', 'evil.test']]);
    await get(gw.port, [['Host', 'api.example.com']]);
    const port = gw.gateway.telemetry.exporters[0]?.address?.port;
    const text = await (await request(`http://127.0.0.1:${port}/metrics`)).body.text();
    const samples = parseSamples(text);
    const count = (route: string, status: string): number | undefined =>
      find(samples, 'http_server_duration_count', { http_route: route, http_response_status_code: status })[0]?.value;
    assert.equal(count('500 Internal Server Error', '500'), 2, text);
    assert.equal(count('301 Moved Permanently', '301'), 1, text);
    await gw.gateway.telemetry.dashboard?.tick();
    const state = (await (await request(`http://127.0.0.1:${dash}/api/state`)).body.json()) as DashboardState;
    const statuses = Object.fromEntries(state.statuses.map((x) => [x.status, x.requests]));
    assert.deepEqual(statuses, { '301': 1, '500': 2 });
  });
});
