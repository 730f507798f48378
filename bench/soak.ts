// Reliability soak (issue 9): a long run at moderate load with every telemetry feature on. RSS
// and heap must stay flat, the series count must not grow, and nothing may fail.
//
//   node --import tsx bench/soak.ts [--minutes 10] [--rate 1000] [--connections 20] [--workers 1]
//
// One upstream (lib/telemetry-upstream.ts), one live OTLP/gRPC sink (lib/otlp-sink.ts) and one
// Tollgate (bin/tollgate.js run, built dist/) with: `telemetry/opentelemetry` (a Prometheus
// exporter with process_metrics and go_metrics; OTLP metrics and traces to the sink,
// trace_sample_rate 0.1), `telemetry/metrics` with its /__stats listener, `telemetry/kong-prometheus`
// with every flag, and `telemetry/dashboard`, each on a free loopback port. Endpoints: /noop
// (no-op), /json (json), and /dead, whose backend is a loopback port nobody listens on (502).
// One wrk run lasts the whole soak, rate-capped by a generated Lua `delay()`, alternating /noop
// and /json and sending every --dead-every-th request (50) to /dead, so the error paths soak too.
// Its Lua script counts responses and /dead requests and writes its progress to a file.
//
// The driver scrapes /metrics every 5 s, and /__stats, the dashboard's /api/state and the Kong
// status listener every 10 s. Every 10 s it samples the RSS of the gateway's process tree
// (primary + workers), the summed nodejs_heap_size_used_bytes, the sample lines of /metrics and
// of the Kong exposition, the /__stats keys, spans by outcome and wrk's progress. At the end: the
// table of samples, RSS and heap growth from minute 1 to the end, series counts at minute 1 and at
// the end (with the series that appeared or went), error counts and the spans exported/dropped.
// Exit status 1 when RSS grew by more than --max-growth-mb (50) after minute 1, a series count
// grew after minute 1, the gateway or a worker died, or anything failed that was not a
// deliberate /dead request. Bounded: wrk stops itself, a watchdog and `timeout` leashes stop
// everything else. See bench/RELIABILITY.md.

import { readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { intArg, tollgateBinArg } from './lib/args.js';
import { spawnTracked } from './lib/children.js';
import { armWatchdog, installCleanupHandlers, isShuttingDown, runCleanup } from './lib/cleanup.js';
import { startTreeForeignLoadMeter } from './lib/foreign-load.js';
import { getFreePort } from './lib/free-port.js';
import { describeWrkLoad, wrkDelayMs } from './lib/rate-cap.js';
import { portAccepts } from './lib/port-accepts.js';
import { httpGet } from './lib/http-get.js';
import type { LoadResult } from './lib/load-result.js';
import { startNodeServer } from './lib/node-child.js';
import { getText, nodePidOf, sumSamples, treeRssBytes, waitForQuietBench } from './lib/otlp-bench-util.js';
import { startOtlpSink, type OtlpSinkCounts } from './lib/otlp-sink.js';
import { benchEnvironment, writeResultsFile } from './lib/results-file.js';
import { createRunTempDir } from './lib/temp-dir.js';
import { startTollgateWithConfig } from './lib/tollgate-with-config.js';
import { which } from './lib/which.js';
import { parseWrkOutput } from './lib/wrk-output.js';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const TAG = 'soak';
const MB = 1024 * 1024;
const SCRAPE_TIMEOUT_MS = 5000;
/** The first sample at or after this many seconds is the baseline of every growth figure. */
const BASELINE_SECONDS = 60;

const USAGE = `Usage: node --import tsx bench/soak.ts [options]

  --minutes <n>         soak length                                          (default 10)
  --rate <req/s>        wrk: cap on the request rate                         (default 1000)
  --connections <n>     wrk connections                                      (default 20)
  --workers <n>         Tollgate workers                                     (default 1)
  --dead-every <n>      every n-th request goes to /dead (0 = never)         (default 50)
  --sample <s>          sampling interval (/metrics is scraped twice as often) (default 10)
  --max-growth-mb <n>   fail when RSS grows more than this after minute 1    (default 50)
  --payload <bytes>     upstream body size                                   (default 1024)
  --no-wait             do not wait for other benchmarks (wrk, autocannon, bench/*.ts) to finish
  --tollgate-bin <path> launcher to run (default <repo>/bin/tollgate.js)
  -h, --help            show this help
`;

interface Options {
  readonly minutes: number;
  readonly rate: number;
  readonly connections: number;
  readonly workers: number;
  readonly deadEvery: number;
  readonly sampleSeconds: number;
  readonly maxGrowthMb: number;
  readonly payloadBytes: number;
  readonly wait: boolean;
  readonly tollgateBin: string;
}

function parseOptions(argv: readonly string[]): Options | undefined {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      minutes: { type: 'string' },
      rate: { type: 'string' },
      connections: { type: 'string' },
      workers: { type: 'string' },
      'dead-every': { type: 'string' },
      sample: { type: 'string' },
      'max-growth-mb': { type: 'string' },
      payload: { type: 'string' },
      'no-wait': { type: 'boolean' },
      'tollgate-bin': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return undefined;
  const minutes = intArg('minutes', values.minutes, 10);
  if (minutes < 2) throw new Error('--minutes must be at least 2 (growth is measured from minute 1)');
  const sampleSeconds = intArg('sample', values.sample, 10, 2);
  if (sampleSeconds % 2 !== 0) throw new Error('--sample must be even (/metrics is scraped every sample/2 seconds)');
  return {
    minutes,
    rate: intArg('rate', values.rate, 1000),
    connections: intArg('connections', values.connections, 20),
    workers: intArg('workers', values.workers, 1),
    deadEvery: intArg('dead-every', values['dead-every'], 50, 0),
    sampleSeconds,
    maxGrowthMb: intArg('max-growth-mb', values['max-growth-mb'], 50),
    payloadBytes: intArg('payload', values.payload, 1024, 0),
    wait: values['no-wait'] !== true,
    tollgateBin: tollgateBinArg(values['tollgate-bin']),
  };
}

interface Ports {
  readonly port: number;
  readonly metrics: number;
  readonly kong: number;
  readonly stats: number;
  readonly dashboard: number;
  readonly sink: number;
  readonly dead: number;
}

function gatewayConfig(options: Options, ports: Ports, upstreamPort: number): { port: number } & Record<string, unknown> {
  const upstream = [`http://127.0.0.1:${upstreamPort}`];
  return {
    version: 3,
    name: 'tollgate-soak',
    port: ports.port,
    workers: options.workers,
    timeout: '3s',
    extra_config: {
      // No `layers`: KrakenD's defaults, every layer recorded.
      'telemetry/opentelemetry': {
        service_name: 'tollgate-soak',
        trace_sample_rate: 0.1,
        exporters: {
          otlp: [{ name: 'sink', host: '127.0.0.1', port: ports.sink, use_http: false, disable_metrics: false, disable_traces: false, custom_metric_reporting_period: 10 }],
          prometheus: [{ name: 'local', port: ports.metrics, listen_ip: '127.0.0.1', process_metrics: true, go_metrics: true }],
        },
      },
      // A 10 s window (KrakenD's default is 60 s) so a short soak still turns it over many times.
      'telemetry/metrics': { collection_time: '10s', listen_address: `127.0.0.1:${ports.stats}` },
      'telemetry/kong-prometheus': {
        status_code_metrics: true,
        latency_metrics: true,
        bandwidth_metrics: true,
        upstream_health_metrics: true,
        per_consumer: true,
        listen_address: `127.0.0.1:${ports.kong}`,
      },
      'telemetry/dashboard': { listen_address: `127.0.0.1:${ports.dashboard}` },
    },
    endpoints: [
      { endpoint: '/noop', method: 'GET', output_encoding: 'no-op', backend: [{ host: upstream, url_pattern: '/payload', encoding: 'no-op' }] },
      { endpoint: '/json', method: 'GET', output_encoding: 'json', backend: [{ host: upstream, url_pattern: '/json', encoding: 'json' }] },
      { endpoint: '/dead', method: 'GET', output_encoding: 'no-op', backend: [{ host: [`http://127.0.0.1:${ports.dead}`], url_pattern: '/payload', encoding: 'no-op' }] },
    ],
  };
}

/**
 * wrk script: /noop and /json in turn, every `deadEvery`-th request /dead; each connection waits
 * `delayMs` after a response (the rate cap). response() counts, and every 1000 responses writes
 * "responses 2xx non-2xx dead-sent" to `progressFile`; done() prints the final counts on one
 * `SOAK-LUA` line (wrk's own report does not split deliberate from unexpected non-2xx).
 */
function wrkScript(delayMs: number, deadEvery: number, progressFile: string): string {
  return [
    'local paths = { "/noop", "/json" }',
    'local threads = {}',
    'function setup(thread) table.insert(threads, thread) end',
    'local i = 0',
    'responses = 0',
    'ok = 0',
    'non2xx = 0',
    'dead = 0',
    'request = function()',
    '  i = i + 1',
    ...(deadEvery > 0 ? [`  if i % ${deadEvery} == 0 then`, '    dead = dead + 1', '    return wrk.format("GET", "/dead")', '  end'] : []),
    '  return wrk.format("GET", paths[(i % 2) + 1])',
    'end',
    'response = function(status, headers, body)',
    '  responses = responses + 1',
    '  if status >= 200 and status < 300 then ok = ok + 1 else non2xx = non2xx + 1 end',
    '  if responses % 1000 == 0 then',
    `    local f = io.open(${JSON.stringify(progressFile)}, "w")`,
    '    if f then f:write(responses, " ", ok, " ", non2xx, " ", dead, "\\n") f:close() end',
    '  end',
    'end',
    'delay = function()',
    `  return ${delayMs}`,
    'end',
    'done = function(summary, latency, requests)',
    '  local r, o, n, d = 0, 0, 0, 0',
    '  for _, t in ipairs(threads) do',
    '    r = r + t:get("responses") o = o + t:get("ok") n = n + t:get("non2xx") d = d + t:get("dead")',
    '  end',
    '  io.write(string.format("SOAK-LUA responses=%d ok=%d non2xx=%d dead=%d\\n", r, o, n, d))',
    'end',
    '',
  ].join('\n');
}

interface LuaCounts {
  readonly responses: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly dead: number;
}

function parseLuaCounts(stdout: string): LuaCounts | undefined {
  const m = /^SOAK-LUA responses=(\d+) ok=(\d+) non2xx=(\d+) dead=(\d+)$/m.exec(stdout);
  if (m === null) return undefined;
  return { responses: Number(m[1]), ok: Number(m[2]), non2xx: Number(m[3]), dead: Number(m[4]) };
}

async function readProgress(file: string): Promise<LuaCounts | undefined> {
  try {
    const [responses = 0, ok = 0, non2xx = 0, dead = 0] = (await readFile(file, 'utf8')).trim().split(' ').map(Number);
    return { responses, ok, non2xx, dead };
  } catch {
    return undefined;
  }
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}


// ---------------------------------------------------------------------------------------------
// Scrapes and samples.

/** The identity of each sample line of an exposition: the name and label set, without value, timestamp or exemplar. */
function seriesKeys(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const close = line.indexOf('}');
    out.push(line.includes('{') && close !== -1 ? line.slice(0, close + 1) : (line.split(' ')[0] ?? line));
  }
  return out;
}

interface ListenerCounters {
  scrapes: number;
  failures: number;
  lastError?: string;
  maxMs: number;
}

class Scrapes {
  readonly byListener = new Map<string, ListenerCounters>();

  /** GET url; a failure is counted (and returns undefined), never thrown. */
  async get(name: string, url: string): Promise<string | undefined> {
    const c = this.byListener.get(name) ?? { scrapes: 0, failures: 0, maxMs: 0 };
    this.byListener.set(name, c);
    c.scrapes++;
    const t0 = performance.now();
    try {
      const { status, text } = await getText(url, SCRAPE_TIMEOUT_MS);
      if (status !== 200) throw new Error(`HTTP ${status}`);
      return text;
    } catch (error) {
      c.failures++;
      c.lastError = error instanceof Error ? error.message : String(error);
      return undefined;
    } finally {
      c.maxMs = Math.max(c.maxMs, performance.now() - t0);
    }
  }

  /** `pick` of the JSON body; a body that is not JSON counts as a failed scrape of `name`. */
  parse<T, R>(name: string, body: string | undefined, pick: (value: T) => R): R | undefined {
    if (body === undefined) return undefined;
    try {
      return pick(JSON.parse(body) as T);
    } catch (error) {
      const c = this.byListener.get(name);
      if (c !== undefined) {
        c.failures++;
        c.lastError = `not JSON: ${error instanceof Error ? error.message : String(error)}`;
      }
      return undefined;
    }
  }
}

interface Sample {
  /** Seconds since the load started. */
  readonly t: number;
  readonly rssBytes: number | undefined;
  readonly heapUsedBytes: number | undefined;
  readonly metricsSeries: number | undefined;
  readonly kongSeries: number | undefined;
  readonly statsKeys: number | undefined;
  readonly metricsScrapeMs: number | undefined;
  readonly served: number | undefined;
  readonly wrkResponses: number | undefined;
  readonly spansExported: number | undefined;
  readonly spansDropped: number | undefined;
  readonly spansFailed: number | undefined;
  readonly sinkSpans: number | undefined;
  readonly dashboardRequests: number | undefined;
  readonly dashboardServerErrors: number | undefined;
  readonly foreignCpuPercent: number | undefined;
}

interface SampleContext {
  readonly pid: number;
  readonly urls: { readonly metrics: string; readonly kong: string; readonly stats: string; readonly state: string };
  readonly scrapes: Scrapes;
  readonly progressFile: string;
  readonly sink: { counts(timeoutMs?: number): Promise<OtlpSinkCounts> };
  /** The last expositions, for the series diff at the end. */
  last: { metrics?: string; kong?: string };
  baseline?: { metrics?: string; kong?: string };
}

const orUndefined = (s: { series: number; sum: number }): number | undefined => (s.series === 0 ? undefined : s.sum);

/** Scrapes the 5 s listener; on sample ticks also the 10 s ones, and returns the sample. */
async function tick(ctx: SampleContext, t: number, sampleTick: boolean, foreign: number | undefined): Promise<Sample | undefined> {
  const t0 = performance.now();
  const metrics = await ctx.scrapes.get('/metrics', ctx.urls.metrics);
  const metricsScrapeMs = performance.now() - t0;
  if (metrics !== undefined) ctx.last.metrics = metrics;
  if (!sampleTick) return undefined;
  const [kong, stats, state] = await Promise.all([
    ctx.scrapes.get('kong /metrics', ctx.urls.kong),
    ctx.scrapes.get('/__stats', ctx.urls.stats),
    ctx.scrapes.get('dashboard /api/state', ctx.urls.state),
  ]);
  if (kong !== undefined) ctx.last.kong = kong;
  const statsKeys = ctx.scrapes.parse('/__stats', stats, (v: object) => Object.keys(v).length);
  const dashboard = ctx.scrapes.parse('dashboard /api/state', state, (v: { totals?: { requests?: number; serverErrors?: number } }) => v);
  const progress = await readProgress(ctx.progressFile);
  const sink = await ctx.sink.counts(2000).catch(() => undefined);
  const m = metrics ?? '';
  return {
    t,
    rssBytes: treeRssBytes(ctx.pid),
    heapUsedBytes: orUndefined(sumSamples(m, 'nodejs_heap_size_used_bytes')),
    metricsSeries: metrics === undefined ? undefined : seriesKeys(metrics).length,
    kongSeries: kong === undefined ? undefined : seriesKeys(kong).length,
    statsKeys,
    metricsScrapeMs: metrics === undefined ? undefined : metricsScrapeMs,
    served: orUndefined(sumSamples(m, 'http_server_duration_count')),
    wrkResponses: progress?.responses,
    spansExported: orUndefined(sumSamples(m, 'tollgate_telemetry_spans_total', ['outcome="exported"'])),
    spansDropped: orUndefined(sumSamples(m, 'tollgate_telemetry_spans_total', ['outcome="dropped"'])),
    spansFailed: orUndefined(sumSamples(m, 'tollgate_telemetry_spans_total', ['outcome="failed"'])),
    sinkSpans: sink?.traces.items,
    dashboardRequests: dashboard?.totals?.requests,
    dashboardServerErrors: dashboard?.totals?.serverErrors,
    foreignCpuPercent: foreign,
  };
}

// ---------------------------------------------------------------------------------------------
// Report.

const mb = (bytes: number | undefined): string => (bytes === undefined ? 'n/a' : (bytes / MB).toFixed(1));
const fmtInt = (n: number | undefined): string => (n === undefined ? 'n/a' : Math.round(n).toLocaleString('en-US'));
const signedMb = (bytes: number): string => `${bytes >= 0 ? '+' : ''}${(bytes / MB).toFixed(1)} MB`;

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const fmt = (cols: readonly string[]): string => cols.map((s, c) => s.padStart(widths[c] ?? 0)).join('  ');
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)];
}

function sampleTable(samples: readonly Sample[]): string[] {
  const header = ['t (s)', 'RSS MB', 'heap MB', '/metrics series', 'kong series', 'stats keys', 'scrape ms', 'served', 'wrk responses', 'spans exported', 'dropped', 'failed', 'sink spans', 'dash 5xx', 'foreign CPU'];
  const rows = samples.map((s) => [
    s.t.toFixed(0),
    mb(s.rssBytes),
    mb(s.heapUsedBytes),
    fmtInt(s.metricsSeries),
    fmtInt(s.kongSeries),
    fmtInt(s.statsKeys),
    s.metricsScrapeMs === undefined ? 'n/a' : s.metricsScrapeMs.toFixed(1),
    fmtInt(s.served),
    fmtInt(s.wrkResponses),
    fmtInt(s.spansExported),
    fmtInt(s.spansDropped),
    fmtInt(s.spansFailed),
    fmtInt(s.sinkSpans),
    fmtInt(s.dashboardServerErrors),
    s.foreignCpuPercent === undefined ? 'n/a' : `${s.foreignCpuPercent.toFixed(0)}%`,
  ]);
  return table(header, rows);
}

/** Series present in only one of two expositions, at most `limit` of each. */
function seriesDiff(before: string | undefined, after: string | undefined, limit = 10): { added: string[]; removed: string[] } {
  if (before === undefined || after === undefined) return { added: [], removed: [] };
  const a = new Set(seriesKeys(before));
  const b = new Set(seriesKeys(after));
  return { added: [...b].filter((k) => !a.has(k)).slice(0, limit), removed: [...a].filter((k) => !b.has(k)).slice(0, limit) };
}

interface Growth {
  readonly from: Sample;
  readonly to: Sample;
  readonly rssBytes: number | undefined;
  readonly rssPeakBytes: number | undefined;
  readonly heapBytes: number | undefined;
}

function growthAfterBaseline(samples: readonly Sample[]): Growth | undefined {
  const from = samples.find((s) => s.t >= BASELINE_SECONDS && s.rssBytes !== undefined);
  const to = [...samples].reverse().find((s) => s.rssBytes !== undefined);
  if (from === undefined || to === undefined || to === from) return undefined;
  const later = samples.filter((s) => s.t >= from.t && s.rssBytes !== undefined).map((s) => s.rssBytes as number);
  return {
    from,
    to,
    rssBytes: (to.rssBytes as number) - (from.rssBytes as number),
    rssPeakBytes: later.length === 0 ? undefined : Math.max(...later),
    heapBytes: from.heapUsedBytes === undefined || to.heapUsedBytes === undefined ? undefined : to.heapUsedBytes - from.heapUsedBytes,
  };
}

/** Requests per route from the gateway's own http_server_duration_count: total and 2xx. */
function routeCounts(metrics: string | undefined, route: string): { total: number; ok: number } {
  const text = metrics ?? '';
  const must = `http_route="${route}"`;
  return { total: sumSamples(text, 'http_server_duration_count', [must]).sum, ok: sumSamples(text, 'http_server_duration_count', [must, 'http_response_status_code="2']).sum };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options === undefined) {
    process.stdout.write(USAGE);
    return;
  }
  installCleanupHandlers();
  const loadSeconds = options.minutes * 60;
  const budget = loadSeconds + 180;
  armWatchdog((budget + (options.wait ? 15 * 60 : 0)) * 1000);
  const wrkBin = which('wrk');
  if (wrkBin === undefined) throw new Error('wrk is not on PATH (the rate cap and the /dead accounting need its Lua hooks)');
  const tempDir = createRunTempDir('tollgate-soak-');
  const delayMs = wrkDelayMs(options.connections, options.rate);
  const loadTool = describeWrkLoad(wrkBin, options.connections, options.rate);

  if (options.wait) {
    const others = await waitForQuietBench(log, TAG);
    if (others.length > 0) log(`${TAG}: warning: still not quiet after 15 min; soaking anyway`);
  }
  if (isShuttingDown()) return;
  const startedAt = new Date();
  const loadBefore = loadavg();
  log(`${TAG}: ${options.minutes} min; workers ${options.workers}; ${loadTool}; /dead every ${options.deadEvery}; ${availableParallelism()} CPU(s), load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`);

  const upstream = await startNodeServer('upstream', './telemetry-upstream.ts', ['--payload', String(options.payloadBytes)], 15_000);
  if (!upstream.ok) throw new Error(`upstream failed to start: ${upstream.reason}`);
  const sink = await startOtlpSink('otlp-sink');
  if (!sink.ok) throw new Error(`OTLP sink failed to start: ${sink.reason}`);
  // The dead backend: a loopback port that was bound and closed again, so connects are refused.
  const ports: Ports = {
    port: await getFreePort(),
    metrics: await getFreePort(),
    kong: await getFreePort(),
    stats: await getFreePort(),
    dashboard: await getFreePort(),
    sink: sink.port,
    dead: await getFreePort(),
  };
  const started = await startTollgateWithConfig({ name: 'tollgate-soak', config: gatewayConfig(options, ports, upstream.port), bin: options.tollgateBin, tempDir, leashSeconds: budget + 30 });
  if (!started.ok) throw new Error(started.reason);
  const pid = nodePidOf(started.child.process.pid);
  if (pid === undefined) throw new Error('could not find the gateway process id under /proc');
  let gatewayDied = false;
  started.child.exited.then(() => {
    gatewayDied = true;
  }).catch(() => undefined);
  for (const [path, want] of [['/noop', 200], ['/json', 200], ['/dead', 502]] as const) {
    const { status } = await httpGet(`${started.origin}${path}`, 5000);
    if (status !== want) throw new Error(`probe GET ${path}: expected ${want}, got ${status}`);
  }
  if (await portAccepts(ports.dead)) throw new Error(`the dead backend port ${ports.dead} accepts connections; rerun`);
  const origin = (port: number): string => `http://127.0.0.1:${port}`;
  const urls = { metrics: `${origin(ports.metrics)}/metrics`, kong: `${origin(ports.kong)}/metrics`, stats: `${origin(ports.stats)}/__stats`, state: `${origin(ports.dashboard)}/api/state` };
  log(`${TAG}: gateway pid ${pid} at ${started.origin}; /metrics ${urls.metrics}; Kong ${urls.kong}; ${urls.stats}; dashboard ${origin(ports.dashboard)}; OTLP sink :${sink.port}; dead backend :${ports.dead}`);

  const progressFile = join(tempDir, 'progress.txt');
  const script = join(tempDir, 'soak.lua');
  await writeFile(script, wrkScript(delayMs, options.deadEvery, progressFile));
  const ctx: SampleContext = { pid, urls, scrapes: new Scrapes(), progressFile, sink, last: {} };

  const t0 = Date.now();
  const wrk = spawnTracked('wrk', wrkBin, ['--threads', '1', '--connections', String(options.connections), '--duration', `${loadSeconds}s`, '--timeout', '5s', '--latency', '--script', script, started.origin], {
    stdout: 'capture',
  });
  const hung = setTimeout(() => wrk.stop(500).catch(() => undefined), (loadSeconds + 30) * 1000);
  let loadDone = false;
  const loadFinished = wrk.exited.then(({ code, signal }) => {
    clearTimeout(hung);
    loadDone = true;
    if (code !== 0) throw new Error(`wrk exited with code ${String(code)} signal ${String(signal)}: ${wrk.stderrTail() || wrk.stdout()}`);
    return { load: parseWrkOutput(wrk.stdout()), lua: parseLuaCounts(wrk.stdout()) };
  });
  const loadOutcome = loadFinished.then(
    (r) => ({ ok: true as const, ...r }),
    (error: unknown) => ({ ok: false as const, error: error instanceof Error ? error.message : String(error) }),
  );

  const samples: Sample[] = [];
  const halfMs = (options.sampleSeconds * 1000) / 2;
  const wholeSoak = startTreeForeignLoadMeter();
  let foreign = startTreeForeignLoadMeter();
  for (let k = 1; !loadDone && !isShuttingDown() && !gatewayDied; k++) {
    const next = t0 + k * halfMs;
    await Promise.race([new Promise((r) => setTimeout(r, Math.max(0, next - Date.now()))), loadFinished.catch(() => undefined)]);
    if (loadDone || gatewayDied || isShuttingDown()) break;
    const sampleTick = k % 2 === 0;
    const s = await tick(ctx, Math.round((Date.now() - t0) / 100) / 10, sampleTick, sampleTick ? foreign() : undefined);
    if (s === undefined) continue;
    foreign = startTreeForeignLoadMeter();
    samples.push(s);
    if (ctx.baseline === undefined && s.t >= BASELINE_SECONDS) ctx.baseline = { ...ctx.last };
    log(
      `${TAG}: t=${s.t.toFixed(0)}s RSS ${mb(s.rssBytes)} MB, heap ${mb(s.heapUsedBytes)} MB, series ${fmtInt(s.metricsSeries)}/${fmtInt(s.kongSeries)}/${fmtInt(s.statsKeys)}, ` +
        `served ${fmtInt(s.served)}, wrk ${fmtInt(s.wrkResponses)}, spans exported ${fmtInt(s.spansExported)} dropped ${fmtInt(s.spansDropped)}, foreign CPU ${s.foreignCpuPercent ?? 'n/a'}%`,
    );
  }
  const outcome = await loadOutcome;
  const foreignWholePercent = wholeSoak();
  // A closing sample once the load has stopped (the in-flight requests have ended, counters settled).
  await new Promise((r) => setTimeout(r, 1000));
  const diedDuringSoak = gatewayDied;
  if (!gatewayDied && !isShuttingDown()) {
    const s = await tick(ctx, Math.round((Date.now() - t0) / 100) / 10, true, undefined);
    if (s !== undefined) samples.push(s);
  }
  const deadStillDead = !(await portAccepts(ports.dead));
  const sinkCounts = await sink.counts(2000).catch(() => undefined);
  await runCleanup();
  if (isShuttingDown() && samples.length === 0) return;

  await report({ options, startedAt, loadTool, loadBefore, samples, ctx, outcome, diedDuringSoak, stderrTail: started.child.stderrTail(), deadStillDead, sinkCounts, foreignWholePercent });
}

interface ReportInput {
  readonly options: Options;
  readonly startedAt: Date;
  readonly loadTool: string;
  readonly loadBefore: number[];
  readonly samples: readonly Sample[];
  readonly ctx: SampleContext;
  readonly outcome: { ok: true; load: LoadResult; lua: LuaCounts | undefined } | { ok: false; error: string };
  readonly diedDuringSoak: boolean;
  readonly stderrTail: string;
  readonly deadStillDead: boolean;
  readonly sinkCounts: OtlpSinkCounts | undefined;
  readonly foreignWholePercent: number | undefined;
}

/** Series counts at the baseline and at the end, per exposition, with the failures they imply. */
function seriesReport(input: ReportInput, out: string[], failures: string[]): Record<string, unknown> {
  const { samples, ctx } = input;
  const base = samples.find((s) => s.t >= BASELINE_SECONDS);
  const last = samples[samples.length - 1];
  const result: Record<string, unknown> = {};
  const checks = [
    { name: '/metrics series', pick: (s: Sample) => s.metricsSeries, diff: () => seriesDiff(ctx.baseline?.metrics, ctx.last.metrics) },
    { name: 'Kong series', pick: (s: Sample) => s.kongSeries, diff: () => seriesDiff(ctx.baseline?.kong, ctx.last.kong) },
    { name: '/__stats keys', pick: (s: Sample) => s.statsKeys, diff: () => ({ added: [], removed: [] }) },
  ];
  for (const c of checks) {
    const first = samples.find((s) => c.pick(s) !== undefined);
    const a = base === undefined ? undefined : c.pick(base);
    const b = last === undefined ? undefined : c.pick(last);
    const grew = a !== undefined && b !== undefined && b > a;
    out.push(`${c.name}: first ${fmtInt(first === undefined ? undefined : c.pick(first))}, at t=${base?.t.toFixed(0) ?? '?'}s ${fmtInt(a)}, last ${fmtInt(b)}: ${a === undefined || b === undefined ? 'not measured' : grew ? 'GREW' : 'flat'}`);
    const d = c.diff();
    for (const k of d.added) out.push(`  + ${k}`);
    for (const k of d.removed) out.push(`  - ${k}`);
    result[c.name] = { first: first === undefined ? undefined : c.pick(first), baseline: a, last: b, added: d.added, removed: d.removed };
    if (a === undefined || b === undefined) failures.push(`${c.name}: not measured at minute 1 and at the end`);
    else if (grew) failures.push(`${c.name} grew after minute 1: ${a} -> ${b}`);
  }
  return result;
}

/** Error counts; everything but the deliberate /dead requests is unexpected. */
function errorReport(input: ReportInput, out: string[], failures: string[]): Record<string, unknown> {
  const { outcome, ctx, options } = input;
  const routes = Object.fromEntries(['/noop', '/json', '/dead'].map((r) => [r, routeCounts(ctx.last.metrics, r)]));
  const unexpectedGateway = (routes['/noop']?.total ?? 0) - (routes['/noop']?.ok ?? 0) + (routes['/json']?.total ?? 0) - (routes['/json']?.ok ?? 0);
  out.push(
    `gateway (http_server_duration_count): /noop ${fmtInt(routes['/noop']?.total)} (non-2xx ${fmtInt((routes['/noop']?.total ?? 0) - (routes['/noop']?.ok ?? 0))}), ` +
      `/json ${fmtInt(routes['/json']?.total)} (non-2xx ${fmtInt((routes['/json']?.total ?? 0) - (routes['/json']?.ok ?? 0))}), /dead ${fmtInt(routes['/dead']?.total)} (2xx ${fmtInt(routes['/dead']?.ok)})`,
  );
  if (unexpectedGateway > 0) failures.push(`${unexpectedGateway} non-2xx responses on /noop and /json (gateway's count)`);
  if ((routes['/dead']?.ok ?? 0) > 0) failures.push('/dead answered 2xx: something listened on the dead port');
  if (options.deadEvery > 0 && (routes['/dead']?.total ?? 0) === 0) failures.push('no /dead request was counted by the gateway');
  if (!input.deadStillDead) failures.push('the dead backend port accepted connections at the end');
  let wrkFigures: Record<string, unknown> = {};
  if (outcome.ok) {
    const { load, lua } = outcome;
    // A /dead request still in flight when wrk stopped was sent but never answered: at most one per connection.
    const unexpectedWrk = lua === undefined ? load.non2xx : Math.max(0, load.non2xx - lua.dead);
    out.push(
      `load (wrk): ${fmtInt(load.requests)} requests in ${load.durationSeconds.toFixed(1)} s = ${fmtInt(load.requestsPerSecond)} req/s; p50 ${load.latencyMs.p50.toFixed(2)} ms, p99 ${load.latencyMs.p99.toFixed(2)} ms, max ${load.latencyMs.max.toFixed(2)} ms; ` +
        `socket errors ${load.errors}, non-2xx ${fmtInt(load.non2xx)} (/dead sent ${fmtInt(lua?.dead)}; unexpected ${fmtInt(unexpectedWrk)})`,
    );
    if (load.errors > 0) failures.push(`wrk: ${load.errors} socket errors (connect/read/write/timeout)`);
    if (unexpectedWrk > 0) failures.push(`wrk: ${unexpectedWrk} more non-2xx responses than /dead requests`);
    if (lua === undefined) out.push('warning: the wrk script did not report its counts; the /dead share of the non-2xx is unknown');
    wrkFigures = { load, lua, unexpectedNon2xx: unexpectedWrk };
  } else {
    out.push(`load: failed: ${outcome.error}`);
    failures.push('the load generator failed');
  }
  const scrapeLines = [...ctx.scrapes.byListener].map(([name, c]) => `${name} ${c.scrapes - c.failures}/${c.scrapes} ok (max ${c.maxMs.toFixed(0)} ms)`);
  out.push(`scrapes: ${scrapeLines.join(', ')}`);
  for (const [name, c] of ctx.scrapes.byListener) if (c.failures > 0) failures.push(`${c.failures} ${name} scrapes failed (${c.lastError ?? ''})`);
  return { routes, unexpectedGatewayNon2xx: unexpectedGateway, ...wrkFigures, scrapes: Object.fromEntries(ctx.scrapes.byListener) };
}

function telemetryReport(input: ReportInput, out: string[], failures: string[]): Record<string, unknown> {
  const m = input.ctx.last.metrics ?? '';
  const one = (name: string, must: readonly string[] = []): number | undefined => orUndefined(sumSamples(m, name, must));
  const spans = { exported: one('tollgate_telemetry_spans_total', ['outcome="exported"']), dropped: one('tollgate_telemetry_spans_total', ['outcome="dropped"']), failed: one('tollgate_telemetry_spans_total', ['outcome="failed"']) };
  const pushes = { failed: one('tollgate_telemetry_metric_pushes_total', ['outcome="failed"']), skipped: one('tollgate_telemetry_metric_pushes_total', ['outcome="skipped"']) };
  const restarts = one('tollgate_cluster_worker_restarts_total');
  const collectTimeouts = one('tollgate_cluster_collect_timeouts_total');
  const sink = input.sinkCounts;
  out.push(
    `spans: exported ${fmtInt(spans.exported)}, dropped ${fmtInt(spans.dropped)}, failed ${fmtInt(spans.failed)}; sink received ${fmtInt(sink?.traces.items)} spans in ${fmtInt(sink?.traces.requests)} exports, ` +
      `${fmtInt(sink?.metrics.requests)} metric pushes; metric pushes failed ${fmtInt(pushes.failed)}, skipped ${fmtInt(pushes.skipped)}; worker restarts ${fmtInt(restarts)}, collect timeouts ${fmtInt(collectTimeouts)}`,
  );
  if ((spans.exported ?? 0) === 0) failures.push('no span was exported to the live sink');
  if ((spans.dropped ?? 0) > 0 || (spans.failed ?? 0) > 0) failures.push(`spans dropped ${spans.dropped ?? 0}, failed ${spans.failed ?? 0} with a live sink`);
  if ((pushes.failed ?? 0) > 0) failures.push(`${pushes.failed} OTLP metric pushes failed with a live sink`);
  if ((sink?.metrics.requests ?? 0) === 0) failures.push('the sink received no OTLP metric push');
  if ((restarts ?? 0) > 0) failures.push(`${restarts} worker restart(s): a worker died`);
  if ((collectTimeouts ?? 0) > 0) out.push(`warning: ${collectTimeouts} worker collections missed the 1 s deadline`);
  return { spans, pushes, restarts, collectTimeouts, sink };
}

async function report(input: ReportInput): Promise<void> {
  const { options, samples } = input;
  const out: string[] = ['', `Soak — ${options.minutes} min, workers ${options.workers}, every telemetry feature on (Prometheus, OTLP to a live sink at trace_sample_rate 0.1, /__stats, Kong, dashboard); ${input.loadTool}; /dead every ${options.deadEvery}`, ''];
  out.push(...sampleTable(samples), '');
  const failures: string[] = [];
  const growth = growthAfterBaseline(samples);
  if (growth?.rssBytes === undefined) {
    out.push('RSS growth after minute 1: not enough samples');
    failures.push('not enough RSS samples after minute 1');
  } else {
    const ok = growth.rssBytes <= options.maxGrowthMb * MB;
    out.push(
      `RSS (primary + workers) after minute 1: ${mb(growth.from.rssBytes)} MB at t=${growth.from.t.toFixed(0)}s -> ${mb(growth.to.rssBytes)} MB at t=${growth.to.t.toFixed(0)}s = ${signedMb(growth.rssBytes)} ` +
        `(peak ${mb(growth.rssPeakBytes)} MB; limit +${options.maxGrowthMb} MB): ${ok ? 'flat' : 'GROWING'}`,
      `heap used after minute 1: ${mb(growth.from.heapUsedBytes)} MB -> ${mb(growth.to.heapUsedBytes)} MB = ${growth.heapBytes === undefined ? 'n/a' : signedMb(growth.heapBytes)}`,
    );
    if (!ok) failures.push(`RSS grew by ${(growth.rssBytes / MB).toFixed(1)} MB after minute 1 (limit ${options.maxGrowthMb} MB)`);
  }
  const series = seriesReport(input, out, failures);
  const errors = errorReport(input, out, failures);
  const telemetry = telemetryReport(input, out, failures);
  if (input.diedDuringSoak) failures.push(`the gateway exited during the soak: ${input.stderrTail.split('\n').slice(-3).join(' | ')}`);
  out.push(`background: load average ${input.loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ${loadavg().map((l) => l.toFixed(2)).join(' ')} after; foreign CPU over the soak ${input.foreignWholePercent ?? 'n/a'}%`);

  const data = {
    benchmark: 'soak',
    startedAt: input.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    options,
    environment: {
      ...benchEnvironment(),
            load: input.loadTool,
      loadAverageBefore: input.loadBefore,
      loadAverageAfter: loadavg(),
      foreignCpuPercent: input.foreignWholePercent,
    },
    samples,
    growth,
    series,
    errors,
    telemetry,
    failures,
  };
  const file = await writeResultsFile(RESULTS_DIR, 'soak', input.startedAt, data);
  out.push('', failures.length === 0 ? 'result: PASS (flat, no growing series, no unexpected error)' : `result: FAIL — ${failures.join('; ')}`, `results written to ${file}`);
  process.stdout.write(`${out.join('\n')}\n`);
  if (failures.length > 0) process.exitCode = 1;
}

try {
  await main();
} catch (error) {
  process.stderr.write(`${TAG}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await runCleanup();
}
