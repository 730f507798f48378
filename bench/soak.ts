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

import { writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { intArg, tollgateBinArg } from './lib/args.js';
import { isShuttingDown, runCleanup } from './lib/cleanup.js';
import {
  armRun,
  exitedFlag,
  log,
  NO_WAIT_USAGE,
  parseFlags,
  runDriver,
  sleep,
  startUpstream,
  USAGE_TAIL,
} from './lib/driver.js';
import { startTreeForeignLoadMeter } from './lib/foreign-load.js';
import { fmtInt, mb } from './lib/format.js';
import { getFreePort } from './lib/free-port.js';
import { kongAllFlags, loopbackHost, noopAndJsonEndpoints, otlpGrpcExporter } from './lib/gateway-config.js';
import { httpGet } from './lib/http-get.js';
import { nodePidOf } from './lib/otlp-bench-util.js';
import { startOtlpSink } from './lib/otlp-sink.js';
import { portAccepts } from './lib/port-accepts.js';
import { waitForQuietStart } from './lib/quiet-gate.js';
import { rateCappedLoad } from './lib/rate-cap.js';
import { report, type SoakReportOptions } from './lib/soak-report.js';
import {
  BASELINE_SECONDS,
  parseLuaCounts,
  Scrapes,
  tick,
  type Sample,
  type SampleContext,
} from './lib/soak-sampler.js';
import { createRunTempDir } from './lib/temp-dir.js';
import { startTollgateWithConfig } from './lib/tollgate-with-config.js';
import { parseWrkOutput } from './lib/wrk-output.js';
import { spawnWrk } from './lib/wrk.js';

const TAG = 'soak';

const USAGE = `Usage: node --import tsx bench/soak.ts [options]

  --minutes <n>         soak length                                          (default 10)
  --rate <req/s>        wrk: cap on the request rate                         (default 1000)
  --connections <n>     wrk connections                                      (default 20)
  --workers <n>         Tollgate workers                                     (default 1)
  --dead-every <n>      every n-th request goes to /dead (0 = never)         (default 50)
  --sample <s>          sampling interval (/metrics is scraped twice as often) (default 10)
  --max-growth-mb <n>   fail when RSS grows more than this after minute 1    (default 50)
  --payload <bytes>     upstream body size                                   (default 1024)
${NO_WAIT_USAGE}${USAGE_TAIL}`;

interface Options extends SoakReportOptions {
  readonly rate: number;
  readonly connections: number;
  readonly sampleSeconds: number;
  readonly payloadBytes: number;
  readonly wait: boolean;
  readonly tollgateBin: string;
}

function parseOptions(argv: readonly string[]): Options | undefined {
  const values = parseFlags(
    argv,
    ['minutes', 'rate', 'connections', 'workers', 'dead-every', 'sample', 'max-growth-mb', 'payload', 'tollgate-bin'],
    ['no-wait'],
  );
  if (values === undefined) return undefined;
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

function gatewayConfig(
  options: Options,
  ports: Ports,
  upstreamPort: number,
): { port: number } & Record<string, unknown> {
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
          otlp: [otlpGrpcExporter('sink', ports.sink, 10)],
          prometheus: [
            { name: 'local', port: ports.metrics, listen_ip: '127.0.0.1', process_metrics: true, go_metrics: true },
          ],
        },
      },
      // A 10 s window (KrakenD's default is 60 s) so a short soak still turns it over many times.
      'telemetry/metrics': { collection_time: '10s', listen_address: `127.0.0.1:${ports.stats}` },
      'telemetry/kong-prometheus': kongAllFlags(ports.kong),
      'telemetry/dashboard': { listen_address: `127.0.0.1:${ports.dashboard}` },
    },
    endpoints: [
      ...noopAndJsonEndpoints(upstreamPort),
      {
        endpoint: '/dead',
        method: 'GET',
        output_encoding: 'no-op',
        backend: [{ host: loopbackHost(ports.dead), url_pattern: '/payload', encoding: 'no-op' }],
      },
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
    ...(deadEvery > 0
      ? [`  if i % ${deadEvery} == 0 then`, '    dead = dead + 1', '    return wrk.format("GET", "/dead")', '  end']
      : []),
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

async function main(options: Options): Promise<void> {
  const loadSeconds = options.minutes * 60;
  const budget = loadSeconds + 180;
  armRun(budget + (options.wait ? 15 * 60 : 0));
  const { wrkBin, delayMs, loadTool } = rateCappedLoad(
    options.connections,
    options.rate,
    'the rate cap and the /dead accounting need its Lua hooks',
  );
  const tempDir = createRunTempDir('tollgate-soak-');

  await waitForQuietStart(TAG, options.wait, 'warning: still not quiet after 15 min; soaking anyway');
  if (isShuttingDown()) return;
  const startedAt = new Date();
  const loadBefore = loadavg();
  log(
    `${TAG}: ${options.minutes} min; workers ${options.workers}; ${loadTool}; /dead every ${options.deadEvery}; ${availableParallelism()} CPU(s), load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
  );

  const upstream = await startUpstream('./telemetry-upstream.ts', options.payloadBytes);
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
  const started = await startTollgateWithConfig({
    name: 'tollgate-soak',
    config: gatewayConfig(options, ports, upstream.port),
    bin: options.tollgateBin,
    tempDir,
    leashSeconds: budget + 30,
  });
  if (!started.ok) throw new Error(started.reason);
  const pid = nodePidOf(started.child.process.pid);
  if (pid === undefined) throw new Error('could not find the gateway process id under /proc');
  const gatewayDied = exitedFlag(started.child);
  for (const [path, want] of [
    ['/noop', 200],
    ['/json', 200],
    ['/dead', 502],
  ] as const) {
    const { status } = await httpGet(`${started.origin}${path}`, 5000);
    if (status !== want) throw new Error(`probe GET ${path}: expected ${want}, got ${status}`);
  }
  if (await portAccepts(ports.dead)) throw new Error(`the dead backend port ${ports.dead} accepts connections; rerun`);
  const origin = (port: number): string => `http://127.0.0.1:${port}`;
  const urls = {
    metrics: `${origin(ports.metrics)}/metrics`,
    kong: `${origin(ports.kong)}/metrics`,
    stats: `${origin(ports.stats)}/__stats`,
    state: `${origin(ports.dashboard)}/api/state`,
  };
  log(
    `${TAG}: gateway pid ${pid} at ${started.origin}; /metrics ${urls.metrics}; Kong ${urls.kong}; ${urls.stats}; dashboard ${origin(ports.dashboard)}; OTLP sink :${sink.port}; dead backend :${ports.dead}`,
  );

  const progressFile = join(tempDir, 'progress.txt');
  const script = join(tempDir, 'soak.lua');
  await writeFile(script, wrkScript(delayMs, options.deadEvery, progressFile));
  const ctx: SampleContext = { pid, urls, scrapes: new Scrapes(), progressFile, sink, last: {} };

  const t0 = Date.now();
  const wrk = spawnWrk(
    wrkBin,
    {
      url: started.origin,
      threads: 1,
      connections: options.connections,
      durationSeconds: loadSeconds,
      timeoutSeconds: 5,
      script,
    },
    30_000,
  );
  let loadDone = false;
  const loadFinished = wrk.stdout
    .finally(() => {
      loadDone = true;
    })
    .then((stdout) => ({ load: parseWrkOutput(stdout), lua: parseLuaCounts(stdout) }));
  const loadOutcome = loadFinished.then(
    (r) => ({ ok: true as const, ...r }),
    (error: unknown) => ({ ok: false as const, error: error instanceof Error ? error.message : String(error) }),
  );

  const samples: Sample[] = [];
  const halfMs = (options.sampleSeconds * 1000) / 2;
  const wholeSoak = startTreeForeignLoadMeter();
  let foreign = startTreeForeignLoadMeter();
  for (let k = 1; !loadDone && !isShuttingDown() && !gatewayDied(); k++) {
    const next = t0 + k * halfMs;
    await Promise.race([
      new Promise((r) => setTimeout(r, Math.max(0, next - Date.now()))),
      loadFinished.catch(() => undefined),
    ]);
    if (loadDone || gatewayDied() || isShuttingDown()) break;
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
  await sleep(1000);
  const diedDuringSoak = gatewayDied();
  if (!diedDuringSoak && !isShuttingDown()) {
    const s = await tick(ctx, Math.round((Date.now() - t0) / 100) / 10, true, undefined);
    if (s !== undefined) samples.push(s);
  }
  const deadStillDead = !(await portAccepts(ports.dead));
  const sinkCounts = await sink.counts(2000).catch(() => undefined);
  await runCleanup();
  if (isShuttingDown() && samples.length === 0) return;

  await report({
    options,
    startedAt,
    loadTool,
    loadBefore,
    samples,
    ctx,
    outcome,
    diedDuringSoak,
    stderrTail: started.child.stderrTail(),
    deadStillDead,
    sinkCounts,
    foreignWholePercent,
  });
}

await runDriver(TAG, USAGE, parseOptions, main);
