import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Client, request } from 'undici';
import { freePort, runCli, startCli, waitForHttp, writeConfig } from '../helpers/cli.js';
import { sendJson, startUpstream } from '../helpers/upstream.js';

const valid = {
  version: 3,
  endpoints: [{ endpoint: '/a', backend: [{ host: ['http://127.0.0.1:9'], url_pattern: '/a' }] }],
};

describe('tollgate CLI', () => {
  it('check: exit 0 on a valid file, warnings on stderr', async () => {
    const file = writeConfig({ ...valid, extra_config: { 'telemetry/logging': { level: 'INFO' } } });
    const r = await runCli(['check', '-c', file]);
    assert.equal(r.code, 0, r.stderr);
    // Regression: the count was always plural ("1 endpoints").
    assert.match(r.stdout, /configuration OK \(1 endpoint\)$/m);
    assert.match(
      r.stderr,
      /^warning: settings not supported by Tollgate are ignored \(they only describe, report or tune\): extra_config\["telemetry\/logging"\]/m,
    );
  });

  it('check FILE works like check -c FILE; no file is a usage error', async () => {
    const file = writeConfig(valid);
    const r = await runCli(['check', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /configuration OK \(1 endpoints?\)/);
    const none = await runCli(['check']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /give one configuration file/);
  });

  it('check: settings Tollgate does not enforce are errors, each with its path; --allow-unenforced turns them into warnings', async () => {
    const file = writeConfig({
      ...valid,
      extra_config: { 'qos/ratelimit/service': { max_rate: 1 } },
      endpoints: [{ ...valid.endpoints[0], extra_config: { 'auth/signer': { alg: 'RS256' } } }],
    });
    const r = await runCli(['check', file]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(
      r.stderr,
      /configuration is invalid \(2 settings Tollgate would not enforce\) \[TG_ERR_CONFIG_UNENFORCED\]/,
    );
    assert.match(
      r.stderr,
      /^ {2}extra_config\["qos\/ratelimit\/service"\]: not enforced by Tollgate: KrakenD would limit the rate/m,
    );
    assert.match(
      r.stderr,
      /^ {2}endpoints\[0\]\.extra_config\["auth\/signer"\]: not enforced by Tollgate: KrakenD would sign the backend answer/m,
    );
    assert.match(r.stderr, /--allow-unenforced/);
    const allowed = await runCli(['check', '--allow-unenforced', file]);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.equal(allowed.stderr.match(/^warning: NOT ENFORCED: /gm)?.length, 2, allowed.stderr);
  });

  it('check: typos get "did you mean", and --lint fails on them', async () => {
    const file = writeConfig({
      version: 3,
      extra_config: { 'telemetry/dashbaord': {} },
      endpoints: [{ endpoint: '/a', timout: '1s', backend: [{ host: ['http://127.0.0.1:9'], url_pattern: '/a' }] }],
    });
    const r = await runCli(['check', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /^warning: extra_config\["telemetry\/dashbaord"\]: unknown namespace: did you mean "telemetry\/dashboard"\? It is ignored\.$/m,
    );
    assert.match(
      r.stderr,
      /^warning: endpoints\[0\]\.timout: unknown setting: did you mean "timeout"\? It is ignored\.$/m,
    );
    const lint = await runCli(['check', '--lint', file]);
    assert.equal(lint.code, 1);
    assert.match(lint.stderr, /\(2 errors\) \[TG_ERR_CONFIG_INVALID\]/);
    assert.match(lint.stderr, /^ {2}endpoints\[0\]\.timout: unknown setting: did you mean "timeout"\?$/m);
  });

  it('check: a YAML syntax error shows the offending line and a caret', async () => {
    const file = writeConfig(
      'version: 3\nendpoints:\n  - endpoint: /a\n    backend:\n      - url_pattern: /a\n    extra: {a: 1\n  bad: x\n',
      'krakend.yaml',
    );
    const r = await runCli(['check', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^ {2}line 7, column 3: [^\n]*[^:]$/m);
    assert.match(r.stderr, /^ {4} {2}bad: x\n {4} {2}\^$/m);
  });

  it('check: exit 1 listing every error with its path', async () => {
    const file = writeConfig({
      version: 3,
      endpoints: [
        { endpoint: '/a', backend: [{ host: ['h'], url_pattern: '/a' }] },
        { endpoint: '/b', backend: [] },
        { endpoint: '/c' },
      ],
    });
    const r = await runCli(['check', '-c', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /configuration is invalid \(2 errors\) \[TG_ERR_CONFIG_INVALID\]/);
    assert.match(r.stderr, /^ {2}endpoints\[1\]\.backend: must have at least 1 item$/m);
    assert.match(r.stderr, /^ {2}endpoints\[2\]\.backend: is required$/m);
  });

  it('check: exit 1 with the line and column of a JSON syntax error', async () => {
    const file = writeConfig('{\n  "version": 3,\n  "endpoints": [\n    { "endpoint": "/a" "backend": [] }\n  ]\n}\n');
    const r = await runCli(['check', '-c', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /TG_ERR_CONFIG_SYNTAX/);
    assert.match(r.stderr, /line 4, column 24: Expected ',' or '}' after property value/);
  });

  it('check: exit 1 when the file does not exist or is not version 3', async () => {
    const missing = await runCli(['check', '-c', '/nonexistent/krakend.json']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read \/nonexistent\/krakend\.json/);
    const v2 = await runCli(['check', '-c', writeConfig({ version: 2 })]);
    assert.equal(v2.code, 1);
    assert.match(v2.stderr, /version: must be 3/);
  });

  it('version prints the package version', async () => {
    const r = await runCli(['version']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^tollgate \d+\.\d+\.\d+\n$/);
  });

  it('run: -p overrides the port, -d enables /__debug/, logs are JSON lines; refuses an invalid config', async (t) => {
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, { hi: 1 }));
    const port = await freePort();
    const file = writeConfig({
      version: 3,
      port: 1,
      listen_ip: '127.0.0.1',
      endpoints: [{ endpoint: '/hi', backend: [{ host: [up.url], url_pattern: '/' }] }],
    });
    const gw = startCli(t, ['run', '-c', file, '-p', String(port), '-d', '--log-level', 'info']);
    await waitForHttp(`http://127.0.0.1:${port}/__health`);
    assert.deepEqual(await (await fetch(`http://127.0.0.1:${port}/hi`)).json(), { hi: 1 });
    assert.deepEqual(await (await fetch(`http://127.0.0.1:${port}/__debug/`)).json(), { message: 'pong' });
    gw.child.kill('SIGTERM');
    assert.equal(await gw.exited, 0);
    const lines = gw
      .output()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; level: string });
    assert.ok(lines.some((l) => l.msg === 'gateway listening' && l.level === 'info'));
    assert.ok(lines.some((l) => l.msg === 'gateway stopped'));
    const bad = await runCli(['run', '-c', writeConfig({ version: 3, endpoints: [{ endpoint: 'x' }] })]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /endpoints\[0\]\.endpoint: must start with "\/"/);
  });

  it('run: SIGTERM lets in-flight requests finish, refuses new connections, exits 0', async (t) => {
    const up = await startUpstream(t, (_req, res) => {
      setTimeout(() => sendJson(res, 200, { slow: 'done' }), 600);
    });
    const port = await freePort();
    const file = writeConfig({
      version: 3,
      port,
      listen_ip: '127.0.0.1',
      timeout: '5s',
      endpoints: [{ endpoint: '/slow', backend: [{ host: [up.url], url_pattern: '/' }] }],
    });
    const gw = startCli(t, ['run', '-c', file, '--log-level', 'warn']);
    await waitForHttp(`http://127.0.0.1:${port}/__health`);
    const inflight = request(`http://127.0.0.1:${port}/slow`);
    await new Promise((r) => setTimeout(r, 150));
    gw.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    // A new connection is refused (a pooled keep-alive one would still be served, with Connection: close,
    // during the drain's idle grace: server/drain.ts).
    const fresh = new Client(`http://127.0.0.1:${port}`);
    t.after(() => fresh.destroy());
    await assert.rejects(fresh.request({ path: '/__health', method: 'GET' }), /ECONNREFUSED/);
    const r = await inflight;
    assert.equal(r.statusCode, 200);
    assert.deepEqual(await r.body.json(), { slow: 'done' });
    assert.equal(await gw.exited, 0);
  });

  it('demo: runs the gateway on the built-in config with its own backend; every printed URL answers', async (t) => {
    const [port, metricsPort, dashboardPort, kongPort, statsPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const demo = startCli(t, [
      'demo',
      '-p',
      String(port),
      '--metrics-port',
      String(metricsPort),
      '--dashboard-port',
      String(dashboardPort),
      '--kong-port',
      String(kongPort),
      '--stats-port',
      String(statsPort),
    ]);
    await waitForHttp(`http://127.0.0.1:${port}/__health`);
    // The banner is written once every listener is up.
    for (let i = 0; i < 100 && !demo.output().includes('Stop with Ctrl-C.'); i++)
      await new Promise((r) => setTimeout(r, 50));
    const user = (await (await fetch(`http://127.0.0.1:${port}/users/1`)).json()) as Record<string, unknown>;
    assert.equal(user.name, 'Ada Lovelace');
    assert.equal(user.password_hash, undefined);
    assert.ok(user.purchases !== undefined);
    const out = demo.output();
    assert.match(out, new RegExp(`curl -i 'http://127\\.0\\.0\\.1:${port}/users/1'`));
    // The 1 MiB download is suggested with its body discarded, not dumped into the terminal.
    assert.match(out, /curl -sS -o \/dev\/null -w '[^']*' 'http:\/\/127\.0\.0\.1:\d+\/file\?size=1048576'/);
    // Every telemetry surface is on and printed, none on a port a local monitoring stack holds.
    for (const p of [metricsPort, dashboardPort, kongPort, statsPort])
      assert.match(out, new RegExp(`http://127\\.0\\.0\\.1:${p}/`));
    const urls = [...out.matchAll(/http:\/\/127\.0\.0\.1:\d+\/[^\s']*/g)].map((m) => m[0]);
    assert.ok(urls.length >= 13, urls.join(' '));
    // What the demo means to show on the gateway: the 401 of a missing key and the endpoint timeout.
    const expected: Record<string, number> = { '/private': 401, '/slow': 500 };
    for (const url of new Set(urls)) {
      const u = new URL(url);
      const r = await request(url);
      await r.body.dump();
      assert.equal(r.statusCode, u.port === String(port) ? (expected[u.pathname] ?? 200) : 200, url);
    }
    const keyed = await request(`http://127.0.0.1:${port}/private`, { headers: { apikey: 'demo-key' } });
    assert.equal(keyed.statusCode, 200);
    await keyed.body.dump();
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(
      metrics,
      /^http_server_duration_count\{http_request_method="GET",http_response_status_code="200",http_route="\/users\/:id"/m,
    );
    assert.match(metrics, /^process_resident_memory_bytes \d+/m);
    const kong = await (await fetch(`http://127.0.0.1:${kongPort}/metrics`)).text();
    assert.match(kong, /^kong_http_requests_total\{[^}]*consumer="demo-user"/m);
    const stats = (await (await fetch(`http://127.0.0.1:${statsPort}/__stats`)).json()) as Record<string, unknown>;
    assert.ok(
      Object.keys(stats).some((k) => k.startsWith('krakend.router.response./users/:id.status.200')),
      'the /__stats keys of /users/:id',
    );
    demo.child.kill('SIGINT');
    assert.equal(await demo.exited, 0);
  });
});
