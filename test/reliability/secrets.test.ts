/**
 * API keys and other credentials never leave the gateway in what it exports: spans decoded by a real
 * OTLP receiver (every attribute of every span, events included), pino's log lines at debug level and
 * the /__debug output. Query values of the configured identifier and of the usual secret names, and
 * the values of credential headers when headers are reported, become `REDACTED`.
 */
import { strict as assert } from 'node:assert';
import { describe, it, type TestContext } from 'node:test';
import { request } from 'undici';
import { loadConfigValue } from '../../src/config/load.js';
import { Gateway } from '../../src/server/gateway.js';
import { memoryLogger } from '../helpers/gateway.js';
import { startOtlpReceiver, type FlatSpan, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { sendJson, startUpstream, type Upstream } from '../helpers/upstream.js';
import { title } from './cases.js';

interface Running {
  readonly url: string;
  readonly gateway: Gateway;
  readonly lines: Record<string, unknown>[];
}

/** A gateway logging at debug level into memory, tracing every request to `rx`. */
async function start(
  t: TestContext,
  rx: OtlpReceiver,
  up: Upstream,
  apiKeys: Record<string, unknown>,
): Promise<Running> {
  const { config } = loadConfigValue(
    {
      version: 3,
      port: 0,
      listen_ip: '127.0.0.1',
      debug_endpoint: true,
      extra_config: {
        'auth/api-keys': apiKeys,
        'telemetry/opentelemetry': {
          exporters: { otlp: [{ name: 'rx', host: '127.0.0.1', port: rx.grpcPort }] },
          layers: {
            global: { report_headers: true },
            proxy: { report_headers: true },
            backend: {
              traces: { round_trip: true, read_payload: true, detailed_connection: true, report_headers: true },
            },
          },
        },
      },
      endpoints: [
        {
          endpoint: '/keyed',
          input_query_strings: ['*'],
          input_headers: ['*'],
          extra_config: { 'auth/api-keys': {} },
          backend: [{ host: [up.url], url_pattern: '/k' }],
        },
        {
          endpoint: '/noop',
          output_encoding: 'no-op',
          input_query_strings: ['*'],
          input_headers: ['*'],
          backend: [{ host: [up.url], url_pattern: '/n', encoding: 'no-op' }],
        },
      ],
    },
    'secrets.json',
  );
  const { logger, lines } = memoryLogger('debug');
  const gateway = new Gateway(config, { logger });
  const { port } = await gateway.start();
  t.after(() => gateway.close(1_000));
  return { url: `http://127.0.0.1:${port}`, gateway, lines };
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const r = await request(url, { headers, reset: true });
  return { status: r.statusCode, text: await r.body.text() };
}

/** Every string an exported span carries: name, attribute keys and values, events, status message. */
function spanStrings(spans: readonly FlatSpan[]): string[] {
  return spans.map((s) => JSON.stringify(s));
}

function attr(spans: readonly FlatSpan[], kind: string, key: string, route: string): unknown[] {
  return spans
    .filter(
      (s) =>
        s.kind === kind && (s.attributes['http.route'] === route || s.attributes['krakend.endpoint.route'] === route),
    )
    .map((s) => s.attributes[key]);
}

function assertNowhere(secrets: readonly string[], places: Record<string, readonly string[]>): void {
  for (const s of secrets) {
    for (const [where, texts] of Object.entries(places))
      assert.deepEqual(
        texts.filter((x) => x.includes(s)),
        [],
        `${s} found in ${where}`,
      );
  }
}

describe('secrets stay out of spans, logs and /__debug', () => {
  it(title('secrets-query-key'), async (t) => {
    const rx = await startOtlpReceiver(t, { http: false });
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, { ok: true }));
    const key = 'qk-S3CR3T-one';
    const gw = await start(t, rx, up, {
      strategy: 'query_string',
      identifier: 'client_key',
      keys: [{ key, consumer: 'acme' }],
    });
    const others = {
      access_token: 'at-S3CR3T',
      'X-Amz-Signature': 'amz-S3CR3T',
      Sig: 'sas-S3CR3T',
      PASSWORD: 'pw-S3CR3T',
    };
    const otherQuery = Object.entries(others)
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    const outputs: string[] = [];
    const keep = async (url: string, status: number): Promise<void> => {
      const r = await get(url);
      assert.equal(r.status, status, `${url}: ${r.text}`);
      outputs.push(r.text);
    };
    await keep(`${gw.url}/keyed?page=2&client_key=${key}&${otherQuery}`, 200);
    // URLSearchParams decodes the name, so `client%5Fkey` authenticates too: it is redacted as well.
    await keep(`${gw.url}/keyed?client%5Fkey=${key}&page=3`, 200);
    await keep(`${gw.url}/keyed?client_key=${key}-guess`, 401);
    await keep(`${gw.url}/noop?client_key=${key}&token=tok-S3CR3T`, 200);
    await keep(`${gw.url}/__debug/x?client_key=${key}&page=1`, 200);
    await keep(`${gw.url}/nothing?client_key=${key}`, 404);
    await gw.gateway.close(2_000);
    await rx.waitFor(() => rx.spans().filter((s) => s.kind === 'SPAN_KIND_SERVER').length >= 5, 5_000);
    const spans = rx.spans();
    const logs = gw.lines.map((l) => JSON.stringify(l));
    assertNowhere([key, ...Object.values(others), 'tok-S3CR3T'], {
      spans: spanStrings(spans),
      'log lines': logs,
      outputs,
    });
    // Redacted, not dropped: the names and the other parameters stay readable.
    const server = attr(spans, 'SPAN_KIND_SERVER', 'url.full', '/keyed');
    assert.ok(
      server.includes(
        `/keyed?page=2&client_key=REDACTED&access_token=REDACTED&X-Amz-Signature=REDACTED&Sig=REDACTED&PASSWORD=REDACTED`,
      ),
      JSON.stringify(server),
    );
    assert.ok(server.includes('/keyed?client%5Fkey=REDACTED&page=3'), JSON.stringify(server));
    const client = attr(spans, 'SPAN_KIND_CLIENT', 'url.full', '/keyed');
    assert.ok(
      client.some(
        (u) =>
          typeof u === 'string' && u.startsWith(up.url) && u.includes('client_key=REDACTED') && u.includes('page=2'),
      ),
      JSON.stringify(client),
    );
    assert.ok(
      attr(spans, 'SPAN_KIND_CLIENT', 'url.full', '/noop').some(
        (u) => typeof u === 'string' && u.endsWith('/n?client_key=REDACTED&token=REDACTED'),
      ),
    );
    // The backend itself still gets the query it was configured to get.
    assert.ok(up.seen.some((r) => r.url.includes(`client_key=${key}`)));
    const debugLine = gw.lines.find((l) => l.msg === 'debug endpoint called');
    assert.equal(debugLine?.query, 'client_key=REDACTED&page=1');
    t.diagnostic(`${spans.length} spans, ${logs.length} log lines, ${outputs.length} outputs checked`);
  });

  it(title('secrets-header-key'), async (t) => {
    const rx = await startOtlpReceiver(t, { http: false });
    const up = await startUpstream(t, (_req, res) =>
      sendJson(res, 200, { ok: true }, { 'set-cookie': 'sid=cookie-out-S3CR3T' }),
    );
    const key = 'hk-S3CR3T-two';
    const gw = await start(t, rx, up, { identifier: 'X-Tenant-Key', keys: [{ key, consumer: 'acme' }] });
    const headers = {
      'x-tenant-key': key,
      authorization: 'Bearer bearer-S3CR3T',
      cookie: 'session=cookie-in-S3CR3T',
      'x-api-key': 'xak-S3CR3T',
      'x-trace-me': 'visible',
    };
    const outputs: string[] = [];
    for (const path of ['/keyed', '/noop', '/__debug/h']) {
      const r = await get(`${gw.url}${path}`, headers);
      assert.equal(r.status, 200, `${path}: ${r.text}`);
      if (path !== '/noop') outputs.push(r.text);
    }
    await gw.gateway.close(2_000);
    await rx.waitFor(() => rx.spans().filter((s) => s.kind === 'SPAN_KIND_CLIENT').length >= 2, 5_000);
    const spans = rx.spans();
    const logs = gw.lines.map((l) => JSON.stringify(l));
    assertNowhere([key, 'bearer-S3CR3T', 'cookie-in-S3CR3T', 'cookie-out-S3CR3T', 'xak-S3CR3T'], {
      spans: spanStrings(spans),
      'log lines': logs,
      outputs,
    });
    // Reported, with the value replaced, in every layer that reports headers.
    for (const kind of ['SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT']) {
      for (const h of ['x-tenant-key', 'authorization', 'cookie', 'x-api-key']) {
        assert.deepEqual(attr(spans, kind, `http.request.header.${h}`, '/keyed')[0], ['REDACTED'], `${kind} ${h}`);
      }
      assert.deepEqual(
        attr(spans, kind, 'http.request.header.x-trace-me', '/keyed')[0],
        ['visible'],
        'other headers stay',
      );
    }
    const proxy = spans.find(
      (s) => s.attributes['krakend.stage'] === 'proxy' && s.attributes['http.route'] === '/keyed',
    );
    assert.deepEqual(proxy?.attributes['http.request.header.x-tenant-key'], ['REDACTED']);
    const debugLine = gw.lines.find((l) => l.msg === 'debug endpoint called') as
      { headers?: Record<string, unknown> } | undefined;
    assert.equal(debugLine?.headers?.['x-tenant-key'], 'REDACTED');
    assert.equal(debugLine?.headers?.authorization, 'REDACTED');
    assert.equal(debugLine?.headers?.['x-trace-me'], 'visible');
  });
});
