// Cluster benchmark: what `workers: 1` and `workers: 2` buy on this machine, against the floor
// proxy run the same way, and what the primary's metric aggregation (ask every worker over IPC,
// merge, render) costs per scrape and on the request path.
//
//   node --import tsx bench/cluster.ts [--duration 5] [--warmup 1] [--rounds 3] [--connections 50] [--no-wait]
//
// Targets, all started up front against one upstream and measured one at a time:
//   floor x1           lib/floor-proxy.ts as is (one process);
//   floor x2           lib/floor-cluster.ts: the same proxy in 2 node:cluster workers on one port;
//   tollgate w1 / w2   bin/tollgate.js run with `workers: 1` / `workers: 2`, no telemetry;
//   tollgate w1 / w2 + prom  the same with a `telemetry/opentelemetry` Prometheus exporter
//                      (default layers, process_metrics on) on a loopback port.
// Each round runs, in a rotated order: the four plain targets, w1+prom scraped once a second
// during the measured run, w2+prom not scraped, and w2+prom scraped once a second. After each
// scraped run the driver scrapes /metrics --scrapes times back to back and reads the primary's
// and the workers' CPU time from /proc around that batch. Nothing is pinned: the workers need
// both cores. The median round (by req/s) is reported. See bench/CLUSTER.md.

import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { intArg, toolArg, tollgateBinArg } from './lib/args.js';
import { medianRound } from './lib/bench-row.js';
import type { TrackedChild } from './lib/children.js';
import { armWatchdog, installCleanupHandlers, isShuttingDown, runCleanup } from './lib/cleanup.js';
import { backgroundCpuBusyPercent } from './lib/cpu-quiet.js';
import { childPids, CLOCK_TICKS_PER_SECOND, startTreeForeignLoadMeter } from './lib/foreign-load.js';
import { getFreePort } from './lib/free-port.js';
import { selectLoadGenerator, type LoadToolChoice } from './lib/load-generator.js';
import type { LoadGenerator, LoadResult } from './lib/load-result.js';
import { startNodeServer } from './lib/node-child.js';
import { noiseWarnings } from './lib/noise-report.js';
import { cpuTicks, getText, nodePidOf, sumSamples, waitForQuietBench } from './lib/otlp-bench-util.js';
import { probeTarget } from './lib/probe.js';
import { benchEnvironment, writeResultsFile } from './lib/results-file.js';
import { createRunTempDir } from './lib/temp-dir.js';
import { startTollgateWithConfig } from './lib/tollgate-with-config.js';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const TAG = 'cluster';
const USAGE = `Usage: node --import tsx bench/cluster.ts [options]

  --duration <s>        measured seconds per run                      (default 5)
  --warmup <s>          unmeasured warm-up seconds before each run    (default 1)
  --rounds <n>          rounds; each runs all 7 runs, rotated         (default 3)
  --connections <n>     concurrent client connections                 (default 50)
  --threads <n>         wrk threads                                   (default 1)
  --payload <bytes>     upstream body size                            (default 1024)
  --timeout <s>         per-request timeout, counted as error         (default 5)
  --scrapes <n>         back-to-back /metrics scrapes after each scraped run (default 200)
  --tool <name>         auto | wrk | autocannon                       (default auto)
  --no-wait             do not wait for other benchmarks (wrk, autocannon, bench/*.ts) to finish
                        (default: wait, up to 10 min in total)
  --tollgate-bin <path> launcher to run (default <repo>/bin/tollgate.js)
  -h, --help            show this help
`;
/** Longest total wait for other benchmarks to finish. */
const WAIT_BUDGET_MS = 10 * 60_000;
/** A scrape batch stops after this long even if it has not done --scrapes scrapes (a wedged primary). */
const SCRAPE_BATCH_MAX_MS = 30_000;
const SCRAPE_TIMEOUT_MS = 5_000;

const TARGETS = ['floor-x1', 'floor-x2', 'tollgate-w1', 'tollgate-w2', 'tollgate-w1-prom', 'tollgate-w2-prom'] as const;
type TargetName = (typeof TARGETS)[number];
const WORKERS: Readonly<Record<TargetName, 1 | 2>> = { 'floor-x1': 1, 'floor-x2': 2, 'tollgate-w1': 1, 'tollgate-w2': 2, 'tollgate-w1-prom': 1, 'tollgate-w2-prom': 2 };

/** One kind of measured run: a target, and whether the driver scrapes it during and after the load. */
interface RunSpec {
  readonly id: string;
  readonly target: TargetName;
  readonly scraped: boolean;
  readonly label: string;
}
const RUN_SPECS: readonly RunSpec[] = [
  { id: 'floor-x1', target: 'floor-x1', scraped: false, label: 'floor' },
  { id: 'tollgate-w1', target: 'tollgate-w1', scraped: false, label: 'tollgate, telemetry off' },
  { id: 'tollgate-w1+prom', target: 'tollgate-w1-prom', scraped: true, label: 'tollgate, prom, scraped 1/s' },
  { id: 'floor-x2', target: 'floor-x2', scraped: false, label: 'floor (node:cluster)' },
  { id: 'tollgate-w2', target: 'tollgate-w2', scraped: false, label: 'tollgate, telemetry off' },
  { id: 'tollgate-w2+prom-idle', target: 'tollgate-w2-prom', scraped: false, label: 'tollgate, prom, not scraped' },
  { id: 'tollgate-w2+prom', target: 'tollgate-w2-prom', scraped: true, label: 'tollgate, prom, scraped 1/s' },
];

interface Options {
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly rounds: number;
  readonly connections: number;
  readonly threads: number;
  readonly payloadBytes: number;
  readonly timeoutSeconds: number;
  readonly scrapes: number;
  readonly tool: LoadToolChoice;
  readonly wait: boolean;
  readonly tollgateBin: string;
}

function parseOptions(argv: readonly string[]): Options | undefined {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      connections: { type: 'string' },
      threads: { type: 'string' },
      payload: { type: 'string' },
      timeout: { type: 'string' },
      scrapes: { type: 'string' },
      tool: { type: 'string' },
      'no-wait': { type: 'boolean' },
      'tollgate-bin': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return undefined;
  return {
    durationSeconds: intArg('duration', values.duration, 5),
    warmupSeconds: intArg('warmup', values.warmup, 1, 0),
    rounds: intArg('rounds', values.rounds, 3),
    connections: intArg('connections', values.connections, 50),
    threads: intArg('threads', values.threads, 1),
    payloadBytes: intArg('payload', values.payload, 1024, 0),
    timeoutSeconds: intArg('timeout', values.timeout, 5),
    scrapes: intArg('scrapes', values.scrapes, 200, 2),
    tool: toolArg(values.tool),
    wait: values['no-wait'] !== true,
    tollgateBin: tollgateBinArg(values['tollgate-bin']),
  };
}

function gatewayConfig(port: number, workers: number, upstreamOrigin: string, metricsPort: number | undefined): { port: number } & Record<string, unknown> {
  // No `layers`: KrakenD's defaults, every layer on, as a real deployment that scrapes would have.
  const telemetry = {
    extra_config: {
      'telemetry/opentelemetry': {
        service_name: 'tollgate-cluster-bench',
        exporters: { prometheus: [{ name: 'bench', port: metricsPort, listen_ip: '127.0.0.1', process_metrics: true, go_metrics: false }] },
      },
    },
  };
  return {
    version: 3,
    port,
    workers,
    timeout: '3s',
    ...(metricsPort === undefined ? {} : telemetry),
    endpoints: [
      { endpoint: '/payload', method: 'GET', output_encoding: 'no-op', backend: [{ host: [upstreamOrigin], url_pattern: '/payload', encoding: 'no-op' }] },
    ],
  };
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
const fmtRatio = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? 'n/a' : n.toFixed(2));

/** The q-quantile (0..1) of samples by the nearest-rank method; NaN when empty. */
function quantile(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

/** The largest sample; NaN when empty (Math.max alone would say -Infinity). */
const maxOf = (samples: readonly number[]): number => (samples.length === 0 ? Number.NaN : Math.max(...samples));

interface Target {
  readonly name: TargetName;
  readonly child: TrackedChild;
  readonly url: string;
  /** The Node process the driver spawned: the floor, the floor cluster's primary, or Tollgate's primary. */
  readonly pid: number;
  readonly metricsUrl: string | undefined;
}

/** Node processes forked by `pid` (cluster workers), leaving out helpers such as tsx's esbuild service. */
function nodeChildren(pid: number): number[] {
  return childPids(pid).filter((c) => {
    try {
      return readFileSync(`/proc/${c}/comm`, 'utf8').trim().startsWith('node');
    } catch {
      return false;
    }
  });
}

/** The processes that serve requests: the floor itself, or the workers of a cluster. */
function servingPids(target: Target): number[] {
  return target.name === 'floor-x1' ? [target.pid] : nodeChildren(target.pid);
}

const ticksOf = (pids: readonly number[]): number => pids.reduce((sum, p) => sum + (cpuTicks(p) ?? 0), 0);
const ticksToMs = (ticks: number): number => (ticks * 1000) / CLOCK_TICKS_PER_SECOND;

async function startTarget(name: TargetName, upstreamOrigin: string, options: Options, tempDir: string, leashSeconds: number): Promise<Target> {
  if (name === 'floor-x1' || name === 'floor-x2') {
    const started =
      name === 'floor-x1'
        ? await startNodeServer(name, './floor-proxy.ts', ['--upstream', upstreamOrigin], 15_000)
        : await startNodeServer(name, './floor-cluster.ts', ['--upstream', upstreamOrigin, '--workers', '2'], 20_000);
    if (!started.ok) throw new Error(`${name} failed to start: ${started.reason}`);
    const pid = started.child.process.pid;
    if (pid === undefined) throw new Error(`${name}: no pid`);
    return { name, child: started.child, url: `http://127.0.0.1:${started.port}/payload`, pid, metricsUrl: undefined };
  }
  const metricsPort = name.endsWith('-prom') ? await getFreePort() : undefined;
  const port = await getFreePort();
  const started = await startTollgateWithConfig({
    name,
    config: gatewayConfig(port, WORKERS[name], upstreamOrigin, metricsPort),
    bin: options.tollgateBin,
    tempDir,
    leashSeconds,
  });
  if (!started.ok) throw new Error(started.reason);
  // Started under coreutils `timeout`: the primary is the `node bin/tollgate.js run` below it.
  const pid = nodePidOf(started.child.process.pid);
  if (pid === undefined) throw new Error(`${name}: cannot find the primary's pid`);
  const metricsUrl = metricsPort === undefined ? undefined : `http://127.0.0.1:${metricsPort}/metrics`;
  return { name, child: started.child, url: `${started.origin}/payload`, pid, metricsUrl };
}

/** /metrics fetched once: latency (fresh loopback connection included), body size and sample count. */
async function scrapeOnce(url: string): Promise<{ ms: number; bytes: number; samples: number; text: string }> {
  const t0 = performance.now();
  const { status, text } = await getText(url, SCRAPE_TIMEOUT_MS);
  const ms = performance.now() - t0;
  if (status !== 200) throw new Error(`GET ${url}: HTTP ${status}`);
  const samples = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  return { ms, bytes: Buffer.byteLength(text), samples, text };
}

/** One scrape per second until `done()`; failures are counted, never thrown. */
async function scrapeEverySecond(url: string, done: () => boolean): Promise<{ latenciesMs: number[]; failures: number }> {
  const latenciesMs: number[] = [];
  let failures = 0;
  let next = performance.now() + 1000;
  while (!done()) {
    if (performance.now() < next) {
      await sleep(50);
      continue;
    }
    next += 1000;
    try {
      latenciesMs.push((await scrapeOnce(url)).ms);
    } catch {
      failures++;
    }
  }
  return { latenciesMs, failures };
}

interface ScrapeBatch {
  readonly scrapes: number;
  readonly failures: number;
  readonly latenciesMs: readonly number[];
  readonly medianMs: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly wallMs: number;
  readonly primaryCpuMsPerScrape: number;
  readonly workersCpuMsPerScrape: number;
  readonly bodyBytes: number;
  readonly samples: number;
}

/** `count` scrapes back to back (bounded in time), with the primary's and workers' CPU time around them. */
async function scrapeBatch(target: Target, url: string, count: number): Promise<ScrapeBatch> {
  const workers = nodeChildren(target.pid);
  const primary0 = cpuTicks(target.pid) ?? 0;
  const workers0 = ticksOf(workers);
  const t0 = performance.now();
  const latenciesMs: number[] = [];
  let failures = 0;
  let last = { bytes: 0, samples: 0 };
  for (let i = 0; i < count && performance.now() - t0 < SCRAPE_BATCH_MAX_MS && !isShuttingDown(); i++) {
    try {
      const s = await scrapeOnce(url);
      latenciesMs.push(s.ms);
      last = s;
    } catch {
      failures++;
    }
  }
  const wallMs = performance.now() - t0;
  const primaryTicks = (cpuTicks(target.pid) ?? 0) - primary0;
  const workerTicks = ticksOf(workers) - workers0;
  const n = Math.max(1, latenciesMs.length);
  return {
    scrapes: latenciesMs.length,
    failures,
    latenciesMs,
    medianMs: quantile(latenciesMs, 0.5),
    p99Ms: quantile(latenciesMs, 0.99),
    maxMs: maxOf(latenciesMs),
    wallMs,
    primaryCpuMsPerScrape: ticksToMs(primaryTicks) / n,
    workersCpuMsPerScrape: ticksToMs(workerTicks) / n,
    bodyBytes: last.bytes,
    samples: last.samples,
  };
}

interface Run {
  readonly round: number;
  readonly id: string;
  readonly target: TargetName;
  readonly result: { readonly load: LoadResult; readonly backgroundCpuBusyPercent: number };
  readonly warmupRequests: number;
  readonly foreignDuringPercent: number | undefined;
  /** CPU of the primary (undefined for floor x1) and of each serving process, % of one core. */
  readonly primaryCpuPercent: number | undefined;
  readonly servingCpuPercent: readonly number[];
  readonly duringLoad: { readonly latenciesMs: readonly number[]; readonly failures: number } | undefined;
  readonly batch: ScrapeBatch | undefined;
}

async function measure(generator: LoadGenerator, options: Options, target: Target, spec: RunSpec, round: number): Promise<Run> {
  const base = { url: target.url, connections: options.connections, threads: options.threads, timeoutSeconds: options.timeoutSeconds };
  // Let the previous run's connections close, then sample foreign load while every bench process is idle.
  await sleep(250);
  const busy = await backgroundCpuBusyPercent();
  const warmupRequests = options.warmupSeconds > 0 ? (await generator.run({ ...base, durationSeconds: options.warmupSeconds })).requests : 0;
  const serving = servingPids(target);
  const primary0 = target.name === 'floor-x1' ? undefined : cpuTicks(target.pid);
  const serving0 = serving.map((p) => cpuTicks(p) ?? 0);
  const foreign = startTreeForeignLoadMeter();
  const t0 = performance.now();
  let loadDone = false;
  const scraping = spec.scraped && target.metricsUrl !== undefined ? scrapeEverySecond(target.metricsUrl, () => loadDone) : undefined;
  const load = await generator.run({ ...base, durationSeconds: options.durationSeconds }).finally(() => (loadDone = true));
  const wallS = (performance.now() - t0) / 1000;
  const foreignDuringPercent = foreign();
  const pct = (ticks: number): number => Math.round((1000 * ticks) / CLOCK_TICKS_PER_SECOND / wallS) / 10;
  const primaryCpuPercent = primary0 === undefined ? undefined : pct((cpuTicks(target.pid) ?? 0) - primary0);
  const servingCpuPercent = serving.map((p, i) => pct((cpuTicks(p) ?? 0) - (serving0[i] ?? 0)));
  const duringLoad = scraping === undefined ? undefined : await scraping;
  const batch = spec.scraped && target.metricsUrl !== undefined ? await scrapeBatch(target, target.metricsUrl, options.scrapes) : undefined;
  return {
    round,
    id: spec.id,
    target: spec.target,
    result: { load, backgroundCpuBusyPercent: Math.round(busy * 10) / 10 },
    warmupRequests,
    foreignDuringPercent,
    primaryCpuPercent,
    servingCpuPercent,
    duringLoad,
    batch,
  };
}

function describeRun(run: Run): string {
  const { load } = run.result;
  const scrape =
    run.batch === undefined
      ? ''
      : `; ${run.batch.scrapes} scrapes after: median ${run.batch.medianMs.toFixed(2)} ms, p99 ${run.batch.p99Ms.toFixed(2)} ms, ` +
        `primary ${run.batch.primaryCpuMsPerScrape.toFixed(2)} ms CPU/scrape`;
  return (
    `${TAG}:   ${fmtInt(load.requestsPerSecond)} req/s, p50 ${load.latencyMs.p50.toFixed(2)} ms, p99 ${load.latencyMs.p99.toFixed(2)} ms, ` +
    `errors ${load.errors}/${load.non2xx}; CPU ${cpuCell(run)}; foreign ${run.foreignDuringPercent === undefined ? 'n/a' : `${Math.round(run.foreignDuringPercent)}%`}${scrape}`
  );
}

/** "primary / worker+worker" CPU, % of one core. */
function cpuCell(run: Run): string {
  const serving = run.servingCpuPercent.map((p) => Math.round(p)).join('+') || 'n/a';
  return run.primaryCpuPercent === undefined ? `- / ${serving}` : `${Math.round(run.primaryCpuPercent)} / ${serving}`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[], leftColumns: number): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const fmt = (cols: readonly string[]): string =>
    cols
      .map((s, c) => (c < leftColumns ? s.padEnd(widths[c] ?? 0) : s.padStart(widths[c] ?? 0)))
      .join('  ')
      .trimEnd();
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)];
}

interface Summary {
  readonly rps: Readonly<Record<string, number>>;
  readonly ratios: Readonly<Record<string, number>>;
  readonly scrape: Readonly<Record<string, unknown>>;
}

function report(runs: readonly Run[], options: Options, generator: LoadGenerator): { lines: string[]; summary: Summary } {
  const of = (id: string): Run[] => runs.filter((r) => r.id === id);
  const median = (id: string): LoadResult | undefined => (of(id).length === 0 ? undefined : medianRound(of(id).map((r) => r.result.load)));
  const rps: Record<string, number> = {};
  for (const spec of RUN_SPECS) {
    const m = median(spec.id);
    if (m !== undefined) rps[spec.id] = m.requestsPerSecond;
  }
  const ratio = (a: string, b: string): number => (rps[a] ?? Number.NaN) / (rps[b] ?? Number.NaN);
  const floorOf = (w: 1 | 2): string => (w === 1 ? 'floor-x1' : 'floor-x2');
  const offOf = (w: 1 | 2): string => (w === 1 ? 'tollgate-w1' : 'tollgate-w2');
  const rows = RUN_SPECS.map((spec) => {
    const m = median(spec.id);
    const w = WORKERS[spec.target];
    const errors = of(spec.id).reduce((n, r) => n + r.result.load.errors, 0);
    const non2xx = of(spec.id).reduce((n, r) => n + r.result.load.non2xx, 0);
    const medianRun = of(spec.id).find((r) => r.result.load === m);
    const isTollgate = spec.target.startsWith('tollgate');
    return [
      spec.id,
      String(w),
      spec.label,
      m === undefined ? 'n/a' : fmtInt(m.requestsPerSecond),
      of(spec.id).map((r) => fmtInt(r.result.load.requestsPerSecond)).join(' / '),
      m === undefined ? '' : m.latencyMs.p50.toFixed(2),
      m === undefined ? '' : m.latencyMs.p99.toFixed(2),
      `${errors}/${non2xx}`,
      medianRun === undefined ? '' : cpuCell(medianRun),
      isTollgate ? fmtRatio(ratio(spec.id, floorOf(w))) : '',
      spec.target.endsWith('-prom') ? fmtRatio(ratio(spec.id, offOf(w))) : '',
    ];
  });
  const header = ['run', 'workers', 'what', 'req/s', 'per round', 'p50 ms', 'p99 ms', 'err/non-2xx', 'CPU % prim / serving', 'vs floor', 'vs off'];
  const ratios: Record<string, number> = {
    'tollgate/floor w1': ratio('tollgate-w1', 'floor-x1'),
    'tollgate/floor w2': ratio('tollgate-w2', 'floor-x2'),
    'floor scaling x2/x1': ratio('floor-x2', 'floor-x1'),
    'tollgate scaling w2/w1': ratio('tollgate-w2', 'tollgate-w1'),
    'w1 prom scraped/off': ratio('tollgate-w1+prom', 'tollgate-w1'),
    'w2 prom not scraped/off': ratio('tollgate-w2+prom-idle', 'tollgate-w2'),
    'w2 prom scraped/off': ratio('tollgate-w2+prom', 'tollgate-w2'),
    'w2 prom scraped/not scraped': ratio('tollgate-w2+prom', 'tollgate-w2+prom-idle'),
  };
  const lines = [
    '',
    `Cluster benchmark — GET /payload (${options.payloadBytes} B), ${options.connections} connections, ${generator.name} ${options.threads} thread(s), ` +
      `${options.warmupSeconds}s warm-up + ${options.durationSeconds}s x ${options.rounds} round(s); median round shown`,
    `not pinned: on ${availableParallelism()} cores wrk, the upstream and the driver share the cores with the gateway, ` +
      'so absolute numbers are low; only ratios within this run matter',
    '',
    ...table(header, rows, 3),
    '',
    'CPU % = % of one core during the measured run: the primary (Tollgate\'s or the floor cluster\'s) / each serving process.',
    '',
    `tollgate/floor      workers 1: ${fmtRatio(ratios['tollgate/floor w1'])}   workers 2: ${fmtRatio(ratios['tollgate/floor w2'])}`,
    `scaling 2 vs 1      floor: ${fmtRatio(ratios['floor scaling x2/x1'])}   tollgate: ${fmtRatio(ratios['tollgate scaling w2/w1'])}`,
    `telemetry vs off    w1 prom scraped 1/s: ${fmtRatio(ratios['w1 prom scraped/off'])}   w2 prom not scraped: ${fmtRatio(ratios['w2 prom not scraped/off'])}   ` +
      `w2 prom scraped 1/s: ${fmtRatio(ratios['w2 prom scraped/off'])}   (w2 scraped / not scraped: ${fmtRatio(ratios['w2 prom scraped/not scraped'])})`,
  ];
  const scrape = scrapeReport(runs, options, lines);
  return { lines, summary: { rps, ratios, scrape } };
}

/** Appends the scrape-cost table: every round's batch pooled for latency, CPU per scrape per round. */
function scrapeReport(runs: readonly Run[], options: Options, lines: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const rows: string[][] = [];
  for (const id of ['tollgate-w1+prom', 'tollgate-w2+prom']) {
    const scraped = runs.filter((r) => r.id === id && r.batch !== undefined);
    const batches = scraped.map((r) => r.batch as ScrapeBatch);
    if (batches.length === 0) continue;
    const all = batches.flatMap((b) => b.latenciesMs);
    const during = scraped.flatMap((r) => r.duringLoad?.latenciesMs ?? []);
    const primary = batches.map((b) => b.primaryCpuMsPerScrape);
    const workers = batches.map((b) => b.workersCpuMsPerScrape);
    const failures = batches.reduce((n, b) => n + b.failures, 0) + scraped.reduce((n, r) => n + (r.duringLoad?.failures ?? 0), 0);
    const last = batches[batches.length - 1] as ScrapeBatch;
    const entry = {
      scrapes: all.length,
      medianMs: quantile(all, 0.5),
      p99Ms: quantile(all, 0.99),
      maxMs: maxOf(all),
      primaryCpuMsPerScrape: quantile(primary, 0.5),
      workersCpuMsPerScrape: quantile(workers, 0.5),
      bodyBytes: last.bodyBytes,
      samples: last.samples,
      duringLoad: { scrapes: during.length, medianMs: quantile(during, 0.5), maxMs: maxOf(during) },
      failures,
    };
    out[id] = { ...entry, perRound: batches.map(({ latenciesMs: _l, ...rest }) => rest) };
    rows.push([
      id,
      String(entry.scrapes),
      entry.medianMs.toFixed(2),
      entry.p99Ms.toFixed(2),
      entry.maxMs.toFixed(2),
      primary.map((v) => v.toFixed(2)).join(' / '),
      workers.map((v) => v.toFixed(2)).join(' / '),
      `${(entry.bodyBytes / 1024).toFixed(1)} KiB, ${entry.samples}`,
      during.length === 0 ? 'n/a' : `${during.length}: ${entry.duringLoad.medianMs.toFixed(2)} / ${entry.duringLoad.maxMs.toFixed(2)}`,
      String(failures),
    ]);
  }
  lines.push(
    '',
    `Scrape cost — ${options.scrapes} sequential GET /metrics right after each scraped run (fresh loopback connection each), all rounds pooled:`,
    '',
    ...table(['gateway', 'scrapes', 'median ms', 'p99 ms', 'max ms', 'primary CPU ms/scrape', 'workers CPU ms/scrape', 'body, samples', 'under load 1/s: n: median / max ms', 'failed'], rows, 1),
    '',
    `CPU ms/scrape (per round) = utime+stime from /proc over the batch / scrapes, ${CLOCK_TICKS_PER_SECOND} ticks/s; workers = all workers summed.`,
  );
  return out;
}

/** Requests the merged /metrics counts against what the load generator completed, per Prometheus gateway. */
interface Check {
  readonly label: string;
  readonly ok: boolean;
  readonly detail: string;
}

async function countChecks(targets: ReadonlyMap<TargetName, Target>, runs: readonly Run[], options: Options): Promise<Check[]> {
  const checks: Check[] = [];
  for (const name of ['tollgate-w1-prom', 'tollgate-w2-prom'] as const) {
    const target = targets.get(name);
    if (target?.metricsUrl === undefined) continue;
    const mine = runs.filter((r) => r.target === name);
    // + 1 for the probe; wrk stops with up to `connections` requests in flight per load run (warm-up and measured).
    const completed = mine.reduce((n, r) => n + r.warmupRequests + r.result.load.requests, 0) + 1;
    const slack = mine.length * 2 * options.connections;
    const text = (await scrapeOnce(target.metricsUrl)).text;
    const counted = sumSamples(text, 'http_server_duration_count').sum;
    const workers = sumSamples(text, 'tollgate_cluster_workers').sum;
    checks.push({
      label: `${name}: merged http_server_duration_count covers every request`,
      ok: counted >= completed && counted <= completed + slack,
      detail: `${fmtInt(counted)} counted, ${fmtInt(completed)} completed by the load generator (+ up to ${fmtInt(slack)} in flight at its stops)`,
    });
    checks.push({ label: `${name}: tollgate_cluster_workers`, ok: workers === WORKERS[name], detail: String(workers) });
  }
  return checks;
}

/** Starts every target, probes it and checks its number of serving processes; undefined when interrupted. */
async function startAll(upstreamOrigin: string, options: Options, tempDir: string, leashSeconds: number): Promise<Map<TargetName, Target> | undefined> {
  const targets = new Map<TargetName, Target>();
  for (const name of TARGETS) {
    if (isShuttingDown()) return undefined;
    const target = await startTarget(name, upstreamOrigin, options, tempDir, leashSeconds);
    const problem = await probeTarget(target.url, options.payloadBytes);
    if (problem !== undefined) throw new Error(`${name}: ${problem}`);
    const serving = servingPids(target).length;
    if (serving !== WORKERS[name]) throw new Error(`${name}: expected ${WORKERS[name]} serving process(es), found ${serving}`);
    targets.set(name, target);
    log(`${TAG}: ${name}: ready at ${target.url} (pid ${target.pid}, ${serving} serving)${target.metricsUrl === undefined ? '' : `, metrics at ${target.metricsUrl}`}`);
  }
  return targets;
}

/** bench/results/cluster-<timestamp>.json: options, environment, summary, every run (without raw scrape samples), checks. */
async function writeResults(
  startedAt: Date,
  options: Options,
  generator: LoadGenerator,
  data: { readonly summary: Summary; readonly runs: readonly Run[]; readonly checks: readonly Check[] },
): Promise<string> {
  const environment = {
    ...benchEnvironment(),
        loadGenerator: generator.version,
    pinned: false,
    clockTicksPerSecond: CLOCK_TICKS_PER_SECOND,
  };
  const runs = data.runs.map(({ batch, ...r }) => ({ ...r, batch: batch === undefined ? undefined : { ...batch, latenciesMs: undefined } }));
  const json = { benchmark: 'cluster', startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), options, environment, summary: data.summary, runs, checks: data.checks };
  const file = await writeResultsFile(RESULTS_DIR, 'cluster', startedAt, json);
  return file;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options === undefined) {
    process.stdout.write(USAGE);
    return;
  }
  installCleanupHandlers();
  const perRun = options.warmupSeconds + options.durationSeconds + 4;
  const scrapedRuns = RUN_SPECS.filter((s) => s.scraped).length;
  const budget = 90 + options.rounds * (RUN_SPECS.length * perRun + (scrapedRuns * SCRAPE_BATCH_MAX_MS) / 1000);
  const waitBudget = options.wait ? WAIT_BUDGET_MS / 1000 : 0;
  armWatchdog((budget + waitBudget) * 1000);
  const tempDir = createRunTempDir('tollgate-cluster-bench-');
  const generator = selectLoadGenerator(options.tool);

  let waitLeftMs = options.wait ? WAIT_BUDGET_MS : 0;
  // Another benchmark on this 2-core box makes every figure meaningless: wait for it, before the run
  // and before every measurement, for at most WAIT_BUDGET_MS in total.
  const quietGate = async (pollMs: number): Promise<void> => {
    if (waitLeftMs <= 0) return;
    const t = Date.now();
    const others = await waitForQuietBench(log, TAG, waitLeftMs, pollMs);
    waitLeftMs = others.length > 0 ? 0 : waitLeftMs - (Date.now() - t);
    if (others.length > 0) log(`${TAG}: warning: other benchmarks still running; measuring anyway — numbers will be noisy`);
  };
  await quietGate(20_000);
  if (isShuttingDown()) return;
  const startedAt = new Date();
  log(
    `${TAG}: ${generator.version}; ${options.connections} connections, ${options.threads} thread(s), ${options.warmupSeconds}s warm-up + ` +
      `${options.durationSeconds}s measured x ${RUN_SPECS.length} runs x ${options.rounds} round(s); ${availableParallelism()} CPU(s), not pinned; budget ${Math.round(budget)}s`,
  );

  const upstream = await startNodeServer('upstream', './upstream-server.ts', ['--payload', String(options.payloadBytes)], 15_000);
  if (!upstream.ok) throw new Error(`upstream failed to start: ${upstream.reason}`);
  const upstreamOrigin = `http://127.0.0.1:${upstream.port}`;
  log(`${TAG}: upstream on ${upstreamOrigin}`);

  const targets = await startAll(upstreamOrigin, options, tempDir, budget + waitBudget + 30);
  if (targets === undefined) return;

  const runs: Run[] = [];
  for (let round = 0; round < options.rounds; round++) {
    // Rotated every round, so no run always goes first (or on a warmer machine).
    const shift = round % RUN_SPECS.length;
    for (const spec of [...RUN_SPECS.slice(shift), ...RUN_SPECS.slice(0, shift)]) {
      await quietGate(5_000);
      if (isShuttingDown()) return;
      log(`${TAG}: round ${round + 1}/${options.rounds}: ${spec.id}...`);
      const run = await measure(generator, options, targets.get(spec.target) as Target, spec, round);
      runs.push(run);
      log(describeRun(run));
    }
  }
  const checks = await countChecks(targets, runs, options);
  await runCleanup();

  const { lines, summary } = report(runs, options, generator);
  const width = Math.max(...checks.map((c) => c.label.length));
  lines.push('', ...checks.map((c) => `  ${c.ok ? 'ok ' : 'BAD'} ${c.label.padEnd(width)}  ${c.detail}`));
  lines.push(...noiseWarnings(runs.map((r) => ({ ...r, endpoint: `w${WORKERS[r.target]}`, mode: r.id }))));

  const file = await writeResults(startedAt, options, generator, { summary, runs, checks });
  lines.push('', `results written to ${file}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  if (checks.some((c) => !c.ok)) process.exitCode = 1;
}

try {
  await main();
} catch (error) {
  process.stderr.write(`${TAG}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await runCleanup();
}
