/**
 * Small inconsistencies a first hour with Tollgate ran into (issue 16): the spelling of KrakenD's
 * completeness header on the wire, Kong's key-auth challenge, KrakenD duration strings in
 * `backend/healthcheck`, and the dashboard's backend column (pattern as written, errors as labelled).
 */
import { strict as assert } from 'node:assert';
import { get } from 'node:http';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { ConfigError, loadConfigValue } from '../../src/config/load.js';
import { freePort } from '../helpers/cli.js';
import { startGateway } from '../helpers/gateway.js';
import { sendJson, startUpstream } from '../helpers/upstream.js';

/** Header names exactly as they came over the wire (fetch and undici lower-case them). */
function rawHeaderNames(url: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      res.resume();
      res.on('end', () => resolve(res.rawHeaders.filter((_, i) => i % 2 === 0)));
    }).on('error', reject);
  });
}

describe('first hour: consistent answers', () => {
  it('sends X-Krakend-Completed spelled as lura writes it, on a complete, a partial and an all-failed answer', async (t) => {
    const up = await startUpstream(t, (req, res) =>
      req.url === '/ok' ? sendJson(res, 200, { ok: true }) : sendJson(res, 503, {}),
    );
    const gw = await startGateway(t, {
      endpoints: [
        { endpoint: '/complete', backend: [{ host: [up.url], url_pattern: '/ok' }] },
        {
          endpoint: '/partial',
          backend: [
            { host: [up.url], url_pattern: '/ok' },
            { host: [up.url], url_pattern: '/bad', group: 'b' },
          ],
        },
        { endpoint: '/none', backend: [{ host: [up.url], url_pattern: '/bad' }] },
      ],
    });
    for (const path of ['/complete', '/partial', '/none']) {
      const names = (await rawHeaderNames(`${gw.url}${path}`)).filter((n) => n.toLowerCase() === 'x-krakend-completed');
      assert.deepEqual(names, ['X-Krakend-Completed'], path);
    }
  });

  it("auth/api-keys: a 401 says whether the key was missing or unknown and challenges as Kong's key-auth does", async (t) => {
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, { ok: true }));
    const endpoints = [
      { endpoint: '/p', extra_config: { 'auth/api-keys': {} }, backend: [{ host: [up.url], url_pattern: '/p' }] },
      {
        endpoint: '/gold',
        extra_config: { 'auth/api-keys': { roles: ['gold'] } },
        backend: [{ host: [up.url], url_pattern: '/p' }],
      },
    ];
    const keys = [{ key: 'k-1', consumer: 'acme' }];
    const header = await startGateway(t, {
      extra_config: { 'auth/api-keys': { strategy: 'header', identifier: 'apikey', keys } },
      endpoints,
    });
    const query = await startGateway(t, {
      extra_config: { 'auth/api-keys': { strategy: 'query_string', identifier: 'apikey', keys } },
      endpoints,
    });
    const bearer = await startGateway(t, { extra_config: { 'auth/api-keys': { keys } }, endpoints });
    const cases: [string, Record<string, string>, string, string][] = [
      [`${header.url}/p`, {}, 'No API key found in request', 'Key realm="tollgate"'],
      [`${header.url}/p`, { apikey: 'nope' }, 'Invalid authentication credentials', 'Key realm="tollgate"'],
      [`${query.url}/p`, {}, 'No API key found in request', 'Key realm="tollgate"'],
      [`${query.url}/p?apikey=nope`, {}, 'Invalid authentication credentials', 'Key realm="tollgate"'],
      [`${bearer.url}/p`, {}, 'No API key found in request', 'Bearer'],
      [`${bearer.url}/p`, { authorization: 'Bearer nope' }, 'Invalid authentication credentials', 'Bearer'],
    ];
    for (const [url, headers, message, challenge] of cases) {
      const r = await request(url, { headers });
      assert.equal(r.statusCode, 401, url);
      assert.equal(r.headers['www-authenticate'], challenge, url);
      assert.deepEqual(await r.body.json(), { error: message, code: 'TG_ERR_UNAUTHORIZED' });
    }
    const ok = await request(`${header.url}/p`, { headers: { apikey: 'k-1' } });
    assert.equal(ok.statusCode, 200);
    await ok.body.dump();
    // A known key without the role: 403, and no challenge (another key would not help the client).
    const forbidden = await request(`${header.url}/gold`, { headers: { apikey: 'k-1' } });
    assert.equal(forbidden.statusCode, 403);
    assert.equal(forbidden.headers['www-authenticate'], undefined);
    await forbidden.body.dump();
  });

  it('backend/healthcheck takes KrakenD duration strings ("100ms", "1s") as well as Kong seconds', async (t) => {
    let probes = 0;
    const up = await startUpstream(t, (req, res) => {
      if (req.url === '/health') probes++;
      sendJson(res, 200, { ok: true });
    });
    const endpoints = (active: Record<string, unknown>): unknown[] => [
      {
        endpoint: '/a',
        backend: [
          {
            host: [up.url],
            url_pattern: '/a',
            extra_config: { 'backend/healthcheck': { active: { http_path: '/health', ...active } } },
          },
        ],
      },
    ];
    const check = (active: Record<string, unknown>): Record<string, unknown> => ({
      version: 3,
      endpoints: endpoints(active),
    });
    loadConfigValue(check({ interval: 5, timeout: 0.5 }), 'kong-seconds.json');
    assert.throws(
      () => loadConfigValue(check({ interval: '5 s' }), 'bad.json'),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.issues.some((i) => i.path.includes('backend/healthcheck') && i.path.endsWith('interval')),
    );
    await startGateway(t, { endpoints: endpoints({ interval: '100ms', timeout: '1s' }) });
    const started = Date.now();
    while (probes < 3 && Date.now() - started < 5_000) await new Promise((r) => setTimeout(r, 50));
    assert.ok(probes >= 3, `${probes} probes in ${Date.now() - started} ms with interval "100ms"`);
    assert.ok(
      Date.now() - started < 2_000,
      `3 probes took ${Date.now() - started} ms: the interval was not read as 100 ms`,
    );
  });

  it('dashboard backends: the url_pattern as written, and a column of failures and 5xx (not 4xx)', async (t) => {
    const up = await startUpstream(t, (req, res) =>
      sendJson(res, req.url?.startsWith('/files/missing') ? 404 : req.url?.startsWith('/files/broken') ? 502 : 200, {}),
    );
    const dashPort = await freePort();
    const gw = await startGateway(t, {
      extra_config: { 'telemetry/dashboard': { listen_address: `127.0.0.1:${dashPort}` } },
      endpoints: [{ endpoint: '/files/{name}', backend: [{ host: [up.url], url_pattern: '/files/{name}' }] }],
    });
    for (const p of ['/files/a', '/files/missing', '/files/missing', '/files/broken'])
      await (await request(`${gw.url}${p}`)).body.dump();
    await gw.gateway.telemetry.dashboard?.tick();
    const s = (await (await request(`http://127.0.0.1:${dashPort}/api/state`)).body.json()) as {
      backends: { route: string; backend: string; requests: number; errors: number }[];
    };
    const files = s.backends.find((b) => b.route === '/files/{name}');
    assert.equal(files?.backend, '/files/{name}');
    // The two 404s are not in it; the 502 is (calls without an answer are: test/integration/dashboard.test.ts).
    assert.deepEqual([files?.requests, files?.errors], [4, 1]);
    const page = await (await request(`http://127.0.0.1:${dashPort}/`)).body.text();
    assert.match(page, /<th class="num" title="[^"]*4xx answers are not counted here">5xx \+ failed<\/th>/);
  });
});
