/**
 * Security defaults: side listeners on loopback unless configured, the protections of the Kong status
 * listener and the dashboard, secrets kept out of every output, header hygiene both ways and an
 * X-Forwarded-For that is appended to rather than believed.
 */
import { strict as assert } from 'node:assert';
import { describe, it, type TestContext } from 'node:test';
import { request } from 'undici';
import { loadConfigValue } from '../../src/config/load.js';
import type { GatewayConfig } from '../../src/config/types.js';
import { Gateway } from '../../src/server/gateway.js';
import { memoryLogger, startGateway } from '../helpers/gateway.js';
import { deadPort, sendJson, startUpstream } from '../helpers/upstream.js';
import { title } from './cases.js';
import { eventually, rawRequest, startRawUpstream } from './support.js';

async function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; headers: Record<string, string | string[] | undefined> }> {
  const r = await request(url, { headers, reset: true });
  return { status: r.statusCode, text: await r.body.text(), headers: r.headers };
}

/** Starts a gateway from a loaded config with every listener port moved to 0, hosts kept as parsed. */
async function startOnFreePorts(
  t: TestContext,
  config: GatewayConfig,
  level: 'warn' | 'debug' = 'warn',
): Promise<{ gateway: Gateway; port: number; lines: Record<string, unknown>[] }> {
  const c = {
    ...config,
    port: 0,
    listenIp: '127.0.0.1',
    kong: config.kong && { ...config.kong, listenPort: 0 },
    stats: config.stats && { ...config.stats, listenPort: 0 },
    dashboard: config.dashboard && { ...config.dashboard, listenPort: 0 },
    otel: config.otel && { ...config.otel, prometheus: config.otel.prometheus.map((p) => ({ ...p, port: 0 })) },
  } as GatewayConfig;
  const { logger, lines } = memoryLogger(level);
  const gateway = new Gateway(c, { logger });
  const { port } = await gateway.start();
  t.after(() => gateway.close(1_000));
  return { gateway, port, lines };
}

const SIDE_LISTENERS = {
  'telemetry/opentelemetry': { exporters: { prometheus: [{ name: 'p' }] } },
  'telemetry/metrics': {},
  'telemetry/kong-prometheus': {},
  'telemetry/dashboard': {},
};

describe('security defaults', () => {
  it(title('security-loopback-defaults'), async (t) => {
    const { config } = loadConfigValue({ version: 3, extra_config: SIDE_LISTENERS, endpoints: [] }, 'defaults.json');
    assert.deepEqual(
      [
        config.otel?.prometheus[0]?.listenIp,
        config.stats?.listenHost,
        config.kong?.listenHost,
        config.dashboard?.listenHost,
      ],
      ['127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.1'],
    );
    const { gateway } = await startOnFreePorts(t, config);
    const t2 = gateway.telemetry;
    assert.deepEqual(
      [
        t2.exporters[0]?.address?.address,
        t2.stats?.address?.address,
        t2.kongStatus?.address?.address,
        t2.dashboard?.address?.address,
      ],
      ['127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.1'],
      'every side listener is bound to loopback',
    );
    // Only an explicit address opens them wider (KrakenD's ":port" means every interface).
    const wide = loadConfigValue(
      {
        version: 3,
        extra_config: {
          'telemetry/opentelemetry': { exporters: { prometheus: [{ name: 'p', listen_ip: '0.0.0.0' }] } },
          'telemetry/metrics': { listen_address: ':8090' },
          'telemetry/kong-prometheus': { listen_address: ':8100' },
          'telemetry/dashboard': { listen_address: '0.0.0.0:8091' },
        },
        endpoints: [],
      },
      'wide.json',
    ).config;
    assert.deepEqual(
      [wide.otel?.prometheus[0]?.listenIp, wide.stats?.listenHost, wide.kong?.listenHost, wide.dashboard?.listenHost],
      ['0.0.0.0', '', '', '0.0.0.0'],
    );
  });

  it(title('security-kong-protection'), async (t) => {
    const kong = async (settings: Record<string, unknown>): Promise<string> => {
      const gw = await startGateway(t, {
        extra_config: { 'telemetry/kong-prometheus': { listen_address: '127.0.0.1:0', ...settings } },
        endpoints: [],
      });
      return `http://127.0.0.1:${gw.gateway.telemetry.kongStatus?.address?.port}/metrics`;
    };
    const denied = await kong({ allow: ['10.0.0.0/8'] });
    assert.equal((await get(denied)).status, 403);
    assert.equal(
      (await get(denied, { 'x-forwarded-for': '10.1.2.3', 'x-real-ip': '10.1.2.3' })).status,
      403,
      'the socket address decides, not a header',
    );
    assert.equal((await get(await kong({ allow: ['127.0.0.0/8'] }))).status, 200);
    assert.equal((await get(await kong({ allow: ['::1', '127.0.0.1'] }))).status, 200);
    const tokened = await kong({ token: 'kong-token-1' });
    for (const auth of [undefined, 'Bearer wrong', 'Bearer kong-token-1x', 'bearer kong-token-1', 'kong-token-1']) {
      const r = await get(tokened, auth === undefined ? {} : { authorization: auth });
      assert.equal(r.status, 401, String(auth));
      assert.ok(!r.text.includes('kong-token-1'), 'the token is not echoed');
    }
    assert.equal((await get(tokened, { authorization: 'Bearer kong-token-1' })).status, 200);
    const both = await kong({ token: 'kong-token-1', allow: ['10.0.0.0/8'] });
    assert.equal(
      (await get(both, { authorization: 'Bearer kong-token-1' })).status,
      403,
      'a token does not open a network that is not allowed',
    );
  });

  it(title('security-dashboard-token'), async (t) => {
    const gw = await startGateway(t, {
      extra_config: { 'telemetry/dashboard': { listen_address: '127.0.0.1:0', token: 'dash-token-1' } },
      endpoints: [],
    });
    const base = `http://127.0.0.1:${gw.gateway.telemetry.dashboard?.address?.port}`;
    for (const path of ['/', '/index.html', '/api/state', '/assets/app.js', '/api/state?token=dash-token-1']) {
      const r = await get(`${base}${path}`);
      assert.equal(r.status, 401, path);
      assert.ok(!r.text.includes('dash-token-1'));
    }
    assert.equal((await get(`${base}/api/state`, { authorization: 'Bearer nope' })).status, 401);
    assert.equal((await get(`${base}/api/state`, { authorization: 'Bearer dash-token-1' })).status, 200);
    const login = await get(`${base}/?token=dash-token-1`);
    assert.equal(login.status, 303);
    assert.equal(login.headers.location, '/', 'the token leaves the address bar');
    const cookie = String(login.headers['set-cookie']);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.equal((await get(`${base}/api/state`, { cookie: cookie.split(';')[0] as string })).status, 200);
    assert.equal((await get(`${base}/?token=wrong`)).status, 401);
  });

  for (const influx of ['v1', 'v2'] as const) {
    it(`${title('security-secrets')} (InfluxDB ${influx})`, async (t) => {
      const secrets = [
        'influx-pw-S3CR3T',
        'influx-token-S3CR3T',
        'otlp-auth-S3CR3T',
        'otlp-hdr-S3CR3T',
        'apikey-S3CR3T',
        'dash-token-S3CR3T',
        'kong-token-S3CR3T',
      ];
      const up = await startUpstream(t, (_req, res) => sendJson(res, 200, { ok: true }));
      const dead = `http://127.0.0.1:${await deadPort()}`;
      const { config } = loadConfigValue(
        {
          version: 3,
          debug_endpoint: true,
          extra_config: {
            'auth/api-keys': { keys: [{ key: 'apikey-S3CR3T', consumer: 'acme' }] },
            'telemetry/opentelemetry': {
              metric_reporting_period: 1,
              exporters: {
                prometheus: [{ name: 'p' }],
                otlp: [
                  {
                    name: 'o',
                    host: '127.0.0.1',
                    port: await deadPort(),
                    use_http: true,
                    headers: { authorization: 'Bearer otlp-auth-S3CR3T', 'x-token': 'otlp-hdr-S3CR3T' },
                  },
                ],
              },
            },
            'telemetry/metrics': { collection_time: '100ms' },
            'telemetry/influx':
              influx === 'v1'
                ? { address: dead, ttl: '100ms', username: 'admin', password: 'influx-pw-S3CR3T' }
                : { address: dead, ttl: '100ms', token: 'influx-token-S3CR3T', org: 'o', bucket: 'b' },
            'telemetry/kong-prometheus': { token: 'kong-token-S3CR3T', per_consumer: true, status_code_metrics: true },
            'telemetry/dashboard': { token: 'dash-token-S3CR3T' },
          },
          endpoints: [
            {
              endpoint: '/keyed',
              extra_config: { 'auth/api-keys': {} },
              backend: [{ host: [up.url], url_pattern: '/k' }],
            },
          ],
        },
        'secrets.json',
      );
      const { gateway, port, lines } = await startOnFreePorts(t, config, 'debug');
      const gw = `http://127.0.0.1:${port}`;
      const tel = gateway.telemetry;
      const outputs: string[] = [];
      const keep = async (url: string, headers: Record<string, string> = {}): Promise<void> => {
        outputs.push((await get(url, headers)).text);
      };
      await keep(`${gw}/keyed`, { authorization: 'Bearer apikey-S3CR3T' });
      await keep(`${gw}/keyed`, { authorization: 'Bearer apikey-S3CR3T-guess' });
      await keep(`${gw}/keyed?key=apikey-S3CR3T`);
      await keep(`${gw}/__debug/x?key=apikey-S3CR3T`, {
        authorization: 'Bearer apikey-S3CR3T',
        cookie: 'tollgate_dashboard=dash-token-S3CR3T',
      });
      // Unmatched, with the key in the query: the dashboard's slow log keeps the path, never the query.
      await keep(`${gw}/nothing/here?key=apikey-S3CR3T`);
      await keep(`http://127.0.0.1:${tel.exporters[0]?.address?.port}/metrics`);
      await keep(`http://127.0.0.1:${tel.kongStatus?.address?.port}/metrics`, {
        authorization: 'Bearer kong-token-S3CR3T',
      });
      await keep(`http://127.0.0.1:${tel.kongStatus?.address?.port}/metrics`, {
        authorization: 'Bearer kong-token-S3CR3',
      });
      await keep(`http://127.0.0.1:${tel.stats?.address?.port}/__stats`);
      const dash = `http://127.0.0.1:${tel.dashboard?.address?.port}`;
      await tel.dashboard?.tick();
      await keep(`${dash}/api/state`, { authorization: 'Bearer dash-token-S3CR3T' });
      await keep(`${dash}/?token=wrong-S3CR3T`);
      await tel.influx?.push();
      assert.ok(
        await eventually(() => lines.some((l) => l.msg === "Couldn't write to InfluxDB"), 3_000),
        'the Influx failure is logged',
      );
      assert.ok(
        lines.some((l) => l.msg === 'debug endpoint called'),
        'the debug endpoint logs at debug level',
      );
      await gateway.close(1_000);
      const logText = lines.map((l) => JSON.stringify(l));
      for (const s of secrets) {
        assert.deepEqual(
          logText.filter((l) => l.includes(s)),
          [],
          `${s} in a log line`,
        );
        assert.deepEqual(
          outputs.filter((o) => o.includes(s)),
          [],
          `${s} in an output`,
        );
      }
      assert.ok(!logText.some((l) => l.includes('S3CR3T')) && !outputs.some((o) => o.includes('apikey-S3CR3T')));
      t.diagnostic(
        `${influx}: ${lines.length} log lines at debug level and ${outputs.length} outputs checked for ${secrets.length} secrets`,
      );
    });
  }

  it(title('security-hop-by-hop'), async (t) => {
    const up = await startUpstream(t, (req, res) => sendJson(res, 200, req.headers));
    // Several Connection lines in one response, as a backend may send them.
    const raw = await startRawUpstream(t, (s) =>
      s.write(
        'HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nConnection: x-one\r\nconnection: X-Two\r\nX-One: 1\r\nX-Two: 2\r\nX-Kept: 3\r\nKeep-Alive: timeout=9\r\nTrailer: x-t\r\nUpgrade: foo\r\nProxy-Authenticate: Basic\r\nProxy-Connection: keep-alive\r\nContent-Length: 2\r\n\r\n{}',
      ),
    );
    const gw = await startGateway(t, {
      endpoints: [
        {
          endpoint: '/req',
          output_encoding: 'no-op',
          input_headers: ['*'],
          backend: [{ host: [up.url], url_pattern: '/' }],
        },
        {
          endpoint: '/listed',
          output_encoding: 'no-op',
          input_headers: ['X-Req-Hop', 'X-Kept', 'Te', 'Upgrade'],
          backend: [{ host: [up.url], url_pattern: '/' }],
        },
        { endpoint: '/res', output_encoding: 'no-op', backend: [{ host: [raw.url], url_pattern: '/' }] },
      ],
    });
    const hop =
      'Connection: close, X-Req-Hop\r\nConnection: x-req-two\r\nX-Req-Hop: a\r\nX-Req-Two: b\r\nX-Kept: c\r\nKeep-Alive: 5\r\nTE: trailers\r\nProxy-Authorization: Basic eA==\r\nProxy-Connection: keep-alive\r\nUpgrade: h2c\r\n';
    for (const path of ['/req', '/listed']) {
      const a = await rawRequest(gw.port, `GET ${path} HTTP/1.1\r\nHost: gw\r\n${hop}\r\n`, 500);
      const body = JSON.parse(
        a.text.slice(a.text.indexOf('\r\n\r\n') + 4).replace(/^[0-9a-f]+\r\n|\r\n0\r\n\r\n$/g, ''),
      ) as Record<string, string>;
      for (const h of [
        'x-req-hop',
        'x-req-two',
        'keep-alive',
        'te',
        'proxy-authorization',
        'proxy-connection',
        'upgrade',
      ])
        assert.equal(body[h], undefined, `${path}: ${h} reached the backend`);
      assert.equal(body['x-kept'], 'c', `${path}: an end-to-end header is forwarded`);
    }
    const r = await get(`${gw.url}/res`);
    for (const h of ['x-one', 'x-two', 'trailer', 'upgrade', 'proxy-authenticate', 'proxy-connection'])
      assert.equal(r.headers[h], undefined, `${h} reached the client`);
    assert.notEqual(r.headers['keep-alive'], 'timeout=9', "the backend's Keep-Alive is not passed on");
    assert.equal(r.headers['x-kept'], '3');
  });

  it(title('security-xff'), async (t) => {
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, {}));
    const gw = await startGateway(t, {
      endpoints: [
        { endpoint: '/none', backend: [{ host: [up.url], url_pattern: '/none' }] },
        { endpoint: '/all', input_headers: ['*'], backend: [{ host: [up.url], url_pattern: '/all' }] },
      ],
    });
    const send = async (path: string, extra: string): Promise<Record<string, string | string[] | undefined>> => {
      const before = up.seen.length;
      await rawRequest(gw.port, `GET ${path} HTTP/1.1\r\nHost: gw.example\r\n${extra}Connection: close\r\n\r\n`);
      return up.seen[before]?.headers ?? {};
    };
    assert.equal((await send('/none', ''))['x-forwarded-for'], '127.0.0.1');
    assert.equal(
      (await send('/none', 'X-Forwarded-For: 1.2.3.4\r\n'))['x-forwarded-for'],
      '1.2.3.4, 127.0.0.1',
      'kept and appended to, even when not in input_headers',
    );
    assert.equal(
      (await send('/all', 'X-Forwarded-For: 1.2.3.4\r\nX-Forwarded-For: 5.6.7.8\r\n'))['x-forwarded-for'],
      '1.2.3.4, 5.6.7.8, 127.0.0.1',
    );
    assert.equal(
      (await send('/all', 'X-Forwarded-For: 127.0.0.1\r\n'))['x-forwarded-for'],
      '127.0.0.1, 127.0.0.1',
      'a spoofed loopback entry is not taken for the client',
    );
    const owned = await send('/all', 'X-Forwarded-Host: evil.example\r\nContent-Length: 0\r\n');
    assert.equal(owned['x-forwarded-host'], 'gw.example', "the client's X-Forwarded-Host is replaced");
    assert.equal(owned.host, `127.0.0.1:${up.port}`, 'Host is the backend');
  });
});
