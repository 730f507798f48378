/**
 * `validation/json-schema` on real sockets: a recording upstream proves that a refused body never
 * reaches the backend and that an accepted one arrives byte for byte, on merging and no-op endpoints;
 * valid, invalid, empty, garbage, huge and deeply nested bodies; KrakenD's bare 400; the refusals
 * counted with their status by the OpenTelemetry, Kong and stats views and shown in the dashboard.
 */
import { strict as assert } from 'node:assert';
import { describe, it, type TestContext } from 'node:test';
import { request } from 'undici';
import { freePort } from '../helpers/cli.js';
import { find, parseSamples } from '../helpers/exposition.js';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { rawRequest, type RawAnswer } from '../helpers/security-raw-http.js';
import { sendJson, startUpstream, type Upstream } from '../helpers/upstream.js';
import type { DashboardState } from '../../src/telemetry/dashboard/dashboard-model.js';

const USER = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1 },
    age: { type: 'integer', minimum: 0 },
    tags: { type: 'array', items: { type: 'string' }, maxItems: 3 },
  },
  additionalProperties: false,
};

/** playground-enterprise's schema: Go (RE2) patterns, `(?i)` among them. */
const NO_SECRETS = {
  type: 'object',
  required: ['contents'],
  properties: {
    contents: {
      type: 'string',
      allOf: [
        { not: { pattern: '\\b\\d{4}[\\s\\-]?\\d{4}[\\s\\-]?\\d{4}[\\s\\-]?\\d{4}\\b' } },
        { not: { pattern: '(?i)password\\s*(is)?\\s*[:=]' } },
      ],
    },
  },
};

async function gateway(
  t: TestContext,
  extra: Record<string, unknown> = {},
  root: Record<string, unknown> = {},
): Promise<{ gw: RunningGateway; up: Upstream }> {
  const up = await startUpstream(t, (req, res, body) =>
    sendJson(res, 200, { got: body, type: req.headers['content-type'] ?? '' }),
  );
  const schema = (s: object): Record<string, unknown> => ({ 'validation/json-schema': s });
  const gw = await startGateway(t, {
    ...root,
    extra_config: extra,
    endpoints: [
      {
        endpoint: '/users',
        method: 'POST',
        extra_config: schema(USER),
        backend: [{ host: [up.url], url_pattern: '/u' }],
      },
      {
        endpoint: '/raw',
        method: 'PUT',
        output_encoding: 'no-op',
        extra_config: schema(USER),
        backend: [{ host: [up.url], url_pattern: '/r' }],
      },
      { endpoint: '/search', extra_config: schema({}), backend: [{ host: [up.url], url_pattern: '/s' }] },
      {
        endpoint: '/chat',
        method: 'POST',
        extra_config: schema(NO_SECRETS),
        backend: [{ host: [up.url], url_pattern: '/c' }],
      },
      { endpoint: '/free', method: 'POST', backend: [{ host: [up.url], url_pattern: '/f' }] },
    ],
  });
  return { gw, up };
}

function send(port: number, target: string, body: string | Buffer | undefined, method = 'POST'): Promise<RawAnswer> {
  return rawRequest(port, { method, target, body, headers: [['Content-Type', 'application/json']] });
}

/** KrakenD's answer to a proxy error with a status: the bare 400. */
function assertRefused(r: RawAnswer, what: string): void {
  assert.equal(r.status, 400, what);
  assert.equal(r.one('Content-Length'), '0', what);
  assert.equal(r.one('X-Krakend-Completed'), 'false', what);
  assert.equal(r.one('Content-Type'), undefined, what);
  assert.equal(r.body, '', what);
}

describe('validation/json-schema', () => {
  it('sends a matching body on as received, on merging and no-op endpoints', async (t) => {
    const { gw, up } = await gateway(t);
    const body = '{ "name": "ada", "age": 36, "tags": ["x"] }';
    const r = await send(gw.port, '/users', body);
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { got: body, type: 'application/json' });
    const raw = await send(gw.port, '/raw', body, 'PUT');
    assert.equal(raw.status, 200, raw.body);
    assert.equal(up.seen.length, 2);
    for (const seen of up.seen) {
      assert.equal(seen.body, body);
      assert.equal(seen.headers['content-length'], String(Buffer.byteLength(body)));
    }
  });

  it('answers a body the schema refuses with a bare 400, and the backend never sees it', async (t) => {
    const { gw, up } = await gateway(t);
    for (const body of [
      '{}',
      '{"name": ""}',
      '{"name": 7}',
      '{"name": "ada", "age": -1}',
      '{"name": "ada", "age": 1.5}',
      '{"name": "ada", "tags": ["a", "b", "c", "d"]}',
      '{"name": "ada", "admin": true}',
      '[]',
      '"ada"',
      'null',
    ]) {
      assertRefused(await send(gw.port, '/users', body), body);
      assertRefused(await send(gw.port, '/raw', body, 'PUT'), `no-op ${body}`);
    }
    assert.equal(up.seen.length, 0);
  });

  it('refuses empty, garbage and trailing-garbage bodies, and a GET without body', async (t) => {
    const { gw, up } = await gateway(t);
    for (const body of ['', '{not json', '{"name": "ada"} x', '{"name": "ada"}{}', '\u0000\u0001', '{"name": "ada"']) {
      assertRefused(await send(gw.port, '/users', body), JSON.stringify(body));
      assertRefused(await send(gw.port, '/raw', body, 'PUT'), `no-op ${JSON.stringify(body)}`);
    }
    assertRefused(await rawRequest(gw.port, { method: 'POST', target: '/users' }), 'no body at all');
    // Even the empty schema needs a JSON body (krakend-jsonschema: "could not validate an empty body").
    assertRefused(await rawRequest(gw.port, { target: '/search' }), 'GET');
    assert.equal((await rawRequest(gw.port, { method: 'GET', target: '/search', body: '[1]' })).status, 200);
    assert.equal(up.seen.length, 1);
    // An endpoint without the namespace is untouched.
    assert.equal((await send(gw.port, '/free', 'not json at all')).status, 200);
  });

  it('bounds what it reads by max_buffered_body (413) and what it parses by nesting depth', async (t) => {
    const { gw, up } = await gateway(t, {}, { max_buffered_body: 4096 });
    const huge = JSON.stringify({ name: 'x'.repeat(5000) });
    for (const [target, method] of [
      ['/users', 'POST'],
      ['/raw', 'PUT'],
    ] as const) {
      const r = await send(gw.port, target, huge, method);
      assert.equal(r.status, 413, target);
      assert.equal(JSON.parse(r.body).code, 'TG_ERR_BODY_TOO_LARGE');
    }
    const { gw: deep } = await gateway(t);
    assertRefused(await send(deep.port, '/search', `${'['.repeat(20_000)}${']'.repeat(20_000)}`, 'GET'), 'deep');
    assert.equal((await send(deep.port, '/search', `${'['.repeat(100)}${']'.repeat(100)}`, 'GET')).status, 200);
    assert.equal(up.seen.length, 0);
  });

  it("runs Go's regular expressions, (?i) included (playground-enterprise's schema)", async (t) => {
    const { gw, up } = await gateway(t);
    assert.equal((await send(gw.port, '/chat', '{"contents": "hello there"}')).status, 200);
    assertRefused(await send(gw.port, '/chat', '{"contents": "my PassWord is: hunter2"}'), 'password');
    assertRefused(await send(gw.port, '/chat', '{"contents": "card 4111 1111 1111 1111"}'), 'card');
    assert.equal(up.seen.length, 1);
  });

  it('counts refusals with their status in every family and shows them in the dashboard', async (t) => {
    const [kong, dash] = [await freePort(), await freePort()];
    const { gw } = await gateway(t, {
      'telemetry/opentelemetry': {
        service_name: 'schema-test',
        exporters: { prometheus: [{ name: 'local', port: 0, listen_ip: '127.0.0.1' }] },
      },
      'telemetry/kong-prometheus': { listen_address: `127.0.0.1:${kong}`, status_code_metrics: true },
      'telemetry/metrics': { listen_address: '127.0.0.1:0', collection_time: '100ms' },
      'telemetry/dashboard': { listen_address: `127.0.0.1:${dash}` },
    });
    for (let i = 0; i < 3; i++) await send(gw.port, '/users', '{}');
    await send(gw.port, '/users', '{"name": "ada"}');
    const otelPort = gw.gateway.telemetry.exporters[0]?.address?.port;
    const samples = parseSamples(await (await request(`http://127.0.0.1:${otelPort}/metrics`)).body.text());
    const server = (status: string): number | undefined =>
      find(samples, 'http_server_duration_count', { http_route: '/users', http_response_status_code: status })[0]
        ?.value;
    assert.equal(server('400'), 3);
    assert.equal(server('200'), 1);
    const proxy = find(samples, 'krakend_proxy_duration_count', { http_route: '/users', error: 'true' });
    assert.equal(proxy[0]?.value, 3, 'the refusal is a failed proxy stage, as in KrakenD');
    assert.equal(proxy[0]?.labels.complete, 'false');
    assert.equal(
      find(samples, 'krakend_backend_duration_count', { krakend_endpoint_route: '/users' }).reduce(
        (n, s) => n + s.value,
        0,
      ),
      1,
      'no backend stage for a refused body',
    );
    const kongText = await (await request(`http://127.0.0.1:${kong}/metrics`)).body.text();
    assert.match(
      kongText,
      /^kong_http_requests_total\{service="[^"]*",route="[^"]*",code="400",source="kong",[^}]*\} 3$/m,
    );
    const stats = (await (
      await request(`http://127.0.0.1:${gw.gateway.telemetry.stats?.address?.port}/__stats`)
    ).body.json()) as Record<string, unknown>;
    assert.equal(stats['krakend.router.response./users.status.400.count'], 3);
    assert.equal(stats['krakend.router.response./users.status.200.count'], 1);
    await gw.gateway.telemetry.dashboard?.tick();
    const state = (await (await request(`http://127.0.0.1:${dash}/api/state`)).body.json()) as DashboardState;
    assert.equal(state.statuses.find((s) => s.status === '400')?.requests, 3);
    assert.equal(state.routes.find((r) => r.route === '/users')?.requests, 4);
  });
});
