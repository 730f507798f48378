import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { startGateway } from '../helpers/gateway.js';
import { deadPort, sendJson, startUpstream } from '../helpers/upstream.js';

describe('json merging pipeline', () => {
  it('substitutes {params}, keeps url_pattern query strings and uses the backend method', async (t) => {
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, { ok: true }));
    const gw = await startGateway(t, {
      endpoints: [
        {
          endpoint: '/users/{id}/posts/{post}',
          backend: [{ host: [up.url], url_pattern: '/u/{id}/p/{Post}?fields=all', method: 'POST' }],
        },
      ],
    });
    const r = await fetch(`${gw.url}/users/a%20b/posts/..%2F..%2Fadmin?ignored=1`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { ok: true });
    assert.equal(up.seen[0]?.method, 'POST');
    assert.equal(up.seen[0]?.url, '/u/a%20b/p/..%2F..%2Fadmin?fields=all');
  });

  it('calls every backend concurrently and merges with group, target, allow, deny and mapping', async (t) => {
    let arrived = 0;
    let release: () => void = () => {};
    const bothArrived = new Promise<void>((r) => (release = r));
    // Each backend answers only once both requests are in: this endpoint can only succeed if the
    // gateway calls them at the same time.
    const up = await startUpstream(t, (req, res) => {
      if (++arrived === 2) release();
      bothArrived
        .then(() => {
          if (req.url === '/user')
            sendJson(res, 200, { id: 1, name: 'ada', password: 'x', address: { city: 'London', zip: 'N1' } });
          else sendJson(res, 200, { data: { orders: [{ id: 'o1', total: 3, internal: true }], page: 1 } });
        })
        .catch(() => undefined);
    });
    const gw = await startGateway(t, {
      timeout: '2s',
      endpoints: [
        {
          endpoint: '/profile',
          backend: [
            { host: [up.url], url_pattern: '/user', deny: ['password', 'address.zip'], mapping: { name: 'full_name' } },
            {
              host: [up.url],
              url_pattern: '/orders',
              target: 'data',
              allow: ['orders.id', 'orders.total'],
              group: 'purchases',
            },
          ],
        },
      ],
    });
    const r = await fetch(`${gw.url}/profile`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-krakend-completed'), 'true');
    assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.deepEqual(await r.json(), {
      id: 1,
      full_name: 'ada',
      address: { city: 'London' },
      purchases: { orders: [{ id: 'o1', total: 3 }] },
    });
  });

  it('wraps collections, and serves json-collection and string output encodings', async (t) => {
    const up = await startUpstream(t, (req, res) => {
      if (req.url === '/list') sendJson(res, 200, [{ a: 1 }, { a: 2 }]);
      else {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('plain text');
      }
    });
    const gw = await startGateway(t, {
      host: [up.url],
      endpoints: [
        { endpoint: '/wrapped', backend: [{ url_pattern: '/list', is_collection: true }] },
        {
          endpoint: '/array',
          output_encoding: 'json-collection',
          backend: [{ url_pattern: '/list', is_collection: true }],
        },
        { endpoint: '/text', output_encoding: 'string', backend: [{ url_pattern: '/txt', encoding: 'string' }] },
        {
          endpoint: '/text-of-json',
          output_encoding: 'string',
          backend: [{ url_pattern: '/list', is_collection: true }],
        },
        { endpoint: '/bare', backend: [{ url_pattern: '/list' }] },
      ],
    });
    assert.deepEqual(await (await fetch(`${gw.url}/wrapped`)).json(), { collection: [{ a: 1 }, { a: 2 }] });
    assert.deepEqual(await (await fetch(`${gw.url}/array`)).json(), [{ a: 1 }, { a: 2 }]);
    assert.equal(await (await fetch(`${gw.url}/text`)).text(), 'plain text');
    // lura's string render writes "" when the data has no string `content` (not the data as JSON).
    const other = await fetch(`${gw.url}/text-of-json`);
    assert.equal(other.status, 200);
    assert.equal(other.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await other.text(), '');
    assert.equal(
      (await fetch(`${gw.url}/bare`)).status,
      500,
      'a bare array without is_collection is a decode failure, as in KrakenD',
    );
  });

  it('returns what succeeded with X-Krakend-Completed: false, and 500 with a JSON error when all fail', async (t) => {
    const up = await startUpstream(t, (req, res) => {
      if (req.url === '/ok') sendJson(res, 200, { a: 1 });
      else if (req.url === '/teapot') sendJson(res, 418, { b: 2 });
      else sendJson(res, 204, {});
    });
    const dead = `http://127.0.0.1:${await deadPort()}`;
    const gw = await startGateway(t, {
      endpoints: [
        {
          endpoint: '/partial',
          backend: [
            { host: [up.url], url_pattern: '/ok' },
            { host: [up.url], url_pattern: '/teapot' },
            { host: [dead], url_pattern: '/x' },
          ],
        },
        {
          endpoint: '/none',
          backend: [
            { host: [up.url], url_pattern: '/teapot' },
            { host: [dead], url_pattern: '/x' },
          ],
        },
      ],
    });
    const partial = await fetch(`${gw.url}/partial`);
    assert.equal(partial.status, 200);
    assert.equal(partial.headers.get('x-krakend-completed'), 'false');
    assert.deepEqual(await partial.json(), { a: 1 });
    const none = await fetch(`${gw.url}/none`);
    assert.equal(none.status, 500);
    assert.equal(none.headers.get('x-krakend-completed'), 'false');
    assert.deepEqual(await none.json(), {
      error: 'every backend of the endpoint failed',
      code: 'TG_ERR_ALL_BACKENDS_FAILED',
    });
  });

  it('forwards only listed query strings and headers, sets X-Forwarded-For/Host, sends bodies to write backends', async (t) => {
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, {}));
    const gw = await startGateway(t, {
      host: [up.url],
      endpoints: [
        {
          endpoint: '/search',
          method: 'POST',
          input_query_strings: ['q', 'page'],
          input_headers: ['Authorization', 'X-Tenant'],
          backend: [{ url_pattern: '/s' }, { url_pattern: '/audit', method: 'GET' }],
        },
        { endpoint: '/all', input_query_strings: ['*'], input_headers: ['*'], backend: [{ url_pattern: '/all' }] },
      ],
    });
    await fetch(`${gw.url}/search?q=toll&page=2&secret=1`, {
      method: 'POST',
      headers: {
        authorization: 'Bearer t',
        'x-tenant': 'acme',
        cookie: 'session=1',
        'x-forwarded-for': '203.0.113.9',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ hello: 'world' }),
    });
    const s = up.seen.find((r) => r.url.startsWith('/s'));
    const audit = up.seen.find((r) => r.url.startsWith('/audit'));
    // Sorted by key, as lura sends url.Values.Encode().
    assert.equal(s?.url, '/s?page=2&q=toll');
    assert.equal(s?.headers.authorization, 'Bearer t');
    assert.equal(s?.headers['x-tenant'], 'acme');
    assert.equal(s?.headers.cookie, undefined);
    assert.equal(s?.headers['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
    assert.equal(s?.headers['x-forwarded-host'], `127.0.0.1:${gw.port}`);
    assert.equal(s?.body, '{"hello":"world"}');
    assert.equal(s?.headers['content-type'], 'application/json');
    assert.equal(audit?.method, 'GET');
    assert.equal(audit?.body, '');
    await fetch(`${gw.url}/all?x=1&y=2`, { headers: { cookie: 'c=1' } });
    const all = up.seen.find((r) => r.url.startsWith('/all'));
    assert.equal(all?.url, '/all?x=1&y=2');
    assert.equal(all?.headers.cookie, 'c=1');
  });

  it('round-robins across the hosts of a backend', async (t) => {
    const a = await startUpstream(t, (_req, res) => sendJson(res, 200, { from: 'a' }));
    const b = await startUpstream(t, (_req, res) => sendJson(res, 200, { from: 'b' }));
    const gw = await startGateway(t, {
      host: [a.url, b.url],
      endpoints: [{ endpoint: '/rr', backend: [{ url_pattern: '/' }] }],
    });
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push(((await (await fetch(`${gw.url}/rr`)).json()) as { from: string }).from);
    assert.deepEqual(seen, ['a', 'b', 'a', 'b', 'a', 'b']);
  });

  it('decompresses a gzip answer when the client forwarded Accept-Encoding', async (t) => {
    const { gzipSync } = await import('node:zlib');
    const up = await startUpstream(t, (_req, res) => {
      const body = gzipSync(JSON.stringify({ zipped: true }));
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
        'content-length': body.length,
      });
      res.end(body);
    });
    const gw = await startGateway(t, {
      endpoints: [
        { endpoint: '/z', input_headers: ['Accept-Encoding'], backend: [{ host: [up.url], url_pattern: '/' }] },
      ],
    });
    assert.deepEqual(await (await fetch(`${gw.url}/z`)).json(), { zipped: true });
  });

  it('sets Cache-Control from cache_ttl', async (t) => {
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, {}));
    const gw = await startGateway(t, {
      endpoints: [{ endpoint: '/c', cache_ttl: '5m', backend: [{ host: [up.url], url_pattern: '/' }] }],
    });
    assert.equal((await fetch(`${gw.url}/c`)).headers.get('cache-control'), 'public, max-age=300');
  });
});
