/**
 * What KrakenD's router (gin, as lura sets it up) answers when no route takes a request, and the
 * `X-Krakend-Completed` flag on the answers it produces itself: checked on real sockets, byte by byte.
 * gin: https://github.com/gin-gonic/gin/blob/dcaa4296d111981ffb31ac3eba90bb63e1eb5ab9/gin.go#L690-L808
 * lura: https://github.com/luraproject/lura/blob/caa4317164ade7db87a449406b84e434657f415c/router/gin/engine.go#L41-L94
 */
import { strict as assert } from 'node:assert';
import { connect } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { startGateway } from '../helpers/gateway.js';
import { deadPort, sendJson, startUpstream, type Upstream } from '../helpers/upstream.js';

interface RawResponse {
  readonly status: number;
  /** Header names as sent, in order. */
  readonly names: string[];
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** One request written as is (no client-side path cleaning), answered on a closed connection. */
function raw(port: number, method: string, target: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () =>
      s.write(`${method} ${target} HTTP/1.1\r\nHost: gw\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`),
    );
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('error', reject);
    s.on('close', () => {
      const end = out.indexOf('\r\n\r\n');
      const lines = out.slice(0, end).split('\r\n');
      const names: string[] = [];
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const c = l.indexOf(':');
        names.push(l.slice(0, c));
        headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim();
      }
      resolve({ status: Number((lines[0] ?? '').split(' ')[1]), names, headers, body: out.slice(end + 4) });
    });
  });
}

async function gateway(t: TestContext, router: Record<string, unknown> = {}): Promise<{ port: number; up: Upstream }> {
  const up = await startUpstream(t, (_req, res) => sendJson(res, 200, { ok: true }));
  const backend = [{ host: [up.url], url_pattern: '/' }];
  const gw = await startGateway(t, {
    extra_config: { router },
    endpoints: [
      { endpoint: '/static', backend },
      { endpoint: '/static', method: 'POST', backend },
      { endpoint: '/Files/{name}', backend },
      { endpoint: '/users', backend },
      { endpoint: '/users/', method: 'POST', backend },
      { endpoint: '/{page}', method: 'PUT', backend },
    ],
  });
  return { port: gw.port, up };
}

describe('KrakenD router answers', () => {
  it('404 is gin\'s "404 page not found" as text/plain with X-Krakend-Completed: false', async (t) => {
    const { port, up } = await gateway(t);
    const r = await raw(port, 'GET', '/nothing/here?x=1');
    assert.equal(r.status, 404);
    assert.equal(r.headers['content-type'], 'text/plain');
    assert.equal(r.headers['content-length'], '18');
    assert.ok(r.names.includes('X-Krakend-Completed'), r.names.join());
    assert.equal(r.headers['x-krakend-completed'], 'false');
    assert.equal(r.body, '404 page not found');
    assert.equal(up.seen.length, 0);
  });

  it('405 is "405 method not allowed" with Allow and without X-Krakend-Completed (lura sets no NoMethod)', async (t) => {
    const { port } = await gateway(t);
    const r = await raw(port, 'DELETE', '/static');
    assert.equal(r.status, 405);
    assert.equal(r.headers.allow, 'GET, POST');
    assert.equal(r.headers['content-type'], 'text/plain');
    assert.equal(r.headers['x-krakend-completed'], undefined);
    assert.equal(r.body, '405 method not allowed');
  });

  it('redirects a wrongly cased or uncleaned path to the registered one: 301 for GET with the query kept', async (t) => {
    const { port, up } = await gateway(t);
    for (const [target, location] of [
      ['/StAtic', '/static'],
      ['/STATIC/?a=1&b=%20', '/static?a=1&b=%20'],
      ['/a//b/../../static', '/static'],
      ['/./static', '/static'],
      ['/files/Report%20One', '/Files/Report%20One'],
    ] as const) {
      const r = await raw(port, 'GET', target);
      assert.equal(r.status, 301, target);
      assert.equal(r.headers.location, location, target);
      assert.equal(r.headers['content-type'], 'text/html; charset=utf-8', target);
      assert.equal(r.body, `<a href="${location.replace(/&/g, '&amp;')}">Moved Permanently</a>.\n\n`, target);
    }
    assert.equal(up.seen.length, 0, 'a redirect never reaches the backend');
  });

  it('redirects other methods with 307 (gin: 301 only for GET; HEAD too would get 307)', async (t) => {
    const { port } = await gateway(t);
    const post = await raw(port, 'POST', '/STATIC?q');
    assert.equal(post.status, 307);
    assert.equal(post.headers.location, '/static?q');
    assert.equal(post.headers['content-type'], undefined);
    assert.equal(post.body, '');
    const put = await raw(port, 'PUT', '/Static/');
    assert.equal(put.status, 307);
    assert.equal(put.headers.location, '/Static');
  });

  it('a redirect of the method wins over 405, as in gin', async (t) => {
    const { port } = await gateway(t);
    const r = await raw(port, 'GET', '/users/');
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, '/users');
  });

  it('never redirects to another host or to a dot-segment parameter', async (t) => {
    const { port } = await gateway(t);
    const evil = await raw(port, 'PUT', '//evil.com/');
    assert.equal(evil.status, 307);
    assert.equal(evil.headers.location, '/evil.com');
    for (const target of ['/\\evil.com/', '/files/%2e%2e', '/FILES/%2E', '/files/.%2e/']) {
      const r = await raw(port, target.startsWith('/\\') ? 'PUT' : 'GET', target);
      assert.notEqual(r.status, 301, target);
      assert.notEqual(r.status, 307, target);
      assert.ok(!(r.headers.location ?? '').startsWith('//'), target);
    }
  });

  it('honours router.disable_redirect_fixed_path and disable_redirect_trailing_slash', async (t) => {
    const fixedOff = await gateway(t, { disable_redirect_fixed_path: true });
    // `PUT /{page}` takes the path for another method.
    assert.equal((await raw(fixedOff.port, 'GET', '/StAtic')).status, 405);
    assert.equal((await raw(fixedOff.port, 'GET', '/static/')).status, 301);
    // gin's fixed-path redirect also fixes a trailing slash, so only both settings stop `/static/`.
    const slashOff = await gateway(t, { disable_redirect_trailing_slash: true });
    assert.equal((await raw(slashOff.port, 'GET', '/static/')).status, 301);
    const bothOff = await gateway(t, { disable_redirect_trailing_slash: true, disable_redirect_fixed_path: true });
    assert.equal((await raw(bothOff.port, 'GET', '/static/')).status, 404);
    assert.equal((await raw(bothOff.port, 'GET', '/StAtic')).status, 405);
    assert.equal((await raw(bothOff.port, 'GET', '/a/../static')).status, 404);
  });

  it('no-op endpoints send X-Krakend-Completed: false, on success and on a failed backend', async (t) => {
    const up = await startUpstream(t, (_req, res) => sendJson(res, 201, { ok: true }));
    const gw = await startGateway(t, {
      endpoints: [
        {
          endpoint: '/noop',
          output_encoding: 'no-op',
          backend: [{ host: [up.url], url_pattern: '/x', encoding: 'no-op' }],
        },
        {
          endpoint: '/down',
          output_encoding: 'no-op',
          backend: [{ host: [`http://127.0.0.1:${await deadPort()}`], url_pattern: '/x', encoding: 'no-op' }],
        },
      ],
    });
    const ok = await raw(gw.port, 'GET', '/noop');
    assert.equal(ok.status, 201);
    assert.ok(ok.names.includes('X-Krakend-Completed'), ok.names.join());
    assert.equal(ok.headers['x-krakend-completed'], 'false');
    assert.equal(ok.body, '{"ok":true}');
    assert.equal(up.seen[0]?.url, '/x');
    const down = await raw(gw.port, 'GET', '/down');
    assert.ok(down.status >= 500, String(down.status));
    assert.equal(down.headers['x-krakend-completed'], 'false');
  });
});
