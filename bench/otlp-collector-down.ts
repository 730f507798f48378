// Soak (not part of the tests): does Tollgate's memory stay flat when its
// OTLP collector is down?
//
//   node --import tsx bench/otlp-collector-down.ts [--minutes 5] [--rate 2000] [--connections 20]
//
// One Tollgate process (bin/tollgate.js run, built dist/) with OTLP metrics +
// traces over gRPC pointed at a dead loopback port (a port bound and closed
// again, so every connection attempt is refused), trace_sample_rate 1,
// default layers (all on), custom_metric_reporting_period 1, plus a
// Prometheus exporter with process_metrics (and go_metrics, for the heap
// figures) on a free loopback port. Two endpoints like otlp-throughput.ts
// (/noop and /json), hit alternately by one wrk run lasting the whole soak at
// a capped, moderate rate (a generated Lua script: `delay()` per connection).
// Without wrk, autocannon runs closed-loop with a fixed connection count
// against /json only.
//
// Every 10 s it samples the gateway process's VmRSS (/proc/<pid>/status)
// and, from /metrics, process_resident_memory_bytes, the V8 heap in use,
// tollgate_telemetry_spans_total by outcome and the OTLP metric pushes by
// outcome. At the end: the table of samples, the RSS growth from the first
// sample at or after minute 1 to the last one, the dropped-span count and
// wrk's request/error counts. Exit status 1 when RSS grew by more than
// --max-growth-mb (default 50) after minute 1, or the gateway died.
// Bounded: wrk stops itself, a watchdog and `timeout` leashes stop
// everything else. See bench/OTLP.md.

import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { intArg, tollgateBinArg, toolArg } from './lib/args.js';
import { isShuttingDown, runCleanup } from './lib/cleanup.js';
import {
  armRun,
  exitedFlag,
  log,
  NO_WAIT_USAGE,
  parseFlags,
  runDriver,
  startUpstream,
  USAGE_TAIL,
} from './lib/driver.js';
import { fmtInt, MB, mb } from './lib/format.js';
import { getFreePort } from './lib/free-port.js';
import { noopAndJsonGateway, otlpGrpcExporter, prometheusExporter } from './lib/gateway-config.js';
import { httpGet } from './lib/http-get.js';
import { selectLoadGenerator, type LoadToolChoice } from './lib/load-generator.js';
import type { LoadResult } from './lib/load-result.js';
import { getText, nodePidOf, sumSamples, treeRssBytes } from './lib/otlp-bench-util.js';
import { portAccepts } from './lib/port-accepts.js';
import { waitForQuietStart } from './lib/quiet-gate.js';
import { describeWrkLoad, wrkDelayMs } from './lib/rate-cap.js';
import { writeRunResults } from './lib/results-file.js';
import { createRunTempDir } from './lib/temp-dir.js';
import { textTable } from './lib/text-table.js';
import { startTollgateWithConfig } from './lib/tollgate-with-config.js';
import { which } from './lib/which.js';
import { runWrk } from './lib/wrk.js';

const TAG = 'otlp-collector-down';

const USAGE = `Usage: node --import tsx bench/otlp-collector-down.ts [options]

  --minutes <n>         soak length                                   (default 5)
  --rate <req/s>        wrk: cap on the request rate (0 = unthrottled) (default 2000)
  --connections <n>     concurrent client connections                 (default 20)
  --sample <s>          sampling interval                             (default 10)
  --max-growth-mb <n>   fail when RSS grows more than this after minute 1 (default 50)
  --payload <bytes>     upstream body size                            (default 1024)
  --tool <name>         auto | wrk | autocannon (autocannon: closed loop, no rate cap) (default auto)
${NO_WAIT_USAGE}${USAGE_TAIL}`;

interface Options {
  readonly minutes: number;
  readonly rate: number;
  readonly connections: number;
  readonly sampleSeconds: number;
  readonly maxGrowthMb: number;
  readonly payloadBytes: number;
  readonly tool: LoadToolChoice;
  readonly wait: boolean;
  readonly tollgateBin: string;
}

function parseOptions(argv: readonly string[]): Options | undefined {
  const values = parseFlags(
    argv,
    ['minutes', 'rate', 'connections', 'sample', 'max-growth-mb', 'payload', 'tool', 'tollgate-bin'],
    ['no-wait'],
  );
  if (values === undefined) return undefined;
  const int = intArg;
  const tool = toolArg(values.tool);
  const minutes = int('minutes', values.minutes, 5);
  if (minutes < 2) throw new Error('--minutes must be at least 2 (growth is measured from minute 1)');
  return {
    minutes,
    rate: int('rate', values.rate, 2000, 0),
    connections: int('connections', values.connections, 20),
    sampleSeconds: int('sample', values.sample, 10),
    maxGrowthMb: int('max-growth-mb', values['max-growth-mb'], 50),
    payloadBytes: int('payload', values.payload, 1024, 0),
    tool,
    wait: values['no-wait'] !== true,
    tollgateBin: tollgateBinArg(values['tollgate-bin']),
  };
}

function gatewayConfig(
  port: number,
  upstreamPort: number,
  deadPort: number,
  metricsPort: number,
): { port: number } & Record<string, unknown> {
  return noopAndJsonGateway('tollgate-otlp-collector-down', port, upstreamPort, {
    service_name: 'tollgate-otlp-soak',
    trace_sample_rate: 1,
    exporters: {
      otlp: [otlpGrpcExporter('dead', deadPort, 1)],
      prometheus: [prometheusExporter('local', metricsPort, true, true)],
    },
  });
}

/**
 * wrk script: alternate /noop and /json; with a rate cap, each connection
 * waits `delayMs` after every response, so the total stays under
 * connections × 1000 / delayMs req/s whatever the gateway's speed.
 */
function wrkScript(delayMs: number): string {
  return [
    'local paths = { "/noop", "/json" }',
    'local i = 0',
    'request = function()',
    '  i = i + 1',
    '  return wrk.format("GET", paths[(i % 2) + 1])',
    'end',
    ...(delayMs > 0 ? ['delay = function()', `  return ${delayMs}`, 'end'] : []),
    '',
  ].join('\n');
}

interface Sample {
  /** Seconds since the load started (negative: before). */
  readonly t: number;
  readonly vmRssBytes: number | undefined;
  readonly promRssBytes: number | undefined;
  readonly heapUsedBytes: number | undefined;
  readonly served: number | undefined;
  readonly spansExported: number | undefined;
  readonly spansDropped: number | undefined;
  readonly spansFailed: number | undefined;
  readonly pushesFailed: number | undefined;
  readonly pushesSkipped: number | undefined;
  readonly scrapeError?: string;
}

async function takeSample(t: number, pid: number, metricsPort: number): Promise<Sample> {
  // The gateway is a cluster primary and its worker(s): all of them count.
  const vmRssBytes = treeRssBytes(pid);
  try {
    const { status, text } = await getText(`http://127.0.0.1:${metricsPort}/metrics`, 5000);
    if (status !== 200) throw new Error(`HTTP ${status}`);
    const one = (name: string, must: readonly string[] = []): number | undefined => {
      const s = sumSamples(text, name, must);
      return s.series === 0 ? undefined : s.sum;
    };
    return {
      t,
      vmRssBytes,
      promRssBytes: one('process_resident_memory_bytes'),
      heapUsedBytes: one('nodejs_heap_size_used_bytes'),
      served: one('http_server_duration_count'),
      spansExported: one('tollgate_telemetry_spans_total', ['outcome="exported"']),
      spansDropped: one('tollgate_telemetry_spans_total', ['outcome="dropped"']),
      spansFailed: one('tollgate_telemetry_spans_total', ['outcome="failed"']),
      pushesFailed: one('tollgate_telemetry_metric_pushes_total', ['outcome="failed"']),
      pushesSkipped: one('tollgate_telemetry_metric_pushes_total', ['outcome="skipped"']),
    };
  } catch (error) {
    return {
      t,
      vmRssBytes,
      promRssBytes: undefined,
      heapUsedBytes: undefined,
      served: undefined,
      spansExported: undefined,
      spansDropped: undefined,
      spansFailed: undefined,
      pushesFailed: undefined,
      pushesSkipped: undefined,
      scrapeError: error instanceof Error ? error.message : String(error),
    };
  }
}

async function main(options: Options): Promise<void> {
  const loadSeconds = options.minutes * 60;
  const budget = loadSeconds + 120;
  armRun(budget + (options.wait ? 15 * 60 : 0));
  const tempDir = createRunTempDir('tollgate-otlp-soak-');

  const wrkBin = options.tool === 'autocannon' ? undefined : which('wrk');
  if (options.tool === 'wrk' && wrkBin === undefined) throw new Error('--tool wrk requested but wrk is not on PATH');
  const loadTool =
    wrkBin !== undefined
      ? describeWrkLoad(wrkBin, options.connections, options.rate)
      : `autocannon, ${options.connections} connections, closed loop (no rate cap)`;

  await waitForQuietStart(TAG, options.wait, 'warning: still not quiet after 15 min; soaking anyway');
  if (isShuttingDown()) return;
  const startedAt = new Date();
  log(
    `${TAG}: ${options.minutes} min soak; ${loadTool}; sampling every ${options.sampleSeconds} s; ${availableParallelism()} CPU(s)`,
  );

  const upstream = await startUpstream('./telemetry-upstream.ts', options.payloadBytes);

  // The "collector": a loopback port that was bound and closed again, so connects are refused.
  const deadPort = await getFreePort();
  const metricsPort = await getFreePort();
  const port = await getFreePort();
  const started = await startTollgateWithConfig({
    name: 'tollgate-otlp-collector-down',
    config: gatewayConfig(port, upstream.port, deadPort, metricsPort),
    bin: options.tollgateBin,
    tempDir,
    leashSeconds: budget + 30,
  });
  if (!started.ok) throw new Error(started.reason);
  const pid = nodePidOf(started.child.process.pid);
  if (pid === undefined) throw new Error('could not find the gateway process id under /proc');
  log(
    `${TAG}: gateway pid ${pid} at ${started.origin}; OTLP to dead port 127.0.0.1:${deadPort}; /metrics on 127.0.0.1:${metricsPort}`,
  );
  for (const path of ['/noop', '/json']) {
    const { status, bodyBytes } = await httpGet(`${started.origin}${path}`, 5000);
    if (status !== 200 || bodyBytes === 0)
      throw new Error(`probe GET ${path}: expected 200 with a body, got ${status} with ${bodyBytes} bytes`);
  }
  if (await portAccepts(deadPort)) throw new Error(`the "dead" port ${deadPort} accepts connections; rerun`);

  const samples: Sample[] = [await takeSample(0, pid, metricsPort)];

  // Load: one wrk run lasting the whole soak (or autocannon, closed loop).
  const t0 = Date.now();
  let loadPromise: Promise<LoadResult>;
  if (wrkBin !== undefined) {
    const scriptFile = join(tempDir, 'soak.lua');
    await writeFile(scriptFile, wrkScript(wrkDelayMs(options.connections, options.rate)));
    loadPromise = runWrk(
      wrkBin,
      {
        url: started.origin,
        threads: 1,
        connections: options.connections,
        durationSeconds: loadSeconds,
        timeoutSeconds: 5,
        script: scriptFile,
      },
      20_000,
    );
  } else {
    // autocannon hits a single URL: /json, the heavier of the two paths.
    loadPromise = selectLoadGenerator('autocannon').run({
      url: `${started.origin}/json`,
      connections: options.connections,
      durationSeconds: loadSeconds,
      threads: 1,
      timeoutSeconds: 5,
    });
  }
  let loadDone = false;
  let loadError: unknown;
  let load: LoadResult | undefined;
  const loadFinished = loadPromise.then(
    (r) => {
      load = r;
      loadDone = true;
    },
    (error: unknown) => {
      loadError = error;
      loadDone = true;
    },
  );

  const gatewayDied = exitedFlag(started.child);
  for (let k = 1; !loadDone && !isShuttingDown(); k++) {
    const next = t0 + k * options.sampleSeconds * 1000;
    await Promise.race([new Promise((r) => setTimeout(r, Math.max(0, next - Date.now()))), loadFinished]);
    if (loadDone) break;
    if (gatewayDied()) break;
    const s = await takeSample(Math.round((Date.now() - t0) / 100) / 10, pid, metricsPort);
    samples.push(s);
    log(
      `${TAG}: t=${s.t.toFixed(0)}s RSS ${mb(s.vmRssBytes)} MB (exporter ${mb(s.promRssBytes)} MB, heap used ${mb(s.heapUsedBytes)} MB), ` +
        `served ${fmtInt(s.served)}, spans dropped ${fmtInt(s.spansDropped)}, exported ${fmtInt(s.spansExported)}, failed ${fmtInt(s.spansFailed)}, metric pushes failed ${fmtInt(s.pushesFailed)}` +
        (s.scrapeError === undefined ? '' : `, scrape failed: ${s.scrapeError}`),
    );
  }
  await loadFinished;
  if (isShuttingDown()) return;
  // A closing sample once the load has stopped, unless the last tick was just now.
  const tEnd = Math.round((Date.now() - t0) / 100) / 10;
  if (!gatewayDied() && tEnd - (samples[samples.length - 1]?.t ?? 0) >= 2)
    samples.push(await takeSample(tEnd, pid, metricsPort));
  // Read before cleanup: stopping the gateway resolves its `exited` promise too.
  const diedDuringSoak = gatewayDied();
  await runCleanup();

  // ---- report ----
  const out: string[] = [];
  out.push(
    '',
    `OTLP collector down — ${options.minutes} min soak, OTLP gRPC metrics+traces to a dead port, trace_sample_rate 1; ${loadTool}`,
    '',
  );
  const header = [
    't (s)',
    'VmRSS MB',
    'exporter RSS MB',
    'heap used MB',
    'served',
    'spans dropped',
    'spans exported',
    'spans failed',
    'pushes failed',
    'pushes skipped',
  ];
  const rows = samples.map((s) => [
    s.t.toFixed(0),
    mb(s.vmRssBytes),
    mb(s.promRssBytes),
    mb(s.heapUsedBytes),
    fmtInt(s.served),
    fmtInt(s.spansDropped),
    fmtInt(s.spansExported),
    fmtInt(s.spansFailed),
    fmtInt(s.pushesFailed),
    fmtInt(s.pushesSkipped),
  ]);
  out.push(...textTable(header, rows), '');

  const failures: string[] = [];
  const withRss = samples.filter((s) => s.vmRssBytes !== undefined);
  const baseline = withRss.find((s) => s.t >= 60);
  const last = withRss[withRss.length - 1];
  let growthBytes: number | undefined;
  let maxAfterBaseline: number | undefined;
  if (baseline !== undefined && last !== undefined && last !== baseline) {
    growthBytes = (last.vmRssBytes as number) - (baseline.vmRssBytes as number);
    maxAfterBaseline = Math.max(...withRss.filter((s) => s.t >= baseline.t).map((s) => s.vmRssBytes as number));
    const ok = growthBytes <= options.maxGrowthMb * MB;
    out.push(
      `RSS growth after minute 1: ${mb(baseline.vmRssBytes)} MB at t=${baseline.t.toFixed(0)}s -> ${mb(last.vmRssBytes)} MB at t=${last.t.toFixed(0)}s = ` +
        `${growthBytes >= 0 ? '+' : ''}${(growthBytes / MB).toFixed(1)} MB (peak after minute 1: ${mb(maxAfterBaseline)} MB; limit +${options.maxGrowthMb} MB): ${ok ? 'flat' : 'GROWING'}`,
    );
    if (!ok)
      failures.push(`RSS grew by ${(growthBytes / MB).toFixed(1)} MB after minute 1 (limit ${options.maxGrowthMb} MB)`);
  } else {
    out.push('RSS growth after minute 1: not enough samples');
    failures.push('not enough RSS samples after minute 1');
  }
  if (diedDuringSoak)
    failures.push(
      `the gateway exited during the soak: ${started.child.stderrTail().split('\n').slice(-3).join(' | ')}`,
    );

  const final = [...samples].reverse().find((s) => s.scrapeError === undefined);
  out.push(
    `spans: dropped ${fmtInt(final?.spansDropped)}, failed ${fmtInt(final?.spansFailed)}, exported ${fmtInt(final?.spansExported)}; ` +
      `OTLP metric pushes failed ${fmtInt(final?.pushesFailed)}, skipped ${fmtInt(final?.pushesSkipped)}; requests served (gateway) ${fmtInt(final?.served)}`,
  );
  if ((final?.spansDropped ?? 0) === 0)
    out.push('warning: no span was dropped — was the collector really unreachable, and was there load?');
  if ((final?.spansExported ?? 0) > 0) out.push('warning: spans were exported — something answered on the "dead" port');
  if (load !== undefined) {
    out.push(
      `load (${load.tool}): ${load.requests.toLocaleString('en-US')} requests in ${load.durationSeconds.toFixed(1)} s = ${Math.round(load.requestsPerSecond).toLocaleString('en-US')} req/s; ` +
        `errors ${load.errors}, non-2xx ${load.non2xx}; p50 ${load.latencyMs.p50.toFixed(2)} ms, p99 ${load.latencyMs.p99.toFixed(2)} ms`,
    );
  } else {
    out.push(`load: failed: ${loadError instanceof Error ? loadError.message : String(loadError)}`);
    failures.push('the load generator failed');
  }

  const file = await writeRunResults(
    TAG,
    startedAt,
    options,
    { load: loadTool },
    {
      samples,
      rssGrowthAfterMinute1Bytes: growthBytes,
      rssPeakAfterMinute1Bytes: maxAfterBaseline,
      load,
      failures,
    },
  );
  out.push(
    '',
    failures.length === 0 ? 'result: PASS (memory flat)' : `result: FAIL — ${failures.join('; ')}`,
    `results written to ${file}`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
  if (failures.length > 0) process.exitCode = 1;
}

await runDriver(TAG, USAGE, parseOptions, main);
