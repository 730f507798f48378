// Reliability bench (issue 9): does scraping the telemetry listeners 20 times a second stall the
// requests the gateway serves meanwhile?
//
//   node --import tsx bench/scrape-stall.ts [--phase 20] [--rounds 2] [--workers 1] [--rate 3000]
//
// One upstream (lib/telemetry-upstream.ts) and one Tollgate (bin/tollgate.js run, built dist/)
// with --endpoints (50) endpoints, alternately no-op and json, and every telemetry view that a
// scrape reads: `telemetry/opentelemetry` with a Prometheus exporter (process_metrics and
// go_metrics on), `telemetry/kong-prometheus` with every flag on, and `telemetry/metrics`. A
// warm-up drives traffic over all endpoints, so /metrics carries every series (a few hundred KB).
//
// During each phase: wrk, rate-capped by a generated Lua `delay()` (default ~3000 req/s over 20
// connections, all endpoints in turn), as background load; and the probe: this driver sends
// sequential GETs on one keep-alive undici connection, one every --interval-ms (2), and records
// each latency. The two phases of a round, equal in length, differ in one thing: in the scraped
// phase a scraper process (this file with --scraper-child, off the driver's event loop) GETs the
// Prometheus /metrics and the Kong status /metrics, each --scrape-hz (20) times a second. The
// order of the phases alternates round by round. Reported: probe p50/p99/p99.9/max and the count
// of probes slower than 5 ms and 10 ms per phase, the scraped − unscraped difference, scrape
// latencies, and the verdict line "max added p99.9 X ms". Exit status 1 when the added p99.9 of a
// round exceeds --max-added-ms (5), or on errors. Bounded: wrk stops itself, a watchdog and
// `timeout` leashes stop everything else. See bench/RELIABILITY.md.

import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client } from 'undici';
import { intArg, tollgateBinArg } from './lib/args.js';
import { spawnTracked, type TrackedChild } from './lib/children.js';
import { armWatchdog, installCleanupHandlers, isShuttingDown, runCleanup } from './lib/cleanup.js';
import { childPids, CLOCK_TICKS_PER_SECOND, startTreeForeignLoadMeter } from './lib/foreign-load.js';
import { getFreePort } from './lib/free-port.js';
import { describeWrkLoad, wrkDelayMs } from './lib/rate-cap.js';
import { httpGet } from './lib/http-get.js';
import { announce, exitWithParent } from './lib/ipc.js';
import type { LoadResult } from './lib/load-result.js';
import { startNodeServer } from './lib/node-child.js';
import { cpuTicks, getText, nodePidOf, pinProcess, sumSamples, waitForQuietBench } from './lib/otlp-bench-util.js';
import { benchEnvironment, writeResultsFile } from './lib/results-file.js';
import { createRunTempDir } from './lib/temp-dir.js';
import { startTollgateWithConfig } from './lib/tollgate-with-config.js';
import { which } from './lib/which.js';
import { parseWrkOutput } from './lib/wrk-output.js';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const TAG = 'scrape-stall';
/** What Prometheus 2.x/3.x sends (scrape_protocols default minus protobuf), so the exporter renders what it would render for Prometheus. */
const PROMETHEUS_ACCEPT = 'application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';
const SLOW_MS = [5, 10] as const;

const USAGE = `Usage: node --import tsx bench/scrape-stall.ts [options]

  --phase <s>           length of each phase (unscraped, scraped)           (default 20)
  --rounds <n>          rounds of two phases, order alternated each round   (default 2)
  --warmup <s>          load over every endpoint before the first round     (default 5)
  --workers <n>         Tollgate workers                                    (default 1)
  --rate <req/s>        wrk background load: cap on the request rate        (default 3000)
  --connections <n>     wrk connections                                     (default 20)
  --endpoints <n>       gateway endpoints (series on /metrics scale with it) (default 50)
  --interval-ms <n>     probe: one sequential GET every n ms                (default 2)
  --scrape-hz <n>       scrapes per second of each listener in the scraped phase (default 20)
  --max-added-ms <n>    fail when a round's scraped p99.9 exceeds its unscraped one by more (default 5)
  --payload <bytes>     upstream body size                                  (default 1024)
  --isolate             2+ CPUs, 1 worker: the request path (driver and probe, wrk, upstream, the
                        worker) on CPU 1, the scrape path (primary, scraper) on CPU 0, so what is left
                        of "added" is the worker's own pause per scrape, not CPU contention (needs taskset)
  --no-wait             do not wait for other benchmarks (wrk, autocannon, bench/*.ts) to finish
  --tollgate-bin <path> launcher to run (default <repo>/bin/tollgate.js)
  -h, --help            show this help
`;

interface Options {
  readonly phaseSeconds: number;
  readonly rounds: number;
  readonly warmupSeconds: number;
  readonly workers: number;
  readonly rate: number;
  readonly connections: number;
  readonly endpoints: number;
  readonly intervalMs: number;
  readonly scrapeHz: number;
  readonly maxAddedMs: number;
  readonly payloadBytes: number;
  readonly wait: boolean;
  readonly isolate: boolean;
  readonly tollgateBin: string;
}

function parseOptions(argv: readonly string[]): Options | undefined {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      phase: { type: 'string' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      workers: { type: 'string' },
      rate: { type: 'string' },
      connections: { type: 'string' },
      endpoints: { type: 'string' },
      'interval-ms': { type: 'string' },
      'scrape-hz': { type: 'string' },
      'max-added-ms': { type: 'string' },
      payload: { type: 'string' },
      'no-wait': { type: 'boolean' },
      isolate: { type: 'boolean' },
      'tollgate-bin': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return undefined;
  return {
    phaseSeconds: intArg('phase', values.phase, 20, 2),
    rounds: intArg('rounds', values.rounds, 2),
    warmupSeconds: intArg('warmup', values.warmup, 5, 1),
    workers: intArg('workers', values.workers, 1),
    rate: intArg('rate', values.rate, 3000),
    connections: intArg('connections', values.connections, 20),
    endpoints: intArg('endpoints', values.endpoints, 50),
    intervalMs: intArg('interval-ms', values['interval-ms'], 2),
    scrapeHz: intArg('scrape-hz', values['scrape-hz'], 20),
    maxAddedMs: intArg('max-added-ms', values['max-added-ms'], 5, 0),
    payloadBytes: intArg('payload', values.payload, 1024, 0),
    wait: values['no-wait'] !== true,
    isolate: values.isolate === true,
    tollgateBin: tollgateBinArg(values['tollgate-bin']),
  };
}

const endpointPath = (i: number): string => `/e${String(i).padStart(2, '0')}`;

interface Ports {
  readonly port: number;
  readonly metrics: number;
  readonly kong: number;
  readonly stats: number;
}

function gatewayConfig(options: Options, ports: Ports, upstreamPort: number): { port: number } & Record<string, unknown> {
  const host = [`http://127.0.0.1:${upstreamPort}`];
  const endpoints = Array.from({ length: options.endpoints }, (_, i) =>
    i % 2 === 0
      ? { endpoint: endpointPath(i), method: 'GET', output_encoding: 'no-op', backend: [{ host, url_pattern: '/payload', encoding: 'no-op' }] }
      : { endpoint: endpointPath(i), method: 'GET', output_encoding: 'json', backend: [{ host, url_pattern: '/json', encoding: 'json' }] },
  );
  return {
    version: 3,
    name: 'tollgate-scrape-stall',
    port: ports.port,
    workers: options.workers,
    timeout: '3s',
    extra_config: {
      // No `layers`: KrakenD's defaults, every layer recorded, as a deployment that is scraped has.
      'telemetry/opentelemetry': {
        service_name: 'tollgate-scrape-stall',
        exporters: { prometheus: [{ name: 'local', port: ports.metrics, listen_ip: '127.0.0.1', process_metrics: true, go_metrics: true }] },
      },
      'telemetry/kong-prometheus': {
        status_code_metrics: true,
        latency_metrics: true,
        bandwidth_metrics: true,
        upstream_health_metrics: true,
        per_consumer: true,
        listen_address: `127.0.0.1:${ports.kong}`,
      },
      'telemetry/metrics': { listen_address: `127.0.0.1:${ports.stats}` },
    },
    endpoints,
  };
}

/** wrk script: every endpoint in turn; each connection waits `delayMs` after a response (the rate cap). */
function wrkScript(endpoints: number, delayMs: number): string {
  const paths = Array.from({ length: endpoints }, (_, i) => `"${endpointPath(i)}"`).join(', ');
  return [
    `local paths = { ${paths} }`,
    'local i = 0',
    'request = function()',
    '  i = i + 1',
    `  return wrk.format("GET", paths[(i % ${endpoints}) + 1])`,
    'end',
    'delay = function()',
    `  return ${delayMs}`,
    'end',
    '',
  ].join('\n');
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Epoch ms with sub-ms precision, comparable between the driver and the scraper process. */
const epochNow = (): number => performance.timeOrigin + performance.now();

/** The q-quantile (0..1) by the nearest-rank method of an ascending array; NaN when empty. */
function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/** The gateway's worker processes: the Node children of the primary. */
function workerPids(primary: number): number[] {
  return childPids(primary).filter((c) => {
    try {
      return readFileSync(`/proc/${c}/comm`, 'utf8').trim().startsWith('node');
    } catch {
      return false;
    }
  });
}

/** Starts a meter of the CPU used by the primary and by all its workers, in % of one core. */
function startGatewayCpuMeter(primary: number | undefined): () => { primary: number; workers: number } | undefined {
  if (primary === undefined) return () => undefined;
  const ticks = (): [number, number] => [cpuTicks(primary) ?? 0, workerPids(primary).reduce((n, p) => n + (cpuTicks(p) ?? 0), 0)];
  const [p0, w0] = ticks();
  const t0 = performance.now();
  return () => {
    const [p1, w1] = ticks();
    const seconds = (performance.now() - t0) / 1000;
    const pct = (t: number): number => Math.round((1000 * t) / CLOCK_TICKS_PER_SECOND / seconds) / 10;
    return { primary: pct(p1 - p0), workers: pct(w1 - w0) };
  };
}

/** Share (0–100) of [from, to] covered by the union of the intervals. */
function busyPercent(intervals: readonly (readonly [number, number])[], from: number, to: number): number {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  let covered = 0;
  let reach = from;
  for (const [a, b] of sorted) {
    const start = Math.max(a, reach);
    const end = Math.min(b, to);
    if (end > start) covered += end - start;
    reach = Math.max(reach, b);
  }
  return to > from ? Math.round((1000 * covered) / (to - from)) / 10 : 0;
}

// ---------------------------------------------------------------------------------------------
// The scraper: a child process, so that receiving a few hundred KB 20 times a second never runs
// on the event loop that times the probe.

interface ScrapeTargetResult {
  readonly name: string;
  readonly latenciesMs: number[];
  /** [start, end] epoch ms of every scrape, to line slow probes up with scrapes. */
  readonly intervals: [number, number][];
  readonly errors: number;
  readonly lastError?: string | undefined;
  readonly lastBodyBytes: number;
}

type ScraperReply = { readonly type: 'scrapes'; readonly targets: ScrapeTargetResult[] };

async function scraperChild(argv: readonly string[]): Promise<void> {
  exitWithParent();
  const { values } = parseArgs({ args: [...argv], options: { 'scraper-child': { type: 'boolean' }, targets: { type: 'string' }, hz: { type: 'string' } } });
  const periodMs = 1000 / Number(values.hz ?? '20');
  const targets = (values.targets ?? '').split(',').map((spec) => {
    const [name = spec, url = spec] = spec.split('=');
    const u = new URL(url);
    return { name, path: u.pathname, client: new Client(u.origin, { keepAliveTimeout: 60_000, pipelining: 1 }) };
  });
  let running = false;
  let loops: Promise<ScrapeTargetResult>[] = [];

  const loop = async (target: (typeof targets)[number]): Promise<ScrapeTargetResult> => {
    const latenciesMs: number[] = [];
    const intervals: [number, number][] = [];
    let errors = 0;
    let lastError: string | undefined;
    let lastBodyBytes = 0;
    const t0 = performance.now();
    for (let k = 0; running; k++) {
      const wait = t0 + k * periodMs - performance.now();
      if (wait > 0) await sleep(wait);
      if (!running) break;
      const start = performance.now();
      try {
        const res = await target.client.request({ path: target.path, method: 'GET', headers: { accept: PROMETHEUS_ACCEPT }, headersTimeout: 5000, bodyTimeout: 5000 });
        const body = Buffer.from(await res.body.arrayBuffer());
        if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
        lastBodyBytes = body.length;
      } catch (error) {
        errors++;
        lastError = error instanceof Error ? error.message : String(error);
      }
      const end = performance.now();
      latenciesMs.push(end - start);
      intervals.push([performance.timeOrigin + start, performance.timeOrigin + end]);
    }
    return { name: target.name, latenciesMs, intervals, errors, lastError, lastBodyBytes };
  };

  process.on('message', (message: { type?: string }) => {
    if (message.type === 'start' && !running) {
      running = true;
      loops = targets.map(loop);
    } else if (message.type === 'stop') {
      running = false;
      Promise.all(loops).then((results) => process.send?.({ type: 'scrapes', targets: results } satisfies ScraperReply)).catch(() => undefined);
    }
  });
  // "Ready": the ipc.ts protocol wants a port; the scraper has none.
  announce({ type: 'listening', port: 0 });
}

interface Scraper {
  start(): void;
  stop(): Promise<ScrapeTargetResult[]>;
}

async function startScraper(targets: readonly string[], hz: number, pin: ((pid: number) => void) | undefined): Promise<Scraper> {
  const started = await startNodeServer('scraper', '../scrape-stall.ts', ['--scraper-child', '--targets', targets.join(','), '--hz', String(hz)], 15_000);
  if (!started.ok) throw new Error(`scraper failed to start: ${started.reason}`);
  const { child } = started;
  const scraperPid = child.process.pid;
  if (pin !== undefined && scraperPid !== undefined) pin(nodePidOf(scraperPid) ?? scraperPid);
  return {
    start: () => child.process.send?.({ type: 'start' }),
    stop: () =>
      new Promise((resolvePromise, reject) => {
        const timer = setTimeout(() => finish(new Error('scraper: no results within 15 s')), 15_000);
        const onMessage = (message: unknown): void => {
          if (typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'scrapes') finish(undefined, (message as ScraperReply).targets);
        };
        function finish(error: Error | undefined, value?: ScrapeTargetResult[]): void {
          clearTimeout(timer);
          child.process.off('message', onMessage);
          if (error !== undefined || value === undefined) reject(error ?? new Error('scraper: no results'));
          else resolvePromise(value);
        }
        child.process.on('message', onMessage);
        child.process.send?.({ type: 'stop' });
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// The probe: sequential GETs on one keep-alive connection, one every intervalMs.

interface ProbeRun {
  readonly latenciesMs: Float64Array;
  /** Epoch ms at which each probe was sent. */
  readonly sentAt: Float64Array;
  readonly count: number;
  /** Ticks skipped because the previous probe was still out. */
  readonly missedTicks: number;
  readonly errors: number;
  readonly lastError?: string | undefined;
  /** The driver's own event-loop delay p99 (ms): what the probe's timer itself suffered. */
  readonly driverLoopP99Ms: number;
}

async function runProbe(client: Client, path: string, seconds: number, intervalMs: number): Promise<ProbeRun> {
  const capacity = Math.ceil((seconds * 1000) / intervalMs) + 16;
  const latenciesMs = new Float64Array(capacity);
  const sentAt = new Float64Array(capacity);
  let count = 0;
  let missedTicks = 0;
  let errors = 0;
  let lastError: string | undefined;
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let next = t0;
  while (count < capacity && !isShuttingDown()) {
    const wait = next - performance.now();
    if (wait >= 1) await sleep(wait);
    const start = performance.now();
    if (start >= end) break;
    try {
      const res = await client.request({ path, method: 'GET', headersTimeout: 5000, bodyTimeout: 5000 });
      await res.body.arrayBuffer();
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
    } catch (error) {
      errors++;
      lastError = error instanceof Error ? error.message : String(error);
    }
    const now = performance.now();
    latenciesMs[count] = now - start;
    sentAt[count] = performance.timeOrigin + start;
    count++;
    next += intervalMs;
    if (next < now) {
      missedTicks += Math.floor((now - next) / intervalMs);
      next = now;
    }
  }
  loopDelay.disable();
  return { latenciesMs, sentAt, count, missedTicks, errors, lastError, driverLoopP99Ms: loopDelay.percentile(99) / 1e6 };
}

// ---------------------------------------------------------------------------------------------
// One phase: wrk in the background, the probe, and in the scraped phase the scraper.

interface LatencySummary {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

function summarize(values: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  return { n: sorted.length, p50: quantileSorted(sorted, 0.5), p99: quantileSorted(sorted, 0.99), p999: quantileSorted(sorted, 0.999), max: sorted[sorted.length - 1] ?? Number.NaN };
}

interface PhaseResult {
  readonly round: number;
  readonly scraped: boolean;
  readonly probe: LatencySummary & { readonly slow: Record<string, number>; readonly missedTicks: number; readonly errors: number; readonly lastError?: string | undefined; readonly driverLoopP99Ms: number };
  /** Probes slower than the first SLOW_MS threshold whose time overlapped a scrape (scraped phase only). */
  readonly slowDuringScrape?: { readonly slow: number; readonly overlapping: number };
  /** Share of the phase during which at least one scrape was in flight (scraped phase only). */
  readonly scrapeBusyPercent?: number;
  /** CPU of the gateway during the phase, % of one core. */
  readonly gatewayCpu: { readonly primary: number; readonly workers: number } | undefined;
  readonly slowest: { readonly tSeconds: number; readonly ms: number }[];
  readonly scrapes?: { readonly name: string; readonly latency: LatencySummary; readonly errors: number; readonly lastError?: string | undefined; readonly bodyBytes: number }[];
  readonly wrk?: LoadResult;
  readonly wrkError?: string;
  readonly foreignCpuPercent: number | undefined;
}

function runWrk(bin: string, script: string, origin: string, connections: number, seconds: number): { child: TrackedChild; result: Promise<LoadResult> } {
  const child = spawnTracked('wrk', bin, ['--threads', '1', '--connections', String(connections), '--duration', `${seconds}s`, '--timeout', '5s', '--latency', '--script', script, origin], {
    stdout: 'capture',
  });
  const hung = setTimeout(() => child.stop(500).catch(() => undefined), (seconds + 20) * 1000);
  const result = child.exited.then(({ code, signal }) => {
    clearTimeout(hung);
    if (code !== 0) throw new Error(`wrk exited with code ${String(code)} signal ${String(signal)}: ${child.stderrTail() || child.stdout()}`);
    return parseWrkOutput(child.stdout());
  });
  return { child, result };
}

/** How many of the probes slower than `thresholdMs` overlapped any scrape interval. */
function overlapWithScrapes(probe: ProbeRun, scrapes: readonly ScrapeTargetResult[], thresholdMs: number): { slow: number; overlapping: number } {
  const intervals = scrapes.flatMap((s) => s.intervals).sort((a, b) => a[0] - b[0]);
  let slow = 0;
  let overlapping = 0;
  for (let i = 0; i < probe.count; i++) {
    const ms = probe.latenciesMs[i] as number;
    if (ms <= thresholdMs) continue;
    slow++;
    const from = probe.sentAt[i] as number;
    const to = from + ms;
    if (intervals.some(([a, b]) => a < to && b > from)) overlapping++;
  }
  return { slow, overlapping };
}

interface PhaseContext {
  readonly options: Options;
  readonly wrkBin: string;
  readonly script: string;
  readonly origin: string;
  readonly probeClient: Client;
  readonly scraper: Scraper;
  readonly primaryPid: number | undefined;
}

/** A phase's result, and its raw probe latencies (kept out of the JSON file) for the pooled quantiles. */
interface MeasuredPhase {
  readonly result: PhaseResult;
  readonly latenciesMs: Float64Array;
}

async function runPhase(ctx: PhaseContext, round: number, scraped: boolean): Promise<MeasuredPhase> {
  const { options } = ctx;
  const foreign = startTreeForeignLoadMeter();
  // wrk runs 1 s before and after the probe, so the probe never sees wrk connecting or stopping.
  const wrk = runWrk(ctx.wrkBin, ctx.script, ctx.origin, options.connections, options.phaseSeconds + 2);
  const wrkSettled = wrk.result.then(
    (r) => ({ ok: true as const, r }),
    (error: unknown) => ({ ok: false as const, error: error instanceof Error ? error.message : String(error) }),
  );
  await sleep(1000);
  if (scraped) ctx.scraper.start();
  const t0 = epochNow();
  const cpu = startGatewayCpuMeter(ctx.primaryPid);
  const probe = await runProbe(ctx.probeClient, endpointPath(0), options.phaseSeconds, options.intervalMs);
  const gatewayCpu = cpu();
  const t1 = epochNow();
  const scrapes = scraped ? await ctx.scraper.stop() : undefined;
  const wrkOutcome = await wrkSettled;
  const foreignCpuPercent = foreign();

  const values = probe.latenciesMs.subarray(0, probe.count);
  const slow: Record<string, number> = {};
  for (const threshold of SLOW_MS) slow[`>${threshold}ms`] = values.reduce((n, v) => (v > threshold ? n + 1 : n), 0);
  const order = Array.from({ length: probe.count }, (_, i) => i).sort((a, b) => (values[b] as number) - (values[a] as number));
  const slowest = order.slice(0, 10).map((i) => ({ tSeconds: Math.round(((probe.sentAt[i] as number) - t0) / 10) / 100, ms: Math.round((values[i] as number) * 1000) / 1000 }));
  const result: PhaseResult = {
    round,
    scraped,
    probe: { ...summarize(values), slow, missedTicks: probe.missedTicks, errors: probe.errors, lastError: probe.lastError, driverLoopP99Ms: probe.driverLoopP99Ms },
    ...(scrapes === undefined
      ? {}
      : { slowDuringScrape: overlapWithScrapes(probe, scrapes, SLOW_MS[0]), scrapeBusyPercent: busyPercent(scrapes.flatMap((s) => s.intervals), t0, t1) }),
    gatewayCpu,
    slowest,
    ...(scrapes === undefined
      ? {}
      : { scrapes: scrapes.map((s) => ({ name: s.name, latency: summarize(s.latenciesMs), errors: s.errors, lastError: s.lastError, bodyBytes: s.lastBodyBytes })) }),
    ...(wrkOutcome.ok ? { wrk: wrkOutcome.r } : { wrkError: wrkOutcome.error }),
    foreignCpuPercent,
  };
  return { result, latenciesMs: values };
}

// ---------------------------------------------------------------------------------------------
// Report.

const ms = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? 'n/a' : n.toFixed(2));
const signed = (n: number): string => (Number.isFinite(n) ? `${n >= 0 ? '+' : ''}${n.toFixed(2)}` : 'n/a');
const fmtInt = (n: number | undefined): string => (n === undefined ? 'n/a' : Math.round(n).toLocaleString('en-US'));

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const fmt = (cols: readonly string[]): string => cols.map((s, c) => s.padStart(widths[c] ?? 0)).join('  ');
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)];
}

function phaseRow(phase: PhaseResult): string[] {
  const p = phase.probe;
  const extra = { wrk: phase.wrk, scrapes: phase.scrapes, foreign: phase.foreignCpuPercent, overlap: phase.slowDuringScrape };
  const scrape = (name: string): string => {
    const s = extra.scrapes?.find((x) => x.name === name);
    return s === undefined ? '-' : `${ms(s.latency.p50)}/${ms(s.latency.p99)}`;
  };
  return [
    `r${phase.round + 1} ${phase.scraped ? 'scraped' : 'unscraped'}`,
    fmtInt(p.n),
    ms(p.p50),
    ms(p.p99),
    ms(p.p999),
    ms(p.max),
    String(p.slow['>5ms'] ?? 0),
    String(p.slow['>10ms'] ?? 0),
    extra.overlap === undefined ? '-' : `${extra.overlap.overlapping}/${extra.overlap.slow}`,
    phase.scrapeBusyPercent === undefined ? '-' : `${phase.scrapeBusyPercent.toFixed(0)}%`,
    String(p.missedTicks),
    extra.wrk === undefined ? 'n/a' : fmtInt(extra.wrk.requestsPerSecond),
    extra.wrk === undefined ? 'n/a' : ms(extra.wrk.latencyMs.p99),
    scrape('prometheus'),
    scrape('kong'),
    phase.gatewayCpu === undefined ? 'n/a' : `${phase.gatewayCpu.primary.toFixed(0)}% / ${phase.gatewayCpu.workers.toFixed(0)}%`,
    extra.foreign === undefined ? 'n/a' : `${extra.foreign.toFixed(0)}%`,
  ];
}

const HEADER = ['phase', 'probes', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', '>5ms', '>10ms', 'slow∩scrape', 'scrape busy', 'missed', 'wrk req/s', 'wrk p99', 'prom scrape p50/p99', 'kong scrape p50/p99', 'CPU prim/workers', 'foreign CPU'];

interface Summary {
  readonly pooled: { readonly unscraped: LatencySummary; readonly scraped: LatencySummary };
  readonly addedPooled: { readonly p50: number; readonly p99: number; readonly p999: number; readonly max: number };
  readonly addedP999ByRound: number[];
  readonly maxAddedP999: number;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options === undefined) {
    process.stdout.write(USAGE);
    return;
  }
  installCleanupHandlers();
  const measureSeconds = options.warmupSeconds + options.rounds * 2 * (options.phaseSeconds + 6);
  const budget = measureSeconds + 120;
  armWatchdog((budget + (options.wait ? 15 * 60 : 0)) * 1000);
  const wrkBin = which('wrk');
  if (wrkBin === undefined) throw new Error('wrk is not on PATH (the rate-capped background load needs its Lua delay())');
  const tempDir = createRunTempDir('tollgate-scrape-stall-');
  const delayMs = wrkDelayMs(options.connections, options.rate);
  const loadTool = describeWrkLoad(wrkBin, options.connections, options.rate);

  if (options.wait) {
    const others = await waitForQuietBench(log, TAG);
    if (others.length > 0) log(`${TAG}: warning: still not quiet after 15 min; measuring anyway`);
  }
  if (isShuttingDown()) return;
  const startedAt = new Date();
  const loadBefore = loadavg();
  log(`${TAG}: ${options.rounds} round(s) × 2 phases × ${options.phaseSeconds} s; workers ${options.workers}; ${options.endpoints} endpoints; ${loadTool}; ${availableParallelism()} CPU(s)${options.isolate ? ', isolated: request path on CPU 1, primary and scraper on CPU 0' : ''}, load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`);

  // --isolate: this process (the probe) and everything it starts run on CPU 1; the primary and the
  // scraper are moved to CPU 0 once they exist. All threads (-a): GC and libuv threads follow.
  let scrapePathCpu: ((pid: number) => void) | undefined;
  if (options.isolate) {
    const taskset = which('taskset');
    if (taskset === undefined || availableParallelism() < 2 || options.workers !== 1) throw new Error('--isolate needs taskset, 2 or more CPUs and --workers 1');
    pinProcess(taskset, process.pid, 1);
    scrapePathCpu = (pid) => pinProcess(taskset, pid, 0);
  }
  const upstream = await startNodeServer('upstream', './telemetry-upstream.ts', ['--payload', String(options.payloadBytes)], 15_000);
  if (!upstream.ok) throw new Error(`upstream failed to start: ${upstream.reason}`);
  const ports: Ports = { port: await getFreePort(), metrics: await getFreePort(), kong: await getFreePort(), stats: await getFreePort() };
  const started = await startTollgateWithConfig({ name: 'tollgate-scrape-stall', config: gatewayConfig(options, ports, upstream.port), bin: options.tollgateBin, tempDir, leashSeconds: budget + 30 });
  if (!started.ok) throw new Error(started.reason);
  const pid = nodePidOf(started.child.process.pid);
  if (scrapePathCpu !== undefined) {
    if (pid === undefined || workerPids(pid).length !== 1) throw new Error('--isolate: could not find the primary and its one worker');
    scrapePathCpu(pid); // the worker, forked before this, stays on CPU 1
  }
  let gatewayDied = false;
  started.child.exited.then(() => {
    gatewayDied = true;
  }).catch(() => undefined);
  for (const i of [0, 1]) {
    const { status, bodyBytes } = await httpGet(`${started.origin}${endpointPath(i)}`, 5000);
    if (status !== 200 || bodyBytes === 0) throw new Error(`probe GET ${endpointPath(i)}: expected 200 with a body, got ${status} with ${bodyBytes} bytes`);
  }
  const metricsUrl = `http://127.0.0.1:${ports.metrics}/metrics`;
  const kongUrl = `http://127.0.0.1:${ports.kong}/metrics`;
  log(`${TAG}: gateway pid ${String(pid)} at ${started.origin}; /metrics ${metricsUrl}; Kong ${kongUrl}; /__stats on ${ports.stats}`);

  const script = join(tempDir, 'load.lua');
  await writeFile(script, wrkScript(options.endpoints, delayMs));
  // Warm-up: every endpoint gets traffic, so every series exists before the first scrape is timed.
  const warm = runWrk(wrkBin, script, started.origin, options.connections, options.warmupSeconds);
  const warmResult = await warm.result;
  const exposition = await getText(metricsUrl, 5000);
  const kongExposition = await getText(kongUrl, 5000);
  const sampleLines = (text: string): number => text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  const sizes = {
    metricsBytes: Buffer.byteLength(exposition.text),
    metricsSamples: sampleLines(exposition.text),
    kongBytes: Buffer.byteLength(kongExposition.text),
    kongSamples: sampleLines(kongExposition.text),
  };
  log(
    `${TAG}: warm-up ${fmtInt(warmResult.requests)} requests (${fmtInt(warmResult.requestsPerSecond)} req/s, errors ${warmResult.errors}, non-2xx ${warmResult.non2xx}); ` +
      `/metrics ${(sizes.metricsBytes / 1024).toFixed(0)} KB, ${sizes.metricsSamples} samples; Kong ${(sizes.kongBytes / 1024).toFixed(0)} KB, ${sizes.kongSamples} samples`,
  );

  const scraper = await startScraper([`prometheus=${metricsUrl}`, `kong=${kongUrl}`], options.scrapeHz, scrapePathCpu);
  const probeClient = new Client(started.origin, { keepAliveTimeout: 60_000, pipelining: 1 });
  const ctx: PhaseContext = { options, wrkBin, script, origin: started.origin, probeClient, scraper, primaryPid: pid };
  // A few probes first: the probe connection is open and warm before the first measured one.
  await runProbe(probeClient, endpointPath(0), 1, options.intervalMs);

  const phases: PhaseResult[] = [];
  const raw: { scraped: boolean; latenciesMs: Float64Array }[] = [];
  for (let round = 0; round < options.rounds && !isShuttingDown() && !gatewayDied; round++) {
    const order = round % 2 === 0 ? [false, true] : [true, false];
    for (const scraped of order) {
      if (isShuttingDown() || gatewayDied) break;
      const { result: p, latenciesMs } = await runPhase(ctx, round, scraped);
      phases.push(p);
      raw.push({ scraped, latenciesMs });
      log(
        `${TAG}: round ${round + 1} ${scraped ? 'scraped  ' : 'unscraped'}: probe p50 ${ms(p.probe.p50)} p99 ${ms(p.probe.p99)} p99.9 ${ms(p.probe.p999)} max ${ms(p.probe.max)} ms, ` +
          `>5ms ${p.probe.slow['>5ms'] ?? 0}, >10ms ${p.probe.slow['>10ms'] ?? 0}; wrk ${p.wrk === undefined ? (p.wrkError ?? 'n/a') : `${fmtInt(p.wrk.requestsPerSecond)} req/s`}; foreign CPU ${p.foreignCpuPercent ?? 'n/a'}%`,
      );
    }
  }
  await probeClient.close();
  const finalMetrics = gatewayDied ? undefined : await getText(metricsUrl, 5000).catch(() => undefined);
  const collectTimeouts = finalMetrics === undefined ? undefined : sumSamples(finalMetrics.text, 'tollgate_cluster_collect_timeouts_total').sum;
  const diedDuringRun = gatewayDied;
  await runCleanup();
  if (phases.length < options.rounds * 2) throw new Error(diedDuringRun ? `the gateway exited during the run: ${started.child.stderrTail().split('\n').slice(-3).join(' | ')}` : 'interrupted');

  const pooled = (scraped: boolean): LatencySummary => {
    const parts = raw.filter((r) => r.scraped === scraped).map((r) => r.latenciesMs);
    const all = new Float64Array(parts.reduce((n, a) => n + a.length, 0));
    let at = 0;
    for (const a of parts) {
      all.set(a, at);
      at += a.length;
    }
    return summarize(all);
  };
  await report({ options, startedAt, loadTool, loadBefore, sizes, warmResult, phases, pooled: { unscraped: pooled(false), scraped: pooled(true) }, collectTimeouts });
}

interface ReportInput {
  readonly options: Options;
  readonly startedAt: Date;
  readonly loadTool: string;
  readonly loadBefore: number[];
  readonly sizes: Record<string, number>;
  readonly warmResult: LoadResult;
  readonly phases: readonly PhaseResult[];
  /** Every probe of all rounds' phases of one kind. */
  readonly pooled: { readonly unscraped: LatencySummary; readonly scraped: LatencySummary };
  readonly collectTimeouts: number | undefined;
}

function summarizePhases(input: ReportInput): Summary {
  const { phases, options } = input;
  const { unscraped, scraped } = input.pooled;
  const addedP999ByRound = Array.from({ length: options.rounds }, (_, r) => {
    const a = phases.find((p) => p.round === r && !p.scraped);
    const b = phases.find((p) => p.round === r && p.scraped);
    return a === undefined || b === undefined ? Number.NaN : b.probe.p999 - a.probe.p999;
  });
  return {
    pooled: { unscraped, scraped },
    addedPooled: { p50: scraped.p50 - unscraped.p50, p99: scraped.p99 - unscraped.p99, p999: scraped.p999 - unscraped.p999, max: scraped.max - unscraped.max },
    addedP999ByRound,
    maxAddedP999: Math.max(...addedP999ByRound),
  };
}

async function report(input: ReportInput): Promise<void> {
  const { options, phases } = input;
  const summary = summarizePhases(input);
  const out: string[] = [
    '',
    `Scrape stall — workers ${options.workers}, ${options.endpoints} endpoints; /metrics ${((input.sizes['metricsBytes'] ?? 0) / 1024).toFixed(0)} KB ` +
      `(${input.sizes['metricsSamples']} samples), Kong ${((input.sizes['kongBytes'] ?? 0) / 1024).toFixed(0)} KB (${input.sizes['kongSamples']} samples); ` +
      `probe GET ${endpointPath(0)} every ${options.intervalMs} ms on one connection; scraped phase: both listeners ${options.scrapeHz}×/s; background ${input.loadTool}`,
    '',
  ];
  const rows = phases.map(phaseRow);
  out.push(...table(HEADER, rows), '');
  const { unscraped, scraped } = summary.pooled;
  out.push(
    `all rounds pooled: unscraped p50 ${ms(unscraped.p50)} p99 ${ms(unscraped.p99)} p99.9 ${ms(unscraped.p999)} max ${ms(unscraped.max)} ms; ` +
      `scraped p50 ${ms(scraped.p50)} p99 ${ms(scraped.p99)} p99.9 ${ms(scraped.p999)} max ${ms(scraped.max)} ms`,
    `added by scraping: p50 ${signed(summary.addedPooled.p50)} p99 ${signed(summary.addedPooled.p99)} p99.9 ${signed(summary.addedPooled.p999)} max ${signed(summary.addedPooled.max)} ms; ` +
      `per round p99.9 ${summary.addedP999ByRound.map(signed).join(', ')} ms`,
  );
  const slowTotals = (s: boolean, k: string): number => phases.filter((p) => p.scraped === s).reduce((n, p) => n + (p.probe.slow[k] ?? 0), 0);
  out.push(`probes > 5 ms: unscraped ${slowTotals(false, '>5ms')}, scraped ${slowTotals(true, '>5ms')}; > 10 ms: unscraped ${slowTotals(false, '>10ms')}, scraped ${slowTotals(true, '>10ms')} (of ${fmtInt(unscraped.n)} / ${fmtInt(scraped.n)} probes)`);
  const failures: string[] = [];
  for (const p of phases) {
    const name = `round ${p.round + 1} ${p.scraped ? 'scraped' : 'unscraped'}`;
    if (p.probe.errors > 0) failures.push(`${name}: ${p.probe.errors} probe errors (${p.probe.lastError ?? ''})`);
    if (p.wrk === undefined) failures.push(`${name}: wrk failed: ${p.wrkError ?? ''}`);
    else if (p.wrk.errors > 0 || p.wrk.non2xx > 0) failures.push(`${name}: wrk errors ${p.wrk.errors}, non-2xx ${p.wrk.non2xx}`);
    for (const s of p.scrapes ?? []) if (s.errors > 0) failures.push(`${name}: ${s.errors} ${s.name} scrapes failed (${s.lastError ?? ''})`);
  }
  if ((input.collectTimeouts ?? 0) > 0) out.push(`warning: tollgate_cluster_collect_timeouts_total ${input.collectTimeouts}: a worker missed the 1 s collection deadline`);
  const noisy = phases.filter((p) => (p.foreignCpuPercent ?? 0) > 10);
  if (noisy.length > 0) out.push(`warning: other processes used the CPU during ${noisy.length} of ${phases.length} phases (up to ${Math.max(...noisy.map((p) => p.foreignCpuPercent ?? 0)).toFixed(0)}%); tails are noisy — rerun on a quiet machine`);
  const over = summary.maxAddedP999 > options.maxAddedMs;
  if (over) failures.push(`scraping added ${summary.maxAddedP999.toFixed(2)} ms to the probe p99.9 (limit ${options.maxAddedMs} ms)`);
  out.push('', `verdict: max added p99.9 ${signed(summary.maxAddedP999)} ms (limit ${options.maxAddedMs} ms): ${over ? 'STALLS' : 'no stall above the limit'}`);
  const file = await writeResults(input, summary, failures);
  out.push(failures.length === 0 ? 'result: PASS' : `result: FAIL — ${failures.join('; ')}`, `results written to ${file}`);
  process.stdout.write(`${out.join('\n')}\n`);
  if (failures.length > 0) process.exitCode = 1;
}

async function writeResults(input: ReportInput, summary: Summary, failures: readonly string[]): Promise<string> {
  const data = {
    benchmark: 'scrape-stall',
    startedAt: input.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    options: input.options,
    environment: {
      ...benchEnvironment(),
            load: input.loadTool,
      loadAverageBefore: input.loadBefore,
      loadAverageAfter: loadavg(),
    },
    exposition: input.sizes,
    warmup: input.warmResult,
    phases: input.phases,
    summary,
    collectTimeouts: input.collectTimeouts,
    failures,
  };
  const file = await writeResultsFile(RESULTS_DIR, 'scrape-stall', input.startedAt, data);
  return file;
}

if (process.argv.includes('--scraper-child')) {
  await scraperChild(process.argv.slice(2));
} else {
  try {
    await main();
  } catch (error) {
    process.stderr.write(`${TAG}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  } finally {
    await runCleanup();
  }
}
