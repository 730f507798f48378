/**
 * `security/cors` on real sockets, answered as KrakenD's rs/cors v1.11.1 answers (krakend-cors wraps
 * the whole router): browser-style preflights (origin, method, requested headers, private network),
 * wildcard and `*` origins, credentials, max_age, expose headers, options_passthrough and
 * options_success_status, `Vary` on every answer, and preflights counted in /metrics by their status.
 */
import { strict as assert } from 'node:assert';
import { describe, it, type TestContext } from 'node:test';
import { request } from 'undici';
import { loadConfigValue } from '../../src/config/load.js';
import { Gateway } from '../../src/server/gateway.js';
import { find, parseSamples } from '../helpers/exposition.js';
import { memoryLogger, startGateway, type RunningGateway } from '../helpers/gateway.js';
import { rawRequest, type RawAnswer } from '../helpers/security-raw-http.js';
import { sendJson, startUpstream, type Upstream } from '../helpers/upstream.js';

const PREFLIGHT_VARY = 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers';
const ALLOW_HEADERS = [
  'Access-Control-Allow-Origin',
  'Access-Control-Allow-Methods',
  'Access-Control-Allow-Headers',
  'Access-Control-Allow-Credentials',
  'Access-Control-Allow-Private-Network',
  'Access-Control-Max-Age',
  'Access-Control-Expose-Headers',
];

async function gateway(
  t: TestContext,
  cors: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Promise<{ gw: RunningGateway; up: Upstream }> {
  const up = await startUpstream(t, (req, res) => sendJson(res, 200, { method: req.method }));
  const backend = [{ host: [up.url], url_pattern: '/b' }];
  const gw = await startGateway(t, {
    extra_config: { 'security/cors': cors, ...extra },
    endpoints: [
      { endpoint: '/items', backend },
      { endpoint: '/items', method: 'POST', backend },
      { endpoint: '/options', method: 'OPTIONS', backend },
    ],
  });
  return { gw, up };
}

function preflight(
  port: number,
  origin: string | undefined,
  method: string,
  extra: [string, string][] = [],
  target = '/items',
): Promise<RawAnswer> {
  const headers: [string, string][] = [['Access-Control-Request-Method', method], ...extra];
  if (origin !== undefined) headers.unshift(['Origin', origin]);
  return rawRequest(port, { method: 'OPTIONS', target, headers });
}

/** A refused preflight: the success status all the same, and only Vary (the browser refuses it by the missing headers). */
function assertRefused(r: RawAnswer, vary = PREFLIGHT_VARY): void {
  assert.equal(r.status, 204);
  assert.deepEqual(r.all('Vary'), [vary]);
  for (const h of ALLOW_HEADERS) assert.equal(r.one(h), undefined, h);
  assert.equal(r.body, '');
}

const EXPLICIT = {
  allow_origins: ['http://localhost:3000', 'https://*.example.com'],
  allow_methods: ['GET', 'POST', 'PUT'],
  allow_headers: ['Origin', 'Authorization', 'Content-Type'],
  expose_headers: ['content-length', 'x-request-id'],
  allow_credentials: true,
  max_age: '12h',
};

describe('security/cors', () => {
  it('answers an allowed preflight itself, before routing, with the headers rs/cors sends', async (t) => {
    const { gw, up } = await gateway(t, EXPLICIT);
    for (const target of ['/items', '/no/such/path']) {
      const r = await preflight(
        gw.port,
        'http://localhost:3000',
        'PUT',
        [['Access-Control-Request-Headers', 'authorization,content-type']],
        target,
      );
      assert.equal(r.status, 204, target);
      assert.deepEqual(
        r.fields.filter(([n]) => n !== 'Date' && n !== 'Connection'),
        [
          ['Vary', PREFLIGHT_VARY],
          ['Access-Control-Allow-Origin', 'http://localhost:3000'],
          ['Access-Control-Allow-Methods', 'PUT'],
          ['Access-Control-Allow-Headers', 'authorization,content-type'],
          ['Access-Control-Allow-Credentials', 'true'],
          ['Access-Control-Max-Age', '43200'],
        ],
      );
      assert.equal(r.body, '');
    }
    assert.equal(up.seen.length, 0, 'a preflight never reaches a backend');
  });

  it('refuses a preflight by omission: unknown origin, no origin, method or header not allowed', async (t) => {
    const { gw, up } = await gateway(t, EXPLICIT);
    assertRefused(await preflight(gw.port, 'http://evil.test', 'GET'));
    assertRefused(await preflight(gw.port, undefined, 'GET'));
    assertRefused(await preflight(gw.port, 'http://localhost:3000', 'DELETE'));
    assertRefused(await preflight(gw.port, 'http://localhost:3000', 'get'), PREFLIGHT_VARY);
    const asking = (value: string): Promise<RawAnswer> =>
      preflight(gw.port, 'http://localhost:3000', 'GET', [['Access-Control-Request-Headers', value]]);
    assertRefused(await asking('x-other'));
    // The Fetch standard sends the names lower-cased, sorted and unique; rs/cors refuses anything else.
    assertRefused(await asking('content-type,authorization'));
    assertRefused(await asking('Authorization'));
    assertRefused(await asking('authorization,authorization'));
    assertRefused(await asking('authorization,  content-type'));
    // OPTIONS is always allowed, and up to one space around a name is tolerated.
    assert.equal(
      (await preflight(gw.port, 'http://localhost:3000', 'OPTIONS')).one('Access-Control-Allow-Methods'),
      'OPTIONS',
    );
    assert.equal(
      (await asking('authorization, content-type')).one('Access-Control-Allow-Headers'),
      'authorization, content-type',
    );
    assert.equal(up.seen.length, 0);
  });

  it('takes repeated Access-Control-Request-Headers fields in order and echoes each', async (t) => {
    const { gw } = await gateway(t, EXPLICIT);
    const r = await preflight(gw.port, 'http://localhost:3000', 'POST', [
      ['Access-Control-Request-Headers', 'authorization'],
      ['Access-Control-Request-Headers', 'content-type'],
    ]);
    assert.deepEqual(r.all('Access-Control-Allow-Headers'), ['authorization', 'content-type']);
    const empty = await preflight(gw.port, 'http://localhost:3000', 'POST', [['Access-Control-Request-Headers', '']]);
    assert.equal(empty.one('Access-Control-Allow-Origin'), 'http://localhost:3000');
    assert.equal(empty.one('Access-Control-Allow-Headers'), undefined, 'an empty list is echoed as nothing');
  });

  it('matches wildcard origins by their text around the *, case-insensitively, and echoes the origin as sent', async (t) => {
    const { gw } = await gateway(t, EXPLICIT);
    const allowed = async (origin: string): Promise<string | undefined> =>
      (await preflight(gw.port, origin, 'GET')).one('Access-Control-Allow-Origin');
    assert.equal(await allowed('https://api.example.com'), 'https://api.example.com');
    assert.equal(await allowed('HTTPS://A.B.Example.COM'), 'HTTPS://A.B.Example.COM');
    assert.equal(await allowed('https://example.com'), undefined);
    assert.equal(await allowed('http://api.example.com'), undefined);
    assert.equal(await allowed('https://api.example.com.evil.test'), undefined);
    assert.equal(await allowed('HTTP://LOCALHOST:3000'), 'HTTP://LOCALHOST:3000');
    assert.equal(await allowed('http://localhost:3001'), undefined);
  });

  it('with "*" (or no allow_origins) answers Access-Control-Allow-Origin: *, and any header with no allow_headers', async (t) => {
    for (const cors of [{ allow_origins: ['*'] }, {}]) {
      const { gw } = await gateway(t, cors);
      const r = await preflight(gw.port, 'https://anyone.test', 'POST', [
        ['Access-Control-Request-Headers', 'X-Anything,x-other'],
      ]);
      assert.equal(r.one('Access-Control-Allow-Origin'), '*');
      assert.equal(r.one('Access-Control-Allow-Headers'), 'X-Anything,x-other');
      assert.equal(r.one('Access-Control-Allow-Credentials'), undefined);
      assert.equal(r.one('Access-Control-Max-Age'), undefined);
      // rs/cors's default methods: GET, POST, HEAD.
      assertRefused(await preflight(gw.port, 'https://anyone.test', 'PUT'));
      const actual = await rawRequest(gw.port, { target: '/items', headers: [['Origin', 'https://anyone.test']] });
      assert.equal(actual.one('Access-Control-Allow-Origin'), '*');
      assert.equal(actual.one('Access-Control-Expose-Headers'), undefined);
    }
  });

  it('answers Access-Control-Allow-Private-Network only when asked and allowed, and varies on it', async (t) => {
    const { gw } = await gateway(t, { allow_private_network: true });
    const vary = `${PREFLIGHT_VARY}, Access-Control-Request-Private-Network`;
    const asked = await preflight(gw.port, 'https://public.test', 'GET', [
      ['Access-Control-Request-Private-Network', 'true'],
    ]);
    assert.deepEqual(asked.all('Vary'), [vary]);
    assert.equal(asked.one('Access-Control-Allow-Private-Network'), 'true');
    const notAsked = await preflight(gw.port, 'https://public.test', 'GET');
    assert.deepEqual(notAsked.all('Vary'), [vary]);
    assert.equal(notAsked.one('Access-Control-Allow-Private-Network'), undefined);
    const { gw: off } = await gateway(t, {});
    const refused = await preflight(off.port, 'https://public.test', 'GET', [
      ['Access-Control-Request-Private-Network', 'true'],
    ]);
    assert.deepEqual(refused.all('Vary'), [PREFLIGHT_VARY]);
    assert.equal(refused.one('Access-Control-Allow-Private-Network'), undefined);
    assert.equal(refused.one('Access-Control-Allow-Origin'), '*');
  });

  it('sends max_age in whole seconds, none for zero, 0 for a negative one', async (t) => {
    for (const [maxAge, header] of [
      ['90m', '5400'],
      ['1500ms', '1'],
      ['1h30m', '5400'],
      ['0s', undefined],
      ['500ms', undefined],
      ['-1s', '0'],
    ] as const) {
      const { gw } = await gateway(t, { max_age: maxAge });
      assert.equal((await preflight(gw.port, 'https://a.test', 'GET')).one('Access-Control-Max-Age'), header, maxAge);
    }
  });

  it('with options_passthrough sets the preflight headers and lets the router answer the OPTIONS request', async (t) => {
    const { gw, up } = await gateway(t, { ...EXPLICIT, options_passthrough: true });
    const routed = await preflight(gw.port, 'http://localhost:3000', 'GET', [], '/options');
    assert.equal(routed.status, 200);
    assert.deepEqual(JSON.parse(routed.body), { method: 'OPTIONS' });
    assert.equal(routed.one('Access-Control-Allow-Origin'), 'http://localhost:3000');
    assert.deepEqual(routed.all('Vary'), [PREFLIGHT_VARY]);
    assert.equal(up.seen.length, 1);
    const unrouted = await preflight(gw.port, 'http://localhost:3000', 'GET', [], '/items');
    assert.equal(unrouted.status, 405, "gin's 405: /items has no OPTIONS endpoint");
    assert.equal(unrouted.one('Access-Control-Allow-Methods'), 'GET');
    assert.equal(up.seen.length, 1);
  });

  it('answers options_success_status (with Content-Length: 0) instead of 204', async (t) => {
    const { gw } = await gateway(t, { options_success_status: 200 });
    const r = await preflight(gw.port, 'https://a.test', 'GET');
    assert.equal(r.status, 200);
    assert.equal(r.one('Content-Length'), '0');
    assert.equal(r.one('Access-Control-Allow-Origin'), '*');
  });

  it('adds Vary: Origin to every other answer, and the allow headers when the origin and method are allowed', async (t) => {
    const { gw, up } = await gateway(t, { ...EXPLICIT, allow_methods: ['GET'] });
    const ok = await rawRequest(gw.port, { target: '/items', headers: [['Origin', 'https://app.example.com']] });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.all('Vary'), ['Origin']);
    assert.equal(ok.one('Access-Control-Allow-Origin'), 'https://app.example.com');
    assert.equal(ok.one('Access-Control-Expose-Headers'), 'Content-Length, X-Request-Id');
    assert.equal(ok.one('Access-Control-Allow-Credentials'), 'true');
    assert.equal(ok.one('Access-Control-Allow-Methods'), undefined, 'only preflights list methods');
    // A method allow_methods lacks: the request still goes through, without the allow headers.
    const post = await rawRequest(gw.port, {
      method: 'POST',
      target: '/items',
      headers: [['Origin', 'https://app.example.com']],
      body: '{}',
    });
    assert.equal(post.status, 200);
    assert.deepEqual(post.all('Vary'), ['Origin']);
    assert.equal(post.one('Access-Control-Allow-Origin'), undefined);
    assert.equal(up.seen.length, 2);
    for (const headers of [[['Origin', 'http://evil.test']], []] as [string, string][][]) {
      const r = await rawRequest(gw.port, { target: '/items', headers });
      assert.equal(r.status, 200);
      assert.deepEqual(r.all('Vary'), ['Origin']);
      for (const h of ALLOW_HEADERS) assert.equal(r.one(h), undefined, h);
    }
    // Answers the gateway makes itself get them too: CORS wraps the whole router in KrakenD.
    for (const target of ['/nothing', '/__health']) {
      const r = await rawRequest(gw.port, { target, headers: [['Origin', 'http://localhost:3000']] });
      assert.deepEqual(r.all('Vary'), ['Origin'], target);
      assert.equal(r.one('Access-Control-Allow-Origin'), 'http://localhost:3000', target);
    }
  });

  it("keeps the gateway's headers on a no-op answer and adds the backend's after them, as lura's no-op render", async (t) => {
    const up = await startUpstream(t, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', vary: 'Accept-Encoding', 'x-krakend-completed': 'true' });
      res.end('raw');
    });
    const gw = await startGateway(t, {
      extra_config: { 'security/cors': EXPLICIT },
      endpoints: [
        {
          endpoint: '/raw',
          output_encoding: 'no-op',
          backend: [{ host: [up.url], url_pattern: '/r', encoding: 'no-op' }],
        },
      ],
    });
    const r = await rawRequest(gw.port, { target: '/raw', headers: [['Origin', 'https://app.example.com']] });
    assert.equal(r.status, 200);
    assert.match(r.body, /raw/);
    assert.deepEqual(r.all('Vary'), ['Origin', 'Accept-Encoding']);
    assert.deepEqual(r.all('X-Krakend-Completed'), ['false', 'true']);
    assert.equal(r.one('Access-Control-Allow-Origin'), 'https://app.example.com');
  });

  it('counts preflights in /metrics by their status, as requests no endpoint took', async (t) => {
    const { gw } = await gateway(t, EXPLICIT, {
      'telemetry/opentelemetry': {
        service_name: 'cors-test',
        exporters: { prometheus: [{ name: 'local', port: 0, listen_ip: '127.0.0.1' }] },
      },
    });
    await preflight(gw.port, 'http://localhost:3000', 'POST');
    await preflight(gw.port, 'http://evil.test', 'POST');
    await rawRequest(gw.port, { target: '/items', headers: [['Origin', 'http://localhost:3000']] });
    const port = gw.gateway.telemetry.exporters[0]?.address?.port;
    const text = await (await request(`http://127.0.0.1:${port}/metrics`)).body.text();
    const samples = parseSamples(text);
    const pre = find(samples, 'http_server_duration_count', {
      http_request_method: 'OPTIONS',
      http_route: '204 No Content',
    });
    assert.equal(pre.length, 1, text);
    assert.equal(pre[0]?.value, 2);
    assert.equal(pre[0]?.labels.http_response_status_code, '204');
    const items = find(samples, 'http_server_duration_count', {
      http_route: '/items',
      http_response_status_code: '200',
    });
    assert.equal(items[0]?.value, 1);
  });

  it("with debug logs each decision at debug level (as rs/cors through KrakenD's logger), and nothing without", async (t) => {
    for (const debug of [true, false]) {
      const { logger, lines } = memoryLogger('debug');
      const { config } = loadConfigValue(
        {
          version: 3,
          port: 0,
          listen_ip: '127.0.0.1',
          extra_config: { 'security/cors': { allow_origins: ['https://a.test'], debug } },
          endpoints: [{ endpoint: '/x', backend: [{ host: ['http://127.0.0.1:1'], url_pattern: '/' }] }],
        },
        'cors-debug.json',
      );
      const gw = new Gateway(config, { logger });
      const { port } = await gw.start();
      t.after(() => gw.close(500));
      await preflight(port, 'https://evil.test', 'GET');
      await preflight(port, 'https://a.test', 'GET');
      const cors = lines.filter((l) => String(l.msg).startsWith('CORS '));
      if (!debug) {
        assert.deepEqual(cors, []);
        continue;
      }
      assert.deepEqual(
        cors.map((l) => [l.level, l.msg, l.origin]),
        [
          ['debug', 'CORS preflight aborted: origin not allowed', 'https://evil.test'],
          ['debug', 'CORS preflight allowed', 'https://a.test'],
        ],
      );
    }
  });
});
