import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { freePort, runCli, startCli, waitForHttp, writeConfig } from '../helpers/cli.js';
import { sendJson, startUpstream } from '../helpers/upstream.js';

const valid = { version: 3, endpoints: [{ endpoint: '/a', backend: [{ host: ['http://127.0.0.1:9'], url_pattern: '/a' }] }] };

describe('tollgate CLI', () => {
  it('check: exit 0 on a valid file, warnings on stderr', async () => {
    const file = writeConfig({ ...valid, extra_config: { 'qos/ratelimit/service': { max_rate: 1 } } });
    const r = await runCli(['check', '-c', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /configuration OK \(1 endpoints\)/);
    assert.match(r.stderr, /^warning: settings not supported by Tollgate are ignored: extra_config\["qos\/ratelimit\/service"\]/m);
  });

  it('check: exit 1 listing every error with its path', async () => {
    const file = writeConfig({ version: 3, endpoints: [{ endpoint: '/a', backend: [{ host: ['h'], url_pattern: '/a' }] }, { endpoint: '/b', backend: [] }, { endpoint: '/c' }] });
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
    const file = writeConfig({ version: 3, port: 1, listen_ip: '127.0.0.1', endpoints: [{ endpoint: '/hi', backend: [{ host: [up.url], url_pattern: '/' }] }] });
    const gw = startCli(t, ['run', '-c', file, '-p', String(port), '-d', '--log-level', 'info']);
    await waitForHttp(`http://127.0.0.1:${port}/__health`);
    assert.deepEqual(await (await fetch(`http://127.0.0.1:${port}/hi`)).json(), { hi: 1 });
    assert.deepEqual(await (await fetch(`http://127.0.0.1:${port}/__debug/`)).json(), { message: 'pong' });
    gw.child.kill('SIGTERM');
    assert.equal(await gw.exited, 0);
    const lines = gw.output().trim().split('\n').map((l) => JSON.parse(l) as { msg: string; level: string });
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
    const file = writeConfig({ version: 3, port, listen_ip: '127.0.0.1', timeout: '5s', endpoints: [{ endpoint: '/slow', backend: [{ host: [up.url], url_pattern: '/' }] }] });
    const gw = startCli(t, ['run', '-c', file, '--log-level', 'warn']);
    await waitForHttp(`http://127.0.0.1:${port}/__health`);
    const inflight = request(`http://127.0.0.1:${port}/slow`);
    await new Promise((r) => setTimeout(r, 150));
    gw.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    await assert.rejects(request(`http://127.0.0.1:${port}/__health`, { reset: true }), /ECONNREFUSED/);
    const r = await inflight;
    assert.equal(r.statusCode, 200);
    assert.deepEqual(await r.body.json(), { slow: 'done' });
    assert.equal(await gw.exited, 0);
  });

  it('demo: runs the gateway on the built-in config with its own backend', async (t) => {
    const port = await freePort();
    const metricsPort = await freePort();
    const demo = startCli(t, ['demo', '-p', String(port), '--metrics-port', String(metricsPort)]);
    await waitForHttp(`http://127.0.0.1:${port}/__health`);
    const user = (await (await fetch(`http://127.0.0.1:${port}/users/1`)).json()) as Record<string, unknown>;
    assert.equal(user.name, 'Ada Lovelace');
    assert.equal(user.password_hash, undefined);
    assert.ok(user.purchases !== undefined);
    assert.match(demo.output(), new RegExp(`curl -i http://127\\.0\\.0\\.1:${port}/users/1`));
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(metrics, /^http_server_duration_count\{http_request_method="GET",http_response_status_code="200",http_route="\/users\/:id"/m);
    assert.match(metrics, /^process_resident_memory_bytes \d+/m);
    demo.child.kill('SIGINT');
    assert.equal(await demo.exited, 0);
  });
});
