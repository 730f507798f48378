/**
 * Nothing a client sends becomes a series: after one request of each kind has bound the closed-set
 * series (statuses, methods), 100k distinct random paths and 10k random API keys leave the number of
 * series in /metrics, the Kong families, the whole store and /__stats exactly where it was. And label
 * values from the config, however hostile, still give expositions the outside parsers accept.
 */
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { Pool, request } from 'undici';
import { ConfigError, loadConfigFile, loadConfigValue } from '../../src/config/load.js';
import { Gateway } from '../../src/server/gateway.js';
import { memoryLogger, startGateway, type RunningGateway } from '../helpers/gateway.js';
import { openMetricsParse, promtoolCheckMetrics, skipUnlessJudge } from '../helpers/judges.js';
import { sendJson, startUpstream } from '../helpers/upstream.js';
import { title } from './cases.js';
import { prng, scrapeText } from './support.js';
import { tempDir } from '../helpers/temp-dir.js';

const PATHS = 100_000;
const KEYS = 10_000;
const CONCURRENCY = 16;
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'PROPFIND', 'PURGE'];

async function setUp(t: TestContext): Promise<RunningGateway> {
  const up = await startUpstream(t, (_req, res) => sendJson(res, 200, { ok: true }), { readBody: false });
  return startGateway(t, {
    extra_config: {
      'auth/api-keys': {
        keys: [
          { key: 'key-acme', consumer: 'acme' },
          { key: 'key-globex', consumer: 'globex' },
        ],
      },
      'telemetry/opentelemetry': { exporters: { prometheus: [{ name: 'p', port: 0 }] } },
      'telemetry/kong-prometheus': {
        listen_address: '127.0.0.1:0',
        per_consumer: true,
        status_code_metrics: true,
        latency_metrics: true,
        bandwidth_metrics: true,
        upstream_health_metrics: true,
      },
      'telemetry/metrics': { listen_address: '127.0.0.1:0' },
      'telemetry/dashboard': { listen_address: '127.0.0.1:0' },
    },
    endpoints: [
      {
        endpoint: '/items/{id}',
        output_encoding: 'no-op',
        input_query_strings: ['*'],
        backend: [{ host: [up.url], url_pattern: '/items/{id}' }],
      },
      { endpoint: '/keyed', extra_config: { 'auth/api-keys': {} }, backend: [{ host: [up.url], url_pattern: '/k' }] },
    ],
  });
}

interface Counts {
  readonly metrics: number;
  readonly kong: number;
  readonly store: number;
  readonly stats: number;
}

function sampleLines(text: string): number {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
}

async function counts(gw: RunningGateway): Promise<Counts & { kongText: string; metricsText: string }> {
  const metricsText = await scrapeText(gw);
  const kongText = await (
    await request(`http://127.0.0.1:${gw.gateway.telemetry.kongStatus?.address?.port}/metrics`, { reset: true })
  ).body.text();
  const statsPort = gw.gateway.telemetry.stats?.address?.port;
  const stats = Object.keys(
    (await (await request(`http://127.0.0.1:${statsPort}/__stats`, { reset: true })).body.json()) as object,
  ).length;
  const store = gw.gateway.telemetry.store.snapshot().families.reduce((n, f) => n + f.series.length, 0);
  return { metrics: sampleLines(metricsText), kong: sampleLines(kongText), store, stats, kongText, metricsText };
}

/** Sends `n` requests from `make(i)` over keep-alive connections, `CONCURRENCY` at a time. */
async function flood(
  gw: RunningGateway,
  n: number,
  make: (i: number) => { path: string; method: string; headers?: Record<string, string> },
): Promise<Map<number, number>> {
  const pool = new Pool(gw.url, { connections: CONCURRENCY });
  const statuses = new Map<number, number>();
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < n) {
          const r = await pool.request(make(next++) as Parameters<Pool['request']>[0]);
          await r.body.dump();
          statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
        }
      }),
    );
  } finally {
    await pool.close();
  }
  return statuses;
}

const hex = (rnd: () => number, n: number): string =>
  Array.from({ length: n }, () => Math.floor(rnd() * 16).toString(16)).join('');

describe('cardinality and label hygiene', () => {
  it(title('cardinality-random-paths'), async (t) => {
    const gw = await setUp(t);
    const rnd = prng(1);
    const kinds = (i: number): { path: string; method: string } => {
      const method = METHODS[i % METHODS.length] as string;
      switch (i % 5) {
        case 0:
          return { path: `/${hex(rnd, 8)}/${hex(rnd, 12)}`, method };
        case 1:
          return { path: `/items/${hex(rnd, 16)}`, method: 'GET' };
        case 2:
          return { path: `/items/${hex(rnd, 6)}?${hex(rnd, 4)}=${hex(rnd, 8)}`, method: 'GET' };
        case 3:
          return { path: `/items/${hex(rnd, 6)}/`, method: 'GET' };
        default:
          return { path: `/items/${hex(rnd, 6)}`, method };
      }
    };
    // One of each kind (every method × every shape) first: that binds all closed-set series.
    await flood(gw, METHODS.length * 5, kinds);
    const before = await counts(gw);
    const started = performance.now();
    const statuses = await flood(gw, PATHS, kinds);
    const seconds = (performance.now() - started) / 1000;
    const after = await counts(gw);
    t.diagnostic(
      `${PATHS} random paths in ${seconds.toFixed(1)} s (${Math.round(PATHS / seconds)} req/s), statuses ${JSON.stringify([...statuses])}; series before/after: /metrics ${before.metrics}/${after.metrics}, kong ${before.kong}/${after.kong}, store ${before.store}/${after.store}, /__stats keys ${before.stats}/${after.stats}`,
    );
    assert.deepEqual(
      { metrics: after.metrics, kong: after.kong, store: after.store, stats: after.stats },
      { metrics: before.metrics, kong: before.kong, store: before.store, stats: before.stats },
    );
    assert.ok(!/\/[0-9a-f]{8}\/[0-9a-f]{12}/.test(after.metricsText + after.kongText), 'no raw path in any label');
    // 11–20 s here depending on what else runs; the bound only catches a gateway that slows down per series.
    assert.ok(seconds < 60, `the loop took ${seconds.toFixed(1)} s`);
  });

  it(title('cardinality-random-keys'), async (t) => {
    const gw = await setUp(t);
    const rnd = prng(2);
    const keyed = (i: number): { path: string; method: string; headers: Record<string, string> } => {
      const key = i % 10 === 0 ? 'key-acme' : i % 10 === 1 ? 'key-globex' : `rk-${hex(rnd, 24)}`;
      return { path: '/keyed', method: 'GET', headers: i % 7 === 3 ? {} : { authorization: `Bearer ${key}` } };
    };
    await flood(gw, 20, keyed);
    const before = await counts(gw);
    const statuses = await flood(gw, KEYS, keyed);
    const after = await counts(gw);
    t.diagnostic(
      `${KEYS} requests with random keys: statuses ${JSON.stringify([...statuses])}; series before/after: /metrics ${before.metrics}/${after.metrics}, kong ${before.kong}/${after.kong}, store ${before.store}/${after.store}`,
    );
    assert.ok((statuses.get(401) ?? 0) > KEYS * 0.7 && (statuses.get(200) ?? 0) > KEYS * 0.15);
    assert.deepEqual(
      { metrics: after.metrics, kong: after.kong, store: after.store, stats: after.stats },
      { metrics: before.metrics, kong: before.kong, store: before.store, stats: before.stats },
    );
    const consumers = new Set([...after.kongText.matchAll(/consumer="([^"]*)"/g)].map((m) => m[1]));
    assert.deepEqual([...consumers].sort(), ['', 'acme', 'globex'], 'only configured consumers become labels');
    assert.ok(
      !(after.metricsText + after.kongText).includes('rk-') &&
        !(after.metricsText + after.kongText).includes('key-acme'),
      'no key in any label',
    );
  });

  it(title('labels-hostile-values'), async (t) => {
    if (skipUnlessJudge(t, 'promtool', 'openmetrics')) return;
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, { ok: true }));
    const weird = 'q"uo\\te\nnew\rline\ttab \ud800 \u2028 é 😀 }{,=';
    // Invalid UTF-8 can only come from a file: its bytes decode to U+FFFD.
    const dir = tempDir('tollgate-labels-');
    const file = join(dir, 'krakend.json');
    const config = {
      version: 3,
      port: 0,
      listen_ip: '127.0.0.1',
      name: 'INVALID_UTF8',
      extra_config: {
        'auth/api-keys': { keys: [{ key: 'k1', consumer: weird }] },
        'telemetry/kong-prometheus': {
          listen_address: '127.0.0.1:0',
          per_consumer: true,
          status_code_metrics: true,
          latency_metrics: true,
          bandwidth_metrics: true,
          upstream_health_metrics: true,
        },
        'telemetry/opentelemetry': {
          service_name: 'INVALID_UTF8',
          deploy_env: weird,
          exporters: { prometheus: [{ name: 'p', port: 0 }] },
          layers: {
            global: {
              metrics_static_attributes: [
                { key: 'env', value: weird },
                { key: 'a:b.c-d', value: 'INVALID_UTF8' },
              ],
            },
            backend: {
              metrics: {
                static_attributes: [{ key: 'b"k', value: weird }],
                read_payload: true,
                detailed_connection: true,
              },
            },
          },
        },
      },
      endpoints: [
        {
          endpoint: '/q"uote\\d',
          extra_config: { 'auth/api-keys': {}, 'telemetry/kong-prometheus': { route: weird, service: 'INVALID_UTF8' } },
          backend: [{ host: [up.url], url_pattern: '/x' }],
        },
      ],
    };
    const parts = JSON.stringify(config)
      .split('INVALID_UTF8')
      .map((p) => Buffer.from(p, 'utf8'));
    writeFileSync(
      file,
      Buffer.concat(parts.flatMap((p, i) => (i === 0 ? [p] : [Buffer.from([0x62, 0x61, 0x64, 0xff]), p]))),
    );
    const loaded = loadConfigFile(file);
    const gateway = new Gateway(loaded.config, { logger: memoryLogger().logger });
    const address = await gateway.start();
    t.after(() => gateway.close(1_000));
    for (let i = 0; i < 2; i++)
      await (
        await request(`http://127.0.0.1:${address.port}/q%22uote%5Cd`, { headers: { authorization: 'Bearer k1' } })
      ).body.dump();
    const port = gateway.telemetry.exporters[0]?.address?.port;
    const text = await (await request(`http://127.0.0.1:${port}/metrics`)).body.text();
    const om = await (
      await request(`http://127.0.0.1:${port}/metrics`, {
        headers: { accept: 'application/openmetrics-text; version=1.0.0' },
      })
    ).body.text();
    const kong = await (
      await request(`http://127.0.0.1:${gateway.telemetry.kongStatus?.address?.port}/metrics`)
    ).body.text();
    assert.ok(
      text.includes('env="q\\"uo\\\\te\\nnew\rline\ttab \ufffd'),
      'escaped as the format says; the lone surrogate replaced',
    );
    assert.ok(text.includes('bad\ufffd'), 'invalid UTF-8 from the file arrives as U+FFFD');
    assert.ok(text.includes('a_b_c_d="'), 'a key with ":" becomes a valid label name');
    for (const [name, body] of [
      ['otel', text],
      ['kong', kong],
    ] as const) {
      const check = await promtoolCheckMetrics(body);
      assert.ok(!check.parseError, `promtool (${name}): ${check.output}`);
    }
    const parsed = await openMetricsParse(om);
    assert.ok(parsed.ok, `OpenMetrics parser: ${parsed.error ?? ''}`);
    const envs = new Set(
      (parsed.parsed ?? []).flatMap((f) => f.samples.map((s) => s.labels.env)).filter((v) => v !== undefined),
    );
    assert.deepEqual([...envs], [weird.toWellFormed()], 'the OpenMetrics parser reads back the exact value');
  });

  it(title('labels-reserved-names'), () => {
    for (const key of ['le', '__name__', '___', '_.x']) {
      assert.throws(
        () =>
          loadConfigValue(
            {
              version: 3,
              extra_config: {
                'telemetry/opentelemetry': {
                  exporters: { prometheus: [{ name: 'p' }] },
                  layers: { global: { metrics_static_attributes: [{ key, value: 'v' }] } },
                },
              },
              endpoints: [],
            },
            'c.json',
          ),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.issues.some(
            (i) =>
              i.path === 'extra_config["telemetry/opentelemetry"].layers.global.metrics_static_attributes[0].key' &&
              i.message.includes('reserves'),
          ),
        key,
      );
    }
    assert.throws(
      () =>
        loadConfigValue(
          {
            version: 3,
            endpoints: [
              {
                endpoint: '/a',
                backend: [
                  {
                    host: ['http://a'],
                    url_pattern: '/',
                    extra_config: {
                      'telemetry/opentelemetry': { backend: { metrics: { static_attributes: { le: '1' } } } },
                    },
                  },
                ],
              },
            ],
          },
          'c.json',
        ),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.issues[0]?.path ===
          'endpoints[0].backend[0].extra_config["telemetry/opentelemetry"].backend.metrics.static_attributes.le',
    );
  });
});
