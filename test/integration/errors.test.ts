import { strict as assert } from 'node:assert';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { startGateway } from '../helpers/gateway.js';
import { deadPort, sendJson, startUpstream } from '../helpers/upstream.js';

/** Sends raw bytes and returns what the server answered before closing. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.end(text));
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
}

describe('failures and bad input', () => {
  it('answers within the endpoint timeout and aborts the stalled backend request', async (t) => {
    let backendSawClose = false;
    const up = await startUpstream(t, (req) => {
      req.socket.once('close', () => (backendSawClose = true));
    });
    const gw = await startGateway(t, {
      endpoints: [
        { endpoint: '/json', timeout: '200ms', backend: [{ host: [up.url], url_pattern: '/stall' }] },
        {
          endpoint: '/noop',
          timeout: '200ms',
          output_encoding: 'no-op',
          backend: [{ host: [up.url], url_pattern: '/stall' }],
        },
      ],
    });
    const started = Date.now();
    const json = await request(`${gw.url}/json`);
    assert.equal(json.statusCode, 500);
    assert.equal(((await json.body.json()) as { code: string }).code, 'TG_ERR_ALL_BACKENDS_FAILED');
    const noop = await request(`${gw.url}/noop`);
    assert.equal(noop.statusCode, 504);
    assert.deepEqual(await noop.body.json(), {
      error: 'the backend did not answer within the endpoint timeout',
      code: 'TG_ERR_BACKEND_TIMEOUT',
    });
    assert.ok(Date.now() - started < 1500, 'both answered about when their 200 ms timeouts expired');
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(backendSawClose, 'the backend request was aborted, not left running');
    assert.ok(gw.logs.some((l) => l.msg === 'backend request failed' && l.code === 'TG_ERR_BACKEND_TIMEOUT'));
  });

  it('keeps a partial answer when only one backend times out', async (t) => {
    const up = await startUpstream(t, (req, res) => {
      if (req.url === '/fast') sendJson(res, 200, { fast: true });
    });
    const gw = await startGateway(t, {
      endpoints: [
        {
          endpoint: '/mix',
          timeout: '150ms',
          backend: [
            { host: [up.url], url_pattern: '/fast' },
            { host: [up.url], url_pattern: '/stall' },
          ],
        },
      ],
    });
    const r = await request(`${gw.url}/mix`);
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['x-krakend-completed'], 'false');
    assert.deepEqual(await r.body.json(), { fast: true });
  });

  it('turns a refused backend into a quick 502 (no-op) or 500 (json), and keeps serving', async (t) => {
    const dead = `http://127.0.0.1:${await deadPort()}`;
    const gw = await startGateway(t, {
      endpoints: [
        { endpoint: '/noop', output_encoding: 'no-op', backend: [{ host: [dead], url_pattern: '/' }] },
        { endpoint: '/json', backend: [{ host: [dead], url_pattern: '/' }] },
      ],
    });
    for (let i = 0; i < 20; i++) {
      const r = await request(`${gw.url}/noop`);
      assert.equal(r.statusCode, 502);
      assert.equal(((await r.body.json()) as { code: string }).code, 'TG_ERR_BACKEND_UNAVAILABLE');
    }
    const j = await request(`${gw.url}/json`);
    assert.equal(j.statusCode, 500);
    await j.body.dump();
    const health = await request(`${gw.url}/__health`);
    assert.equal(health.statusCode, 200);
    await health.body.dump();
    const lines = gw.logs.filter((l) => l.msg === 'backend request failed' && l.endpoint === '/noop');
    assert.equal(lines.length, 1, 'failure logs are rate limited');
  });

  it('cuts the client connection when a backend resets mid-body, and survives', async (t) => {
    const up = await startUpstream(t, (_req, res) => {
      res.writeHead(200, { 'content-length': '100000' });
      res.write(Buffer.alloc(1000));
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const gw = await startGateway(t, {
      endpoints: [{ endpoint: '/reset', output_encoding: 'no-op', backend: [{ host: [up.url], url_pattern: '/' }] }],
    });
    const r = await request(`${gw.url}/reset`);
    assert.equal(r.statusCode, 200);
    await assert.rejects(r.body.text());
    const again = await request(`${gw.url}/__health`);
    assert.equal(again.statusCode, 200);
    await again.body.dump();
  });

  // KrakenD's (gin's) bodies are the default now: text/plain `404 page not found` / `405 method not
  // allowed`; the JSON bodies with their codes are the `tollgate.json_router_errors` opt-in.
  it('answers 404 for unknown paths, 405 with Allow for a known path, and redirects a trailing slash', async (t) => {
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, {}));
    const gw = await startGateway(t, {
      endpoints: [{ endpoint: '/things/{id}', method: 'PUT', backend: [{ host: [up.url], url_pattern: '/' }] }],
    });
    const nf = await request(`${gw.url}/nothing/here`);
    assert.equal(nf.statusCode, 404);
    assert.equal(nf.headers['content-type'], 'text/plain');
    assert.equal(nf.headers['x-krakend-completed'], 'false');
    assert.equal(await nf.body.text(), '404 page not found');
    const na = await request(`${gw.url}/things/1`);
    assert.equal(na.statusCode, 405);
    assert.equal(na.headers.allow, 'PUT');
    assert.equal(na.headers['x-krakend-completed'], undefined);
    assert.equal(await na.body.text(), '405 method not allowed');
    const slash = await request(`${gw.url}/things/1/?a=1`, { method: 'PUT' });
    assert.equal(slash.statusCode, 307);
    assert.equal(slash.headers.location, '/things/1?a=1');
    await slash.body.dump();
    assert.equal(up.seen.length, 0);
  });

  it('answers 404 and 405 with JSON error codes under tollgate.json_router_errors', async (t) => {
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, {}));
    const gw = await startGateway(t, {
      extra_config: { tollgate: { json_router_errors: true } },
      endpoints: [{ endpoint: '/things/{id}', method: 'PUT', backend: [{ host: [up.url], url_pattern: '/' }] }],
    });
    const nf = await request(`${gw.url}/nothing/here`);
    assert.equal(nf.statusCode, 404);
    assert.equal(nf.headers['x-krakend-completed'], 'false');
    assert.deepEqual(await nf.body.json(), { error: 'no endpoint matches this path', code: 'TG_ERR_ROUTE_NOT_FOUND' });
    const na = await request(`${gw.url}/things/1`);
    assert.equal(na.statusCode, 405);
    assert.equal(na.headers.allow, 'PUT');
    assert.equal(((await na.body.json()) as { code: string }).code, 'TG_ERR_METHOD_NOT_ALLOWED');
  });

  it('rejects malformed requests with a 4xx and keeps serving', async (t) => {
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, {}));
    const gw = await startGateway(t, {
      endpoints: [{ endpoint: '/p/{id}', backend: [{ host: [up.url], url_pattern: '/p/{id}' }] }],
    });
    assert.match(await raw(gw.port, 'GARBAGE\r\n\r\n'), /^HTTP\/1\.1 400 /);
    assert.match(
      await raw(
        gw.port,
        'GET /p/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      ),
      /^HTTP\/1\.1 400 /,
    );
    assert.match(
      await raw(gw.port, `GET /p/1 HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`),
      /^HTTP\/1\.1 431 /,
    );
    assert.match(
      await raw(gw.port, 'GET http://evil.example/p/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      /^HTTP\/1\.1 400 /,
    );
    const bad = await request(`${gw.url}/p/%E0%A4%A`);
    assert.equal(bad.statusCode, 400);
    assert.equal(((await bad.body.json()) as { code: string }).code, 'TG_ERR_BAD_REQUEST');
    assert.equal(up.seen.length, 0, 'nothing malformed reached the backend');
    const ok = await request(`${gw.url}/p/1`);
    assert.equal(ok.statusCode, 200);
    await ok.body.dump();
  });

  it('rejects a body larger than max_buffered_body for a multi-backend endpoint with 413', async (t) => {
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, {}));
    const gw = await startGateway(t, {
      max_buffered_body: 1024,
      endpoints: [
        {
          endpoint: '/fan',
          method: 'POST',
          backend: [
            { host: [up.url], url_pattern: '/a' },
            { host: [up.url], url_pattern: '/b' },
          ],
        },
      ],
    });
    const r = await request(`${gw.url}/fan`, { method: 'POST', body: Buffer.alloc(4096) });
    assert.equal(r.statusCode, 413);
    assert.equal(((await r.body.json()) as { code: string }).code, 'TG_ERR_BODY_TOO_LARGE');
  });
});
