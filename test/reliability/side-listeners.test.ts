/**
 * Side listeners (Prometheus exporters, Kong status, /__stats, the dashboard) and telemetry readers
 * never take a process down: malformed requests get a 4xx, a handler or a snapshot read that fails
 * answers 500 and the next request or period reads again, and the cluster primary (which serves all
 * of them) outlives anything they do. Regression tests for one request to the dashboard listener
 * (`//[`) that killed the primary and with it every worker.
 */
import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import { describe, it, type TestContext } from 'node:test';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { request } from 'undici';
import { SideListener } from '../../src/http/listen.js';
import { keepSupervising } from '../../src/server/cluster/primary.js';
import { DashboardServer } from '../../src/telemetry/dashboard/dashboard-server.js';
import { parseDashboardSettings } from '../../src/config/namespaces/dashboard.js';
import { OtlpMetricPusher } from '../../src/telemetry/exporters/otlp-metrics.js';
import { PrometheusExporterServer } from '../../src/telemetry/exporters/prometheus-server.js';
import { InfluxPusher } from '../../src/telemetry/influx/influx-pusher.js';
import { parseInfluxSettings } from '../../src/config/namespaces/influx.js';
import { parseKongSettings } from '../../src/config/namespaces/kong.js';
import { KongStatusServer } from '../../src/telemetry/kong/status-server.js';
import type { StatsSnapshot } from '../../src/telemetry/stats/stats-registry.js';
import { StatsServer, type StatsSource } from '../../src/telemetry/stats/stats-server.js';
import { parseStatsSettings } from '../../src/config/namespaces/metrics.js';
import { MetricStore, type Snapshot, type SnapshotSource } from '../../src/telemetry/store/store.js';
import { freePort, startCli, waitForHttp, writeConfig } from '../helpers/cli.js';
import { memoryLogger, startGateway } from '../helpers/gateway.js';
import { closeServer, sendJson, startUpstream } from '../helpers/upstream.js';
import { title } from './cases.js';
import { eventually, rawRequest } from './support.js';

const DASH_TOKEN = 'dash-token-1';
const KONG_TOKEN = 'kong-token-1';

/** What each side listener serves, and the headers that open it. */
interface Listener {
  readonly name: string;
  readonly port: number;
  readonly path: string;
  readonly auth: string;
}

/** Request targets and headers that once reached a parse that throws, or look like they could. */
const TARGETS = [
  '//[',
  '//[::1',
  '//%',
  '/%ZZ%E0%A4%A',
  '/?token=%E0%A4%A',
  '/?token=%',
  '/metrics?%%%=%',
  '/__stats/..%2f..',
  '/api/state/%ff',
  '/assets/%2e%2e/app.js',
];
const FORMS = ['*', 'http://127.0.0.1/metrics', 'http://[/', 'metrics'];
const HEADERS = [
  'Authorization: Bearer %',
  'Authorization: Bearer %E0%A4%A',
  'Authorization: %',
  'Cookie: tollgate_dashboard=%E0%A4%A',
  'Cookie: tollgate_dashboard=%',
  'Cookie: tollgate_dashboard=',
  'Accept: ;;;,%%%;q=x',
];

function raw(method: string, target: string, headers: readonly string[]): string {
  return `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`;
}

function statusOf(text: string): number | undefined {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  return m === null ? undefined : Number(m[1]);
}

/**
 * Sends every hostile request to a listener. Each gets an answer below 500 (a junk query on a real
 * path may well be a 200); a target that is no path the listener serves gets a 4xx.
 */
async function sendHostile(l: Listener): Promise<void> {
  const cases: { bytes: string; malformed: boolean }[] = [];
  for (const target of TARGETS) {
    const malformed = target.startsWith('//') || target.startsWith('/%ZZ');
    cases.push(
      { bytes: raw('GET', target, []), malformed },
      { bytes: raw('GET', target, [l.auth]), malformed },
      { bytes: raw('HEAD', target, [l.auth]), malformed },
    );
    for (const h of HEADERS) cases.push({ bytes: raw('GET', target, [h]), malformed });
  }
  for (const form of FORMS)
    cases.push(
      { bytes: raw('GET', form, []), malformed: true },
      { bytes: raw('OPTIONS', form, [l.auth]), malformed: true },
    );
  for (const h of HEADERS)
    cases.push({ bytes: raw('GET', l.path, [h]), malformed: false }, { bytes: raw('GET', '/', [h]), malformed: false });
  for (const { bytes, malformed } of cases) {
    const answer = await rawRequest(l.port, bytes, 2_000);
    const status = statusOf(answer.text);
    const what = `${l.name}: ${JSON.stringify(bytes.split('\r\n').slice(0, 4))} answered ${JSON.stringify(answer.text.slice(0, 60))}`;
    assert.ok(status !== undefined && status < 500, what);
    if (malformed) assert.ok(status >= 400, what);
  }
}

async function assertServes(l: Listener): Promise<void> {
  const [name, value] = l.auth.split(': ') as [string, string];
  const r = await request(`http://127.0.0.1:${l.port}${l.path}`, { headers: { [name]: value }, reset: true });
  await r.body.text();
  assert.equal(r.statusCode, 200, `${l.name} still serves`);
}

function sideConfig(ports: { prom: number; stats: number; kong: number; dash: number }): Record<string, unknown> {
  return {
    'telemetry/opentelemetry': {
      exporters: { prometheus: [{ name: 'prom', port: ports.prom, listen_ip: '127.0.0.1' }] },
    },
    'telemetry/metrics': { listen_address: `127.0.0.1:${ports.stats}`, collection_time: '1s' },
    'telemetry/kong-prometheus': { listen_address: `127.0.0.1:${ports.kong}`, token: KONG_TOKEN },
    'telemetry/dashboard': { listen_address: `127.0.0.1:${ports.dash}`, token: DASH_TOKEN },
  };
}

function listeners(ports: { prom: number; stats: number; kong: number; dash: number }, open = false): Listener[] {
  return [
    { name: 'prometheus', port: ports.prom, path: '/metrics', auth: 'X-Nothing: 1' },
    { name: '/__stats', port: ports.stats, path: '/__stats', auth: 'X-Nothing: 1' },
    { name: 'kong status', port: ports.kong, path: '/metrics', auth: `Authorization: Bearer ${KONG_TOKEN}` },
    {
      name: 'dashboard',
      port: ports.dash,
      path: '/api/state',
      auth: open ? 'X-Nothing: 1' : `Authorization: Bearer ${DASH_TOKEN}`,
    },
  ];
}

/** A read that fails as `plan` says (a synchronous throw, a rejection), then works. */
function flaky<T>(
  plan: readonly ('throw' | 'reject')[],
  read: () => T,
): { readonly read: () => Promise<T>; calls: number } {
  const state = {
    calls: 0,
    read: (): Promise<T> => {
      const step = plan[state.calls++];
      if (step === 'throw') throw new Error('injected read failure (throw)');
      if (step === 'reject') return Promise.reject(new Error('injected read failure (reject)'));
      return Promise.resolve(read());
    },
  };
  return state;
}

const FAIL_TWICE = ['throw', 'reject'] as const;

async function statuses(url: string, n: number, headers: Record<string, string> = {}): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await request(url, { headers, reset: true });
    await r.body.text();
    out.push(r.statusCode);
  }
  return out;
}

function storeSource(plan: readonly ('throw' | 'reject')[]): SnapshotSource & { readonly calls: () => number } {
  const store = new MetricStore();
  store.counter('self', { name: 'tollgate_test_total', help: 'A test counter.' }).bind([]).add(1);
  store.counter('kong', { name: 'kong_test_total', help: 'A test counter.' }).bind([]).add(1);
  const f = flaky<Snapshot>(plan, () => store.snapshot());
  return { collect: () => f.read(), calls: () => f.calls };
}

const STATS: StatsSnapshot = {
  at: 0,
  counters: new Map([['krakend.test', 1]]),
  gauges: new Map(),
  histograms: new Map(),
};

function statsSource(
  live: () => Promise<StatsSnapshot>,
  latest: () => Promise<StatsSnapshot | undefined>,
): StatsSource {
  return { live: async () => ({ stats: await live(), extra: {} }), latest, endWindow: () => Promise.resolve() };
}

function unhandledCounter(t: TestContext): { readonly count: () => number } {
  let n = 0;
  const on = (): void => {
    n++;
  };
  process.on('unhandledRejection', on);
  t.after(() => {
    process.off('unhandledRejection', on);
  });
  return { count: () => n };
}

describe('side listeners and telemetry readers', () => {
  it(title('side-hostile-requests'), async (t) => {
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, { ok: true }));
    const gw = await startGateway(t, {
      extra_config: sideConfig({ prom: 0, stats: 0, kong: 0, dash: 0 }),
      endpoints: [{ endpoint: '/a', backend: [{ host: [up.url], url_pattern: '/a' }] }],
    });
    const tel = gw.gateway.telemetry;
    const ports = {
      prom: tel.exporters[0]?.address?.port ?? 0,
      stats: tel.stats?.address?.port ?? 0,
      kong: tel.kongStatus?.address?.port ?? 0,
      dash: tel.dashboard?.address?.port ?? 0,
    };
    // The dashboard also without a token: every path reaches the routing then, not the 401.
    const open = await startGateway(t, {
      extra_config: { 'telemetry/dashboard': { listen_address: '127.0.0.1:0' } },
      endpoints: [],
    });
    const all = [
      ...listeners(ports),
      {
        ...(listeners({ ...ports, dash: open.gateway.telemetry.dashboard?.address?.port ?? 0 }, true)[3] as Listener),
        name: 'dashboard (no token)',
      },
    ];
    for (const l of all) await sendHostile(l);
    for (const l of all) await assertServes(l);
    assert.equal((await statuses(`${gw.url}/a`, 1))[0], 200, 'the data listener serves');
  });

  it(title('side-handler-failure'), async (t) => {
    const { logger, lines } = memoryLogger();
    const l = new SideListener('test listener', logger);
    t.after(() => l.close());
    const { port } = await l.open('127.0.0.1', 0, (_req, res, { path }) => {
      if (path === '/sync') throw new Error('boom (sync)');
      if (path === '/async') return Promise.reject(new Error('boom (async)'));
      if (path === '/late') {
        res.writeHead(200, { 'content-length': '10' });
        res.write('12345');
        throw new Error('boom (after the head)');
      }
      res.end('ok');
    });
    const base = `http://127.0.0.1:${port}`;
    assert.deepEqual(await statuses(`${base}/sync`, 3), [500, 500, 500]);
    assert.deepEqual(await statuses(`${base}/async`, 3), [500, 500, 500]);
    // Once the head is written a 500 cannot follow: the connection is cut, so the client never takes
    // what it got for a whole answer.
    const late = await rawRequest(port, raw('GET', '/late', []), 2_000);
    assert.ok(late.closed && !late.text.includes(' 500 ') && !late.text.endsWith('1234567890'), late.text);
    assert.deepEqual(await statuses(`${base}/ok`, 1), [200]);
    const failures = lines.filter((x) => x.msg === 'side listener request failed');
    assert.equal(failures.length, 1, 'one log line per interval, not one per failed request');
    assert.equal(failures[0]?.listener, 'test listener');
  });

  it(title('reader-failing-read'), async (t) => {
    const unhandled = unhandledCounter(t);
    const { logger, lines } = memoryLogger();
    // Prometheus exporter and Kong status: 500 for each failed read, then the next scrape is served.
    const promSource = storeSource(FAIL_TWICE);
    const prom = new PrometheusExporterServer(
      { name: 'p', port: 0, listenIp: '127.0.0.1', groups: new Set(['self']) },
      promSource,
      logger,
    );
    const kongSource = storeSource(FAIL_TWICE);
    const kong = new KongStatusServer(parseKongSettings({ listen_address: '127.0.0.1:0' }), kongSource, logger);
    const liveRead = flaky(FAIL_TWICE, () => STATS);
    const stats = new StatsServer(
      parseStatsSettings({ listen_address: '127.0.0.1:0' }),
      statsSource(
        () => liveRead.read(),
        () => Promise.resolve(STATS),
      ),
      logger,
    );
    t.after(() => Promise.all([prom.close(), kong.close(), stats.close()]));
    for (const [name, server, path] of [
      ['prometheus', prom, '/metrics'],
      ['kong', kong, '/metrics'],
      ['stats', stats, '/__stats'],
    ] as const) {
      const { port } = await server.start();
      assert.deepEqual(await statuses(`http://127.0.0.1:${port}${path}`, 4), [500, 500, 200, 200], name);
    }
    assert.equal(promSource.calls(), 4);
    // The dashboard reads on its tick: a failed read keeps the last state and the next tick reads again.
    const dashRead = flaky(FAIL_TWICE, () => ({ snapshot: new MetricStore().snapshot(), slow: [] }));
    const dash = new DashboardServer(
      parseDashboardSettings({ listen_address: '127.0.0.1:0' }),
      { readDashboard: () => dashRead.read() },
      logger,
    );
    t.after(() => dash.close());
    const { port: dashPort } = await dash.start();
    const state = async (): Promise<unknown> =>
      (await (await request(`http://127.0.0.1:${dashPort}/api/state`, { reset: true })).body.json()) as unknown;
    assert.equal(await state(), null, 'the first read failed: no state yet, and the listener serves');
    await dash.tick();
    await dash.tick();
    assert.notEqual(await state(), null, 'the next tick after the failures has a state');
    // OTLP push: each failed read is a failed push, the next period pushes.
    const pushes = new MetricStore().counter('self', { name: 'pushes', help: 'pushes' });
    const pstats = {
      exported: pushes.bind([['o', 'exported']]),
      failed: pushes.bind([['o', 'failed']]),
      skipped: pushes.bind([['o', 'skipped']]),
    };
    const exported: ResourceMetrics[] = [];
    let exporterThrows = 1;
    const exporter: PushMetricExporter = {
      export(metrics: ResourceMetrics, done: (r: ExportResult) => void): void {
        if (exporterThrows-- > 0) throw new Error('injected export failure');
        exported.push(metrics);
        done({ code: ExportResultCode.SUCCESS });
      },
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    const pusher = new OtlpMetricPusher(
      exporter,
      storeSource(FAIL_TWICE),
      new Set(['self']),
      resourceFromAttributes({}),
      50,
      pstats,
      logger,
    );
    t.after(() => pusher.close(500));
    pusher.start();
    assert.ok(
      await eventually(() => exported.length >= 2, 3_000),
      'pushes go on after failed reads and a failed export',
    );
    assert.ok(
      pstats.failed.value >= 3 && pstats.exported.value >= 2,
      `failed ${pstats.failed.value}, exported ${pstats.exported.value}`,
    );
    // Influx push: the same on its ttl.
    let writes = 0;
    const influxDb = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        writes++;
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => influxDb.listen(0, '127.0.0.1', r));
    t.after(() => closeServer(influxDb));
    const latestRead = flaky(FAIL_TWICE, () => STATS);
    const batches = new MetricStore().counter('self', { name: 'batches', help: 'batches' });
    const influx = new InfluxPusher(
      parseInfluxSettings({
        address: `http://127.0.0.1:${(influxDb.address() as { port: number }).port}`,
        ttl: '50ms',
      }),
      statsSource(
        () => Promise.resolve(STATS),
        () => latestRead.read(),
      ),
      logger,
      {
        written: batches.bind([['o', 'written']]),
        failed: batches.bind([['o', 'failed']]),
        dropped: batches.bind([['o', 'dropped']]),
      },
    );
    t.after(() => influx.close(500));
    influx.start();
    assert.ok(await eventually(() => writes >= 2, 3_000), 'Influx pushes go on after failed reads');
    assert.ok(latestRead.calls >= 4);
    assert.equal(unhandled.count(), 0, 'no unhandled rejection');
    for (const msg of [
      'side listener request failed',
      'dashboard update failed',
      'OTLP metric push failed',
      "Couldn't write to InfluxDB",
    ]) {
      assert.ok(
        lines.some((l) => l.msg === msg),
        `logged: ${msg}`,
      );
    }
  });

  it(title('primary-last-resort'), () => {
    const { logger, lines } = memoryLogger();
    const target = new EventEmitter();
    const uninstall = keepSupervising(target, logger);
    for (let i = 0; i < 3; i++) target.emit('uncaughtException', new Error('a bug in a side listener'));
    target.emit('unhandledRejection', new Error('a reader that rejected'));
    const logged = lines.filter((l) => l.msg === 'unhandled error in the cluster primary; it keeps supervising');
    assert.deepEqual(
      logged.map((l) => l.origin),
      ['uncaughtException', 'unhandledRejection'],
      'logged, rate limited per error',
    );
    uninstall();
    assert.equal(target.listenerCount('uncaughtException') + target.listenerCount('unhandledRejection'), 0);
  });

  it(title('side-hostile-cluster'), async (t) => {
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, { ok: true }));
    const ports = {
      data: await freePort(),
      prom: await freePort(),
      stats: await freePort(),
      kong: await freePort(),
      dash: await freePort(),
    };
    const file = writeConfig({
      version: 3,
      port: ports.data,
      listen_ip: '127.0.0.1',
      workers: 2,
      extra_config: sideConfig(ports),
      endpoints: [{ endpoint: '/a', backend: [{ host: [up.url], url_pattern: '/a' }] }],
    });
    const run = startCli(t, ['run', '-c', file]);
    await waitForHttp(`http://127.0.0.1:${ports.data}/__health`, 20_000);
    // The primary opens the side listeners once every worker serves.
    assert.ok(await eventually(() => run.output().includes('cluster primary running'), 10_000), run.output());
    const all = listeners(ports);
    for (const l of all) await sendHostile(l);
    assert.equal(run.child.exitCode, null, `the primary is alive:\n${run.output()}`);
    for (const l of all) await assertServes(l);
    assert.deepEqual(await statuses(`http://127.0.0.1:${ports.data}/a`, 4), [200, 200, 200, 200], 'the workers serve');
    assert.doesNotMatch(run.output(), /worker died|unhandled error|side listener request failed/);
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0, run.output());
  });
});
