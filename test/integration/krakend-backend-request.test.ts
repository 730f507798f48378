/**
 * What a backend receives, as KrakenD sends it (issue 18): url_pattern placeholders filled in the
 * query string too, X-Forwarded-Via when the client's User-Agent is forwarded, and Accept-Encoding:
 * gzip asked for (and decoded) on merging endpoints.
 */
import { strict as assert } from 'node:assert';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { gzipSync } from 'node:zlib';
import { VERSION } from '../../src/version.js';
import { startGateway } from '../helpers/gateway.js';
import { closeServer, sendJson, startUpstream } from '../helpers/upstream.js';

describe('what backends receive', () => {
  it('fills {params} in the query string of url_pattern, escaped as query values', async (t) => {
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, { ok: true }));
    const gw = await startGateway(t, {
      endpoints: [
        {
          endpoint: '/param_forwarding/{foo}/{code}',
          input_query_strings: ['x'],
          backend: [{ host: [up.url], url_pattern: '/param_forwarding/?foo={foo}&status={Code}' }],
        },
      ],
    });
    const r = await fetch(`${gw.url}/param_forwarding/a%26b%3Dc%20d/301?x=1&y=2`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { ok: true });
    assert.equal(up.seen[0]?.url, '/param_forwarding/?foo=a%26b%3Dc%20d&status=301&x=1');
  });

  it('sends its own User-Agent, or X-Forwarded-Via when the client User-Agent is forwarded', async (t) => {
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, {}));
    const gw = await startGateway(t, {
      endpoints: [
        { endpoint: '/own', backend: [{ host: [up.url], url_pattern: '/own' }] },
        { endpoint: '/fwd', input_headers: ['User-Agent'], backend: [{ host: [up.url], url_pattern: '/fwd' }] },
      ],
    });
    await (await fetch(`${gw.url}/own`, { headers: { 'user-agent': 'client/1' } })).arrayBuffer();
    await (await fetch(`${gw.url}/fwd`, { headers: { 'user-agent': 'client/1' } })).arrayBuffer();
    const own = up.seen.find((s) => s.url === '/own');
    const fwd = up.seen.find((s) => s.url === '/fwd');
    assert.equal(own?.headers['user-agent'], `Tollgate/${VERSION}`);
    assert.equal(own?.headers['x-forwarded-via'], undefined);
    assert.equal(fwd?.headers['user-agent'], 'client/1');
    assert.equal(fwd?.headers['x-forwarded-via'], `Tollgate/${VERSION}`);
  });

  it('asks merging backends for gzip and decodes the answer before merging', async (t) => {
    const up = await startUpstream(t, (req, res) => {
      const plain = Buffer.from(JSON.stringify({ from: req.url }));
      const gz = req.headers['accept-encoding'] === 'gzip';
      const body = gz ? gzipSync(plain) : plain;
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': body.length,
        ...(gz ? { 'content-encoding': 'gzip' } : {}),
      });
      res.end(body);
    });
    const gw = await startGateway(t, {
      endpoints: [
        {
          endpoint: '/merged',
          backend: [
            { host: [up.url], url_pattern: '/a', group: 'a' },
            { host: [up.url], url_pattern: '/b', group: 'b' },
          ],
        },
        { endpoint: '/noop', output_encoding: 'no-op', backend: [{ host: [up.url], url_pattern: '/n' }] },
      ],
    });
    const r = await fetch(`${gw.url}/merged`, { headers: { 'accept-encoding': 'identity' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-encoding'), null);
    assert.deepEqual(await r.json(), { a: { from: '/a' }, b: { from: '/b' } });
    assert.deepEqual(
      up.seen.map((s) => s.headers['accept-encoding']),
      ['gzip', 'gzip'],
    );
    // no-op relays the backend's bytes untouched, so it does not ask for an encoding the client did
    // not ask for (docs/differences.md: Go's transport would ask for gzip and relay it decoded).
    const n = await fetch(`${gw.url}/noop`, { headers: { 'accept-encoding': 'identity' } });
    assert.deepEqual(await n.json(), { from: '/n' });
    assert.equal(up.seen[2]?.headers['accept-encoding'], undefined);
  });
});

/** A server on another loopback address (127.0.0.2): another host, for the header-dropping rule. */
async function otherHost(t: TestContext, handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    req.resume();
    req.on('end', () => handler(req, res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.2', r));
  t.after(() => closeServer(server));
  return { url: `http://127.0.0.2:${(server.address() as AddressInfo).port}`, seen };
}

describe("backend redirects, followed as Go's client does", () => {
  it('turns a POST into a body-less GET on 302 and sets Referer; the merged answer is the final one', async (t) => {
    const up = await startUpstream(t, (req, res) => {
      if (req.url === '/start') {
        res.writeHead(302, { location: '/final?x=1', 'content-length': 4 });
        res.end('gone');
      } else sendJson(res, 200, { final: true });
    });
    const gw = await startGateway(t, {
      endpoints: [
        {
          endpoint: '/r',
          method: 'POST',
          input_headers: ['Authorization', 'Content-Type'],
          backend: [{ host: [up.url], url_pattern: '/start' }],
        },
        // no-op too: Go's client follows below lura's proxy, whatever the encoding.
        { endpoint: '/raw', output_encoding: 'no-op', backend: [{ host: [up.url], url_pattern: '/start' }] },
      ],
    });
    const r = await fetch(`${gw.url}/r`, {
      method: 'POST',
      headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { final: true });
    assert.deepEqual(
      up.seen.map((s) => [s.method, s.url, s.body]),
      [
        ['POST', '/start', '{"a":1}'],
        ['GET', '/final?x=1', ''],
      ],
    );
    const second = up.seen[1]?.headers;
    assert.equal(second?.['content-length'], undefined);
    assert.equal(second?.referer, `${up.url}/start`);
    assert.equal(second?.authorization, 'Bearer t', 'same host: credentials kept');
    const raw = await fetch(`${gw.url}/raw`, { redirect: 'manual' });
    assert.equal(raw.status, 200);
    assert.equal(await raw.text(), '{"final":true}');
    assert.deepEqual(
      up.seen.slice(2).map((s) => s.url),
      ['/start', '/final?x=1'],
    );
  });

  it('keeps the method on 307 without a body, and drops credentials on a redirect to another host', async (t) => {
    const other = await otherHost(t, (_req, res) => sendJson(res, 200, { other: true }));
    const up = await startUpstream(t, (_req, res) => {
      res.writeHead(307, { location: `${other.url}/there`, 'content-length': 0 });
      res.end();
    });
    const gw = await startGateway(t, {
      endpoints: [
        {
          endpoint: '/d',
          method: 'DELETE',
          input_headers: ['Authorization', 'Cookie', 'X-Keep'],
          backend: [{ host: [up.url], url_pattern: '/here' }],
        },
      ],
    });
    const r = await fetch(`${gw.url}/d`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer t', cookie: 'c=1', 'x-keep': 'k' },
    });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { other: true });
    const seen = other.seen[0];
    assert.equal(seen?.method, 'DELETE');
    assert.equal(seen?.url, '/there');
    assert.equal(seen?.headers.authorization, undefined);
    assert.equal(seen?.headers.cookie, undefined);
    assert.equal(seen?.headers['x-keep'], 'k');
    assert.equal(seen?.headers.referer, `${up.url}/here`);
  });

  it('answers with the 307 itself when the body cannot be sent again (lura without send_body_on_redirect)', async (t) => {
    const up = await startUpstream(t, (_req, res) => {
      res.writeHead(307, { location: '/elsewhere', 'content-length': 0 });
      res.end();
    });
    const gw = await startGateway(t, {
      endpoints: [
        {
          endpoint: '/p',
          method: 'POST',
          output_encoding: 'no-op',
          backend: [{ host: [up.url], url_pattern: '/p' }],
        },
      ],
    });
    const r = await fetch(`${gw.url}/p`, { method: 'POST', body: 'x', redirect: 'manual' });
    assert.equal(r.status, 307);
    assert.equal(r.headers.get('location'), '/elsewhere');
    await r.arrayBuffer();
    assert.equal(up.seen.length, 1);
  });

  it('fails the backend on the 10th redirect answer (Go sends at most 10 requests)', async (t) => {
    const up = await startUpstream(t, (req, res) => {
      const n = Number(req.url?.slice(1));
      if (n >= Number(req.headers['x-stop'] ?? 99)) return sendJson(res, 200, { n });
      res.writeHead(301, { location: `/${n + 1}`, 'content-length': 0 });
      res.end();
    });
    const gw = await startGateway(t, {
      endpoints: [
        { endpoint: '/loop', backend: [{ host: [up.url], url_pattern: '/1' }] },
        { endpoint: '/nine', input_headers: ['X-Stop'], backend: [{ host: [up.url], url_pattern: '/1' }] },
      ],
    });
    const ok = await fetch(`${gw.url}/nine`, { headers: { 'x-stop': '10' } });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { n: 10 });
    assert.equal(up.seen.length, 10);
    const r = await fetch(`${gw.url}/loop`);
    assert.equal(r.status, 500);
    await r.arrayBuffer();
    assert.equal(up.seen.length, 20);
  });

  it('times out a redirect chain whose next hop never answers, and drops the redirect bodies', async (t) => {
    const hung: ServerResponse[] = [];
    const up = await startUpstream(t, (req, res) => {
      if (req.url === '/hang') {
        hung.push(res);
        return;
      }
      res.writeHead(302, { location: req.url === '/a' ? '/b' : '/hang', 'content-type': 'text/plain' });
      res.end('a redirect body the client never sees');
    });
    t.after(() => hung.forEach((r) => r.destroy()));
    const gw = await startGateway(t, {
      endpoints: [
        { endpoint: '/json', timeout: '300ms', backend: [{ host: [up.url], url_pattern: '/a' }] },
        {
          endpoint: '/raw',
          output_encoding: 'no-op',
          timeout: '300ms',
          backend: [{ host: [up.url], url_pattern: '/a' }],
        },
      ],
    });
    // As any backend that does not answer within the endpoint timeout: the merge fails (every backend
    // failed), no-op relays the timeout (TG_ERR_BACKEND_TIMEOUT).
    for (const [path, status] of [
      ['/json', 500],
      ['/raw', 504],
    ] as const) {
      const r = await fetch(`${gw.url}${path}`, { redirect: 'manual' });
      const body = await r.text();
      assert.equal(r.status, status, `${path} ${body}`);
      assert.ok(!body.includes('redirect body'), body);
    }
    assert.deepEqual(
      up.seen.map((s) => s.url),
      ['/a', '/b', '/hang', '/a', '/b', '/hang'],
    );
  });

  it('with backend/http/client no_redirect, the 3xx is the answer: relayed by no-op, a failure for json', async (t) => {
    const up = await startUpstream(t, (_req, res) => {
      res.writeHead(302, { location: '/final', 'content-length': 0 });
      res.end();
    });
    const noRedirect = { 'backend/http/client': { no_redirect: true } };
    const gw = await startGateway(t, {
      endpoints: [
        {
          endpoint: '/raw',
          output_encoding: 'no-op',
          backend: [{ host: [up.url], url_pattern: '/x', extra_config: noRedirect }],
        },
        { endpoint: '/json', backend: [{ host: [up.url], url_pattern: '/x', extra_config: noRedirect }] },
      ],
    });
    const raw = await fetch(`${gw.url}/raw`, { redirect: 'manual' });
    assert.equal(raw.status, 302);
    assert.equal(raw.headers.get('location'), '/final');
    await raw.arrayBuffer();
    const json = await fetch(`${gw.url}/json`, { redirect: 'manual' });
    assert.equal(json.status, 500);
    await json.arrayBuffer();
    assert.deepEqual(
      up.seen.map((s) => s.url),
      ['/x', '/x'],
    );
  });
});
