import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { startGateway } from '../helpers/gateway.js';

const backend = { host: ['http://127.0.0.1:9'], url_pattern: '/' };

describe('built-in endpoints', () => {
  it('serves /__health with status ok', async (t) => {
    const gw = await startGateway(t, { endpoints: [{ endpoint: '/a', backend: [backend] }] });
    const r = await request(`${gw.url}/__health`);
    assert.equal(r.statusCode, 200);
    const body = (await r.body.json()) as { status: string; now: string; agents: object };
    assert.equal(body.status, 'ok');
    assert.deepEqual(body.agents, {});
    assert.ok(!Number.isNaN(Date.parse(body.now)));
  });

  it("answers another method on /__health with gin's text/plain 405 (JSON under tollgate.json_router_errors)", async (t) => {
    const gw = await startGateway(t, { endpoints: [{ endpoint: '/a', backend: [backend] }] });
    const r = await request(`${gw.url}/__health`, { method: 'POST' });
    assert.equal(r.statusCode, 405);
    assert.equal(r.headers.allow, 'GET, HEAD');
    assert.equal(r.headers['content-type'], 'text/plain');
    assert.equal(await r.body.text(), '405 method not allowed');
    const json = await startGateway(t, {
      extra_config: { tollgate: { json_router_errors: true } },
      endpoints: [{ endpoint: '/a', backend: [backend] }],
    });
    const j = await request(`${json.url}/__health`, { method: 'POST' });
    assert.equal(j.statusCode, 405);
    assert.equal(((await j.body.json()) as { code: string }).code, 'TG_ERR_METHOD_NOT_ALLOWED');
  });

  it('moves or disables health with extra_config.router', async (t) => {
    const moved = await startGateway(t, {
      extra_config: { router: { health_path: '/healthz' } },
      endpoints: [{ endpoint: '/a', backend: [backend] }],
    });
    assert.equal((await request(`${moved.url}/healthz`)).statusCode, 200);
    assert.equal((await request(`${moved.url}/__health`)).statusCode, 404);
    const off = await startGateway(t, {
      extra_config: { router: { disable_health: true } },
      endpoints: [{ endpoint: '/a', backend: [backend] }],
    });
    assert.equal((await request(`${off.url}/__health`)).statusCode, 404);
  });

  it('serves /__debug/ and /__echo/ only when enabled', async (t) => {
    const off = await startGateway(t, { endpoints: [{ endpoint: '/a', backend: [backend] }] });
    assert.equal((await request(`${off.url}/__debug/x`)).statusCode, 404);
    assert.equal((await request(`${off.url}/__echo/x`)).statusCode, 404);
    const on = await startGateway(t, {
      debug_endpoint: true,
      echo_endpoint: true,
      endpoints: [{ endpoint: '/a', backend: [backend] }],
    });
    const dbg = await request(`${on.url}/__debug/anything`, { method: 'POST', body: 'x' });
    assert.deepEqual(await dbg.body.json(), { message: 'pong' });
    const echo = await request(`${on.url}/__echo/path?a=1&a=2`, {
      method: 'PUT',
      body: 'hello',
      headers: { 'x-test': 'yes' },
    });
    const e = (await echo.body.json()) as {
      path: string;
      query: Record<string, string[]>;
      method: string;
      body: string;
      headers: Record<string, string>;
    };
    assert.equal(e.path, '/__echo/path');
    assert.deepEqual(e.query, { a: ['1', '2'] });
    assert.equal(e.method, 'PUT');
    assert.equal(e.body, 'hello');
    assert.equal(e.headers['x-test'], 'yes');
  });
});
