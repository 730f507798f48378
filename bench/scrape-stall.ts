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

import { writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { Client } from 'undici';
import { intArg, tollgateBinArg } from './lib/args.js';
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
import { fmtInt } from './lib/format.js';
import { getFreePort } from './lib/free-port.js';
import { kongAllFlags, loopbackHost } from './lib/gateway-config.js';
import { httpGet } from './lib/http-get.js';
import { getText, nodeChildren, nodePidOf, pinProcess, sampleLineCount, sumSamples } from './lib/otlp-bench-util.js';
import { waitForQuietStart } from './lib/quiet-gate.js';
import { rateCappedLoad } from './lib/rate-cap.js';
import {
  endpointPath,
  runPhase,
  runProbe,
  summarize,
  type LatencySummary,
  type PhaseContext,
  type PhaseResult,
} from './lib/stall-phase.js';
import { ms, report, type StallReportOptions } from './lib/stall-report.js';
import { startScraper } from './lib/stall-scraper.js';
import { createRunTempDir } from './lib/temp-dir.js';
import { startTollgateWithConfig } from './lib/tollgate-with-config.js';
import { which } from './lib/which.js';
import { runWrk } from './lib/wrk.js';

const TAG = 'scrape-stall';

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
${NO_WAIT_USAGE}${USAGE_TAIL}`;

interface Options extends StallReportOptions {
  readonly warmupSeconds: number;
  readonly rate: number;
  readonly payloadBytes: number;
  readonly wait: boolean;
  readonly isolate: boolean;
  readonly tollgateBin: string;
}

function parseOptions(argv: readonly string[]): Options | undefined {
  const strings = [
    'phase',
    'rounds',
    'warmup',
    'workers',
    'rate',
    'connections',
    'endpoints',
    'interval-ms',
    'scrape-hz',
    'max-added-ms',
    'payload',
    'tollgate-bin',
  ] as const;
  const values = parseFlags(argv, strings, ['no-wait', 'isolate']);
  if (values === undefined) return undefined;
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

interface Ports {
  readonly port: number;
  readonly metrics: number;
  readonly kong: number;
  readonly stats: number;
}

function gatewayConfig(
  options: Options,
  ports: Ports,
  upstreamPort: number,
): { port: number } & Record<string, unknown> {
  const host = loopbackHost(upstreamPort);
  const endpoints = Array.from({ length: options.endpoints }, (_, i) =>
    i % 2 === 0
      ? {
          endpoint: endpointPath(i),
          method: 'GET',
          output_encoding: 'no-op',
          backend: [{ host, url_pattern: '/payload', encoding: 'no-op' }],
        }
      : {
          endpoint: endpointPath(i),
          method: 'GET',
          output_encoding: 'json',
          backend: [{ host, url_pattern: '/json', encoding: 'json' }],
        },
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
        exporters: {
          prometheus: [
            { name: 'local', port: ports.metrics, listen_ip: '127.0.0.1', process_metrics: true, go_metrics: true },
          ],
        },
      },
      'telemetry/kong-prometheus': kongAllFlags(ports.kong),
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

async function main(options: Options): Promise<void> {
  const measureSeconds = options.warmupSeconds + options.rounds * 2 * (options.phaseSeconds + 6);
  const budget = measureSeconds + 120;
  armRun(budget + (options.wait ? 15 * 60 : 0));
  const { wrkBin, delayMs, loadTool } = rateCappedLoad(
    options.connections,
    options.rate,
    'the rate-capped background load needs its Lua delay()',
  );
  const tempDir = createRunTempDir('tollgate-scrape-stall-');

  await waitForQuietStart(TAG, options.wait, 'warning: still not quiet after 15 min; measuring anyway');
  if (isShuttingDown()) return;
  const startedAt = new Date();
  const loadBefore = loadavg();
  log(
    `${TAG}: ${options.rounds} round(s) × 2 phases × ${options.phaseSeconds} s; workers ${options.workers}; ${options.endpoints} endpoints; ${loadTool}; ${availableParallelism()} CPU(s)${options.isolate ? ', isolated: request path on CPU 1, primary and scraper on CPU 0' : ''}, load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
  );

  // --isolate: this process (the probe) and everything it starts run on CPU 1; the primary and the
  // scraper are moved to CPU 0 once they exist. All threads (-a): GC and libuv threads follow.
  let scrapePathCpu: ((pid: number) => void) | undefined;
  if (options.isolate) {
    const taskset = which('taskset');
    if (taskset === undefined || availableParallelism() < 2 || options.workers !== 1)
      throw new Error('--isolate needs taskset, 2 or more CPUs and --workers 1');
    pinProcess(taskset, process.pid, 1);
    scrapePathCpu = (pid) => pinProcess(taskset, pid, 0);
  }
  const upstream = await startUpstream('./telemetry-upstream.ts', options.payloadBytes);
  const ports: Ports = {
    port: await getFreePort(),
    metrics: await getFreePort(),
    kong: await getFreePort(),
    stats: await getFreePort(),
  };
  const started = await startTollgateWithConfig({
    name: 'tollgate-scrape-stall',
    config: gatewayConfig(options, ports, upstream.port),
    bin: options.tollgateBin,
    tempDir,
    leashSeconds: budget + 30,
  });
  if (!started.ok) throw new Error(started.reason);
  const pid = nodePidOf(started.child.process.pid);
  if (scrapePathCpu !== undefined) {
    if (pid === undefined || nodeChildren(pid).length !== 1)
      throw new Error('--isolate: could not find the primary and its one worker');
    scrapePathCpu(pid); // the worker, forked before this, stays on CPU 1
  }
  const gatewayDied = exitedFlag(started.child);
  for (const i of [0, 1]) {
    const { status, bodyBytes } = await httpGet(`${started.origin}${endpointPath(i)}`, 5000);
    if (status !== 200 || bodyBytes === 0)
      throw new Error(`probe GET ${endpointPath(i)}: expected 200 with a body, got ${status} with ${bodyBytes} bytes`);
  }
  const metricsUrl = `http://127.0.0.1:${ports.metrics}/metrics`;
  const kongUrl = `http://127.0.0.1:${ports.kong}/metrics`;
  log(
    `${TAG}: gateway pid ${String(pid)} at ${started.origin}; /metrics ${metricsUrl}; Kong ${kongUrl}; /__stats on ${ports.stats}`,
  );

  const script = join(tempDir, 'load.lua');
  await writeFile(script, wrkScript(options.endpoints, delayMs));
  // Warm-up: every endpoint gets traffic, so every series exists before the first scrape is timed.
  const warmResult = await runWrk(
    wrkBin,
    {
      url: started.origin,
      threads: 1,
      connections: options.connections,
      durationSeconds: options.warmupSeconds,
      timeoutSeconds: 5,
      script,
    },
    20_000,
  );
  const exposition = await getText(metricsUrl, 5000);
  const kongExposition = await getText(kongUrl, 5000);
  const sizes = {
    metricsBytes: Buffer.byteLength(exposition.text),
    metricsSamples: sampleLineCount(exposition.text),
    kongBytes: Buffer.byteLength(kongExposition.text),
    kongSamples: sampleLineCount(kongExposition.text),
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
  for (let round = 0; round < options.rounds && !isShuttingDown() && !gatewayDied(); round++) {
    const order = round % 2 === 0 ? [false, true] : [true, false];
    for (const scraped of order) {
      if (isShuttingDown() || gatewayDied()) break;
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
  const finalMetrics = gatewayDied() ? undefined : await getText(metricsUrl, 5000).catch(() => undefined);
  const collectTimeouts =
    finalMetrics === undefined
      ? undefined
      : sumSamples(finalMetrics.text, 'tollgate_cluster_collect_timeouts_total').sum;
  const diedDuringRun = gatewayDied();
  await runCleanup();
  if (phases.length < options.rounds * 2)
    throw new Error(
      diedDuringRun
        ? `the gateway exited during the run: ${started.child.stderrTail().split('\n').slice(-3).join(' | ')}`
        : 'interrupted',
    );

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
  await report({
    options,
    startedAt,
    loadTool,
    loadBefore,
    sizes,
    warmResult,
    phases,
    pooled: { unscraped: pooled(false), scraped: pooled(true) },
    collectTimeouts,
  });
}

await runDriver(TAG, USAGE, parseOptions, main);
