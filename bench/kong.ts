/**
 * Kong families: recording cost per request with every Kong flag and per_consumer on, and the time
 * to render the status listener's /metrics for 100 routes × 50 consumers (issue 6 targets: ≤ 1 µs per
 * request, ≤ 20 ms per scrape). Run: node --import tsx bench/kong.ts
 */
import { performance } from 'node:perf_hooks';
import { exitOnHelp } from './lib/micro.js';
import { loadConfigValue } from '../src/config/load.js';
import { renderPrometheusText } from '../src/telemetry/exposition/prometheus-text.js';
import { ConnectionStats } from '../src/telemetry/kong/connections.js';
import { KongView } from '../src/telemetry/kong/kong-view.js';
import { Outcome, RequestRecord } from '../src/telemetry/record.js';
import { MetricStore } from '../src/telemetry/store/store.js';
import { observedRoutes } from '../test/helpers/routes.js';

exitOnHelp(
  process.argv.slice(2),
  'Usage: node --import tsx bench/kong.ts\n  (no options: 1,000,000 recorded requests x 5 timed rounds, then 20 timed scrapes)\n',
);

const ROUTES = 100;
const CONSUMERS = 50;

function setUp(routes: number): {
  store: MetricStore;
  view: KongView;
  consumers: NonNullable<ReturnType<typeof loadConfigValue>['config']['apiKeys']>;
} {
  const keys = Array.from({ length: CONSUMERS }, (_, i) => ({ key: `key-${i}`, consumer: `consumer-${i}` }));
  const { config } = loadConfigValue(
    {
      version: 3,
      extra_config: {
        'auth/api-keys': { keys },
        'telemetry/kong-prometheus': {
          per_consumer: true,
          status_code_metrics: true,
          latency_metrics: true,
          bandwidth_metrics: true,
          upstream_health_metrics: true,
        },
      },
      endpoints: Array.from({ length: routes }, (_, i) => ({
        endpoint: `/r${i}/{id}`,
        backend: [{ host: ['http://10.0.0.1:8080'], url_pattern: `/x/{id}` }],
      })),
    },
    'bench',
  );
  const store = new MetricStore();
  const view = new KongView(store, config.kong!, config, observedRoutes(config), new ConnectionStats(), '0.0.0');
  return { store, view, consumers: config.apiKeys! };
}

function record(
  route: number,
  consumerIndex: number,
  _socket: object,
  consumers: ReturnType<typeof setUp>['consumers'],
): RequestRecord {
  const rec = new RequestRecord('GET', `/r${route}/1`, 1000);
  rec.route = route;
  rec.status = 200;
  rec.end = 1012.5;
  rec.bytesOut = 512;
  rec.consumer = consumers.keys.get(`key-${consumerIndex}`);
  // What the gateway settles from the connection's byte counts (300 in, 700 out per request below).
  rec.wireIn = 300;
  rec.wireOut = 700;
  rec.proxyStart = 1000.5;
  rec.proxyEnd = 1012;
  const br = rec.backend(0);
  br.dispatchAt = 1001;
  br.headersAt = 1010;
  br.status = 200;
  br.outcome = Outcome.Ok;
  br.stageComplete = true;
  return rec;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

// 1. Recording cost: the same request recorded repeatedly (cells already bound: the steady state).
{
  const { view, consumers } = setUp(1);
  const socket = { bytesRead: 0, bytesWritten: 0 };
  const rec = record(0, 7, socket, consumers);
  const runs: number[] = [];
  for (let round = 0; round < 6; round++) {
    const n = 1_000_000;
    const t0 = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      socket.bytesRead += 300;
      socket.bytesWritten += 700;
      view.record(rec);
    }
    const d = process.cpuUsage(t0);
    if (round > 0) runs.push(((d.user + d.system) * 1000) / n);
  }
  console.log(`record, every Kong flag + per_consumer: ${median(runs).toFixed(0)} ns/request (target <= 1000 ns)`);
}

// 2. Scrape of 100 routes x 50 consumers.
{
  const { store, view, consumers } = setUp(ROUTES);
  const socket = { bytesRead: 0, bytesWritten: 0 };
  for (let r = 0; r < ROUTES; r++) {
    for (let c = 0; c < CONSUMERS; c++) {
      socket.bytesRead += 300;
      socket.bytesWritten += 700;
      view.record(record(r, c, socket, consumers));
    }
  }
  const groups = new Set(['kong']);
  let text = '';
  const times: number[] = [];
  for (let i = 0; i < 25; i++) {
    const t0 = performance.now();
    text = renderPrometheusText(store.snapshot(groups));
    if (i >= 5) times.push(performance.now() - t0);
  }
  const lines = text.split('\n').length;
  console.log(
    `scrape, ${ROUTES} routes x ${CONSUMERS} consumers: ${median(times).toFixed(1)} ms median for ${lines} lines, ${(text.length / 1e6).toFixed(2)} MB (target <= 20 ms)`,
  );
}
