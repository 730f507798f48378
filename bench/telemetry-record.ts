// Recording cost per request: Tollgate's KrakendOtelView versus the same
// instruments driven through @opentelemetry/sdk-metrics, side by side in one
// process and one run.
//
//   node --import tsx bench/telemetry-record.ts [--iterations 1000000] [--sdk-iterations 20000] [--repeats 5]
//
// One "request" is everything krakend-otel records for a successful GET with
// every layer on (global, proxy, backend stage, round trip, read payload,
// detailed connection): per backend 12 instrument operations, plus 3 for the
// global and proxy layers — 15 with one backend, 27 with two. See
// bench/TELEMETRY.md for what each row measures.

import {
  exitOnHelp,
  foreignLoadLines,
  intOption,
  machineSummary,
  median,
  quietCheck,
  startForeignLoadMeter,
  timeSync,
} from './lib/micro.js';
import {
  runSdkPerRequest,
  runSdkPrebuilt,
  sdkTotals,
  sdkVariant as sdkRecorder,
  type SdkVariant,
} from './lib/sdk-metrics-recorder.js';
import { firstColumnLeft, textTable } from './lib/text-table.js';
import { loadConfigValue } from '../src/config/load.js';
import type { OtelSettings } from '../src/config/namespaces/opentelemetry.js';
import type { GatewayConfig } from '../src/config/types.js';
import { KrakendOtelView } from '../src/telemetry/otel/krakend-view.js';
import { Outcome, RequestRecord } from '../src/telemetry/record.js';
import { MetricStore } from '../src/telemetry/store/store.js';
import { observedRoutes } from '../test/helpers/routes.js';

const argv = process.argv.slice(2);
exitOnHelp(
  argv,
  'Usage: node --import tsx bench/telemetry-record.ts [options]\n' +
    '  --iterations N      Tollgate requests per timed repeat                (default 1000000)\n' +
    '  --sdk-iterations N  sdk-metrics requests per timed repeat             (default 20000)\n' +
    '  --repeats N         timed repeats per variant, interleaved; median    (default 5)\n' +
    '  --warmup N          untimed Tollgate requests per variant first       (default 200000)\n' +
    '  --sdk-warmup N      untimed sdk-metrics requests per variant first    (default 10000)\n',
);
const ITERATIONS = intOption(argv, 'iterations', 1_000_000);
// The SDK costs tens of µs per request on a small VM: 1e6 of them would take
// minutes per repeat. 2e4 is still ~1 s of work per repeat, far above timer
// resolution, so its per-request figure is just as precise.
const SDK_ITERATIONS = intOption(argv, 'sdk-iterations', 20_000);
const REPEATS = intOption(argv, 'repeats', 5);
const WARMUP = intOption(argv, 'warmup', 200_000, 0);
const SDK_WARMUP = intOption(argv, 'sdk-warmup', 10_000, 0);

/** The targets. */
const TARGET_NS = 1000;
const TARGET_RATIO = 20;

const UPSTREAM = 'http://127.0.0.1:8081';

// ---------------------------------------------------------------------------
// (a) Tollgate

/** A KrakenD v3 config with `telemetry/opentelemetry` and its default layers (none given = all on). */
function rawConfig(backends: number): object {
  return {
    version: 3,
    port: 8080,
    extra_config: {
      'telemetry/opentelemetry': {
        service_name: 'bench',
        exporters: { prometheus: [{ name: 'local', port: 9090 }] },
      },
    },
    endpoints: [
      {
        endpoint: '/users/{id}',
        method: 'GET',
        backend: Array.from({ length: backends }, (_, i) => ({
          host: [UPSTREAM],
          url_pattern: i === 0 ? '/users/{id}' : `/users/{id}/extra-${i}`,
          ...(backends > 1 ? { group: `g${i}` } : {}),
        })),
      },
    ],
  };
}

function loadBenchConfig(backends: number): { config: GatewayConfig; otel: OtelSettings } {
  const { config } = loadConfigValue(rawConfig(backends), `bench-${backends}-backend.json`);
  const otel = config.otel;
  if (otel === undefined) throw new Error('config.otel missing: telemetry/opentelemetry was not parsed');
  const b = otel.backend.metrics;
  if (
    otel.global.disableMetrics ||
    otel.proxy.disableMetrics ||
    b.disableStage ||
    !b.roundTrip ||
    !b.readPayload ||
    !b.detailedConnection
  ) {
    throw new Error('expected every metrics layer on by default');
  }
  return { config, otel };
}

/** A finished GET /users/42: 200, 12.5 ms, 1 KiB out; each backend 200 with every timestamp set. */
function filledRecord(backends: number): RequestRecord {
  const t = 1000;
  const rec = new RequestRecord('GET', '/users/42', t);
  rec.route = 0;
  rec.status = 200;
  rec.end = t + 12.5;
  rec.bytesOut = 1024;
  rec.proxyStart = t + 0.2;
  rec.proxyEnd = t + 12.3;
  rec.proxyComplete = true;
  for (let i = 0; i < backends; i++) {
    const b = rec.backend(i);
    b.target = 0;
    b.stageStart = t + 0.3;
    b.stageEnd = t + 12.2;
    b.stageComplete = true;
    b.dispatchAt = t + 0.4;
    b.connectedAt = t + 0.45;
    b.headersAt = t + 11;
    b.bodyStartAt = t + 11.1;
    b.bodyEndAt = t + 12;
    b.status = 200;
    b.outcome = Outcome.Ok;
    // A request body is sent so that http.client.request.size is recorded too (a GET would skip it).
    b.requestSize = 64;
    b.contentLength = 1024;
    b.readBytes = 1024;
  }
  return rec;
}

interface TollgateVariant {
  readonly store: MetricStore;
  readonly view: KrakendOtelView;
  readonly rec: RequestRecord;
}

function tollgateVariant(backends: number): TollgateVariant {
  const { config, otel } = loadBenchConfig(backends);
  const store = new MetricStore();
  const view = new KrakendOtelView(store, otel, config, observedRoutes(config));
  return { store, view, rec: filledRecord(backends) };
}

function runTollgate(v: TollgateVariant, n: number): void {
  const { view, rec } = v;
  for (let i = 0; i < n; i++) view.record(rec);
}

// (b) @opentelemetry/sdk-metrics, the same instruments and attributes: lib/sdk-metrics-recorder.ts.
function sdkVariant(backends: number): SdkVariant {
  return sdkRecorder(backends, loadBenchConfig(backends).otel, filledRecord(backends), UPSTREAM);
}

// ---------------------------------------------------------------------------
// Sanity: both sides must have recorded what we think they recorded.

function tollgateTotals(store: MetricStore): { readonly observations: number; readonly series: number } {
  let observations = 0;
  let series = 0;
  for (const f of store.snapshot().families) {
    for (const s of f.series) {
      series++;
      if ('counts' in s) observations += s.count;
    }
  }
  return { observations, series };
}

// ---------------------------------------------------------------------------

interface Variant {
  readonly name: string;
  readonly backends: number;
  readonly iterations: number;
  readonly warmup: number;
  readonly run: (n: number) => void;
  readonly cpu: number[];
  readonly wall: number[];
}

function fmtNs(ns: number): string {
  return ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs` : `${ns.toFixed(0)} ns`;
}

async function main(): Promise<void> {
  const quiet = await quietCheck();
  process.stderr.write(
    `telemetry-record: ${machineSummary()}; ` +
      `${REPEATS} repeats of ${ITERATIONS.toLocaleString('en-US')} (tollgate) / ${SDK_ITERATIONS.toLocaleString('en-US')} (sdk-metrics) requests ` +
      `after ${WARMUP.toLocaleString('en-US')} / ${SDK_WARMUP.toLocaleString('en-US')} warm-up; ` +
      `background CPU before: ${quiet.busyPercent}%\n`,
  );

  const t1 = tollgateVariant(1);
  const t2 = tollgateVariant(2);
  const s1p = sdkVariant(1);
  const s1b = sdkVariant(1);
  const s2p = sdkVariant(2);
  const s2b = sdkVariant(2);
  const variants: Variant[] = [
    {
      name: 'tollgate',
      backends: 1,
      iterations: ITERATIONS,
      warmup: WARMUP,
      run: (n) => runTollgate(t1, n),
      cpu: [],
      wall: [],
    },
    {
      name: 'sdk-metrics, per-request attrs',
      backends: 1,
      iterations: SDK_ITERATIONS,
      warmup: SDK_WARMUP,
      run: (n) => runSdkPerRequest(s1p, n),
      cpu: [],
      wall: [],
    },
    {
      name: 'sdk-metrics, pre-built attrs',
      backends: 1,
      iterations: SDK_ITERATIONS,
      warmup: SDK_WARMUP,
      run: (n) => runSdkPrebuilt(s1b, n),
      cpu: [],
      wall: [],
    },
    {
      name: 'tollgate',
      backends: 2,
      iterations: ITERATIONS,
      warmup: WARMUP,
      run: (n) => runTollgate(t2, n),
      cpu: [],
      wall: [],
    },
    {
      name: 'sdk-metrics, per-request attrs',
      backends: 2,
      iterations: SDK_ITERATIONS,
      warmup: SDK_WARMUP,
      run: (n) => runSdkPerRequest(s2p, n),
      cpu: [],
      wall: [],
    },
    {
      name: 'sdk-metrics, pre-built attrs',
      backends: 2,
      iterations: SDK_ITERATIONS,
      warmup: SDK_WARMUP,
      run: (n) => runSdkPrebuilt(s2b, n),
      cpu: [],
      wall: [],
    },
  ];

  // Warm-up: binds Tollgate's cells and the SDK's accumulations, and lets V8 optimise every loop.
  for (const v of variants) v.run(v.warmup);

  const foreignLoad = startForeignLoadMeter();
  // Repeats are interleaved (every variant once per repeat, order rotated) so drift spreads evenly.
  for (let r = 0; r < REPEATS; r++) {
    const order = [...variants.slice(r % variants.length), ...variants.slice(0, r % variants.length)];
    for (const v of order) {
      const t = timeSync(() => v.run(v.iterations));
      v.cpu.push(t.cpuNs / v.iterations);
      v.wall.push(t.wallNs / v.iterations);
    }
    process.stderr.write(`telemetry-record: repeat ${r + 1}/${REPEATS} done\n`);
  }
  const foreignPercent = foreignLoad();

  // Every variant recorded warm-up + repeats x iterations requests.
  const expected = WARMUP + REPEATS * ITERATIONS;
  const sdkExpected = SDK_WARMUP + REPEATS * SDK_ITERATIONS;
  const checks: string[] = [];
  for (const [label, v, backends] of [
    ['tollgate 1 backend', t1, 1],
    ['tollgate 2 backends', t2, 2],
  ] as const) {
    const { observations, series } = tollgateTotals(v.store);
    // Histograms per request: global 2 + proxy 1 + per backend (stage 1 + round trip 5 + read 2).
    const want = expected * (3 + 8 * backends);
    checks.push(
      `${label}: ${series} series, ${observations.toExponential(3)} histogram observations (expected ${want.toExponential(3)}) ${observations === want ? 'ok' : 'MISMATCH'}`,
    );
  }
  for (const [label, v, backends] of [
    ['sdk 1 backend per-request', s1p, 1],
    ['sdk 1 backend pre-built', s1b, 1],
    ['sdk 2 backends per-request', s2p, 2],
    ['sdk 2 backends pre-built', s2b, 2],
  ] as const) {
    const { observations, series } = await sdkTotals(v.reader);
    const want = sdkExpected * (3 + 8 * backends);
    checks.push(
      `${label}: ${series} series, ${observations.toExponential(3)} histogram observations (expected ${want.toExponential(3)}) ${observations === want ? 'ok' : 'MISMATCH'}`,
    );
  }

  const rows = variants.map((v) => ({ v, cpu: median(v.cpu), wall: median(v.wall) }));
  const header = ['variant', 'backends', 'ops/req', 'requests/repeat', 'CPU ns/req', 'wall ns/req', 'CPU min..max'];
  const lines = rows.map(({ v, cpu, wall }) => [
    v.name,
    String(v.backends),
    String(3 + 12 * v.backends),
    v.iterations.toLocaleString('en-US'),
    fmtNs(cpu),
    fmtNs(wall),
    `${fmtNs(Math.min(...v.cpu))}..${fmtNs(Math.max(...v.cpu))}`,
  ]);

  const out: string[] = [];
  out.push(
    '',
    `Telemetry recording cost per request — median of ${REPEATS} interleaved repeats (CPU = process.cpuUsage, GC included)`,
    '',
  );
  out.push(...textTable(header, lines, firstColumnLeft), '');

  const cpuOf = (name: string, backends: number): number =>
    rows.find((r) => r.v.name === name && r.v.backends === backends)?.cpu ?? NaN;
  let pass = true;
  for (const backends of [1, 2]) {
    const tg = cpuOf('tollgate', backends);
    const perReq = cpuOf('sdk-metrics, per-request attrs', backends) / tg;
    const prebuilt = cpuOf('sdk-metrics, pre-built attrs', backends) / tg;
    out.push(
      `${backends} backend${backends === 1 ? ': ' : 's:'} ratio (sdk-metrics / tollgate): ${prebuilt.toFixed(1)}x with pre-built attrs, ${perReq.toFixed(1)}x with per-request attrs (krakend-otel style)`,
    );
    if (backends === 1) pass = tg <= TARGET_NS && prebuilt >= TARGET_RATIO;
  }
  const tg1 = cpuOf('tollgate', 1);
  const ratio1 = cpuOf('sdk-metrics, pre-built attrs', 1) / tg1;
  out.push(
    '',
    `ratio (sdk-metrics / tollgate): ${ratio1.toFixed(1)}  (1 backend, SDK with pre-built attrs — its best case)`,
    `target: tollgate <= ${TARGET_NS} ns/request and >= ${TARGET_RATIO}x cheaper: ${pass ? 'met' : 'NOT met'} (tollgate ${fmtNs(tg1)}, ${ratio1.toFixed(1)}x)`,
    '',
    'sanity:',
    ...checks.map((c) => `  ${c}`),
    '',
    ...foreignLoadLines(foreignPercent, quiet),
  );
  process.stdout.write(`${out.join('\n')}\n`);

  await Promise.all([s1p, s1b, s2p, s2b].map((v) => v.provider.shutdown()));
}

await main();
