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

import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { intArg, toolArg, tollgateBinArg } from './lib/args.js';
import type { TrackedChild } from './lib/children.js';
import { isShuttingDown, runCleanup } from './lib/cleanup.js';
import {
  cpuCell,
  report,
  RUN_SPECS,
  TARGETS,
  WORKERS,
  type ClusterRun,
  type ReportOptions,
  type RunSpec,
  type Summary,
  type TargetName,
} from './lib/cluster-report.js';
import { SCRAPE_BATCH_MAX_MS, scrapeBatch, scrapeEverySecond, scrapeOnce } from './lib/cluster-scrape.js';
import { armRun, log, NO_WAIT_USAGE, parseFlags, runDriver, startUpstream, USAGE_TAIL } from './lib/driver.js';
import { CLOCK_TICKS_PER_SECOND, startTreeForeignLoadMeter, ticksToMs } from './lib/foreign-load.js';
import { fmtInt } from './lib/format.js';
import { getFreePort } from './lib/free-port.js';
import { selectLoadGenerator, type LoadToolChoice } from './lib/load-generator.js';
import type { LoadGenerator } from './lib/load-result.js';
import { idleBackgroundCpu, warmUp } from './lib/measure.js';
import { startNodeServer } from './lib/node-child.js';
import { noiseWarnings } from './lib/noise-report.js';
import { cpuTicks, nodeChildren, nodePidOf, sumSamples } from './lib/otlp-bench-util.js';
import { probeTarget } from './lib/probe.js';
import { createQuietGate } from './lib/quiet-gate.js';
import { writeRunResults } from './lib/results-file.js';
import { LOAD_RUN_FLAGS, loadRunOptions } from './lib/run-options.js';
import { createRunTempDir } from './lib/temp-dir.js';
import { checkLines } from './lib/text-table.js';
import { startTollgateWithConfig } from './lib/tollgate-with-config.js';

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
${NO_WAIT_USAGE}                        (default: wait, up to 10 min in total)
${USAGE_TAIL}`;
/** Longest total wait for other benchmarks to finish. */
const WAIT_BUDGET_MS = 10 * 60_000;

interface Options extends ReportOptions {
  readonly scrapes: number;
  readonly tool: LoadToolChoice;
  readonly wait: boolean;
  readonly tollgateBin: string;
}

function parseOptions(argv: readonly string[]): Options | undefined {
  const values = parseFlags(argv, [...LOAD_RUN_FLAGS, 'scrapes', 'tool', 'tollgate-bin'], ['no-wait']);
  if (values === undefined) return undefined;
  return {
    ...loadRunOptions(values, { duration: 5, warmup: 1, rounds: 3 }),
    scrapes: intArg('scrapes', values.scrapes, 200, 2),
    tool: toolArg(values.tool),
    wait: values['no-wait'] !== true,
    tollgateBin: tollgateBinArg(values['tollgate-bin']),
  };
}

function gatewayConfig(
  port: number,
  workers: number,
  upstreamOrigin: string,
  metricsPort: number | undefined,
): { port: number } & Record<string, unknown> {
  // No `layers`: KrakenD's defaults, every layer on, as a real deployment that scrapes would have.
  const telemetry = {
    extra_config: {
      'telemetry/opentelemetry': {
        service_name: 'tollgate-cluster-bench',
        exporters: {
          prometheus: [
            { name: 'bench', port: metricsPort, listen_ip: '127.0.0.1', process_metrics: true, go_metrics: false },
          ],
        },
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
      {
        endpoint: '/payload',
        method: 'GET',
        output_encoding: 'no-op',
        backend: [{ host: [upstreamOrigin], url_pattern: '/payload', encoding: 'no-op' }],
      },
    ],
  };
}

interface Target {
  readonly name: TargetName;
  readonly child: TrackedChild;
  readonly url: string;
  /** The Node process the driver spawned: the floor, the floor cluster's primary, or Tollgate's primary. */
  readonly pid: number;
  readonly metricsUrl: string | undefined;
}

/** The processes that serve requests: the floor itself, or the workers of a cluster. */
function servingPids(target: Target): number[] {
  return target.name === 'floor-x1' ? [target.pid] : nodeChildren(target.pid);
}

async function startTarget(
  name: TargetName,
  upstreamOrigin: string,
  options: Options,
  tempDir: string,
  leashSeconds: number,
): Promise<Target> {
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

async function measure(
  generator: LoadGenerator,
  options: Options,
  target: Target,
  spec: RunSpec,
  round: number,
): Promise<ClusterRun> {
  const base = {
    url: target.url,
    connections: options.connections,
    threads: options.threads,
    timeoutSeconds: options.timeoutSeconds,
  };
  const busy = await idleBackgroundCpu();
  const warmupRequests = await warmUp(generator, base, options.warmupSeconds);
  const serving = servingPids(target);
  const primary0 = target.name === 'floor-x1' ? undefined : cpuTicks(target.pid);
  const serving0 = serving.map((p) => cpuTicks(p) ?? 0);
  const foreign = startTreeForeignLoadMeter();
  const t0 = performance.now();
  let loadDone = false;
  const scraping =
    spec.scraped && target.metricsUrl !== undefined ? scrapeEverySecond(target.metricsUrl, () => loadDone) : undefined;
  const load = await generator
    .run({ ...base, durationSeconds: options.durationSeconds })
    .finally(() => (loadDone = true));
  const wallS = (performance.now() - t0) / 1000;
  const foreignDuringPercent = foreign();
  const pct = (ticks: number): number => Math.round(ticksToMs(ticks) / wallS) / 10;
  const primaryCpuPercent = primary0 === undefined ? undefined : pct((cpuTicks(target.pid) ?? 0) - primary0);
  const servingCpuPercent = serving.map((p, i) => pct((cpuTicks(p) ?? 0) - (serving0[i] ?? 0)));
  const duringLoad = scraping === undefined ? undefined : await scraping;
  const batch =
    spec.scraped && target.metricsUrl !== undefined
      ? await scrapeBatch(target.pid, target.metricsUrl, options.scrapes)
      : undefined;
  return {
    round,
    id: spec.id,
    target: spec.target,
    result: { load, backgroundCpuBusyPercent: busy },
    warmupRequests,
    foreignDuringPercent,
    primaryCpuPercent,
    servingCpuPercent,
    duringLoad,
    batch,
  };
}

function describeRun(run: ClusterRun): string {
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

/** Requests the merged /metrics counts against what the load generator completed, per Prometheus gateway. */
interface Check {
  readonly label: string;
  readonly ok: boolean;
  readonly detail: string;
}

async function countChecks(
  targets: ReadonlyMap<TargetName, Target>,
  runs: readonly ClusterRun[],
  options: Options,
): Promise<Check[]> {
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
async function startAll(
  upstreamOrigin: string,
  options: Options,
  tempDir: string,
  leashSeconds: number,
): Promise<Map<TargetName, Target> | undefined> {
  const targets = new Map<TargetName, Target>();
  for (const name of TARGETS) {
    if (isShuttingDown()) return undefined;
    const target = await startTarget(name, upstreamOrigin, options, tempDir, leashSeconds);
    const problem = await probeTarget(target.url, options.payloadBytes);
    if (problem !== undefined) throw new Error(`${name}: ${problem}`);
    const serving = servingPids(target).length;
    if (serving !== WORKERS[name])
      throw new Error(`${name}: expected ${WORKERS[name]} serving process(es), found ${serving}`);
    targets.set(name, target);
    log(
      `${TAG}: ${name}: ready at ${target.url} (pid ${target.pid}, ${serving} serving)${target.metricsUrl === undefined ? '' : `, metrics at ${target.metricsUrl}`}`,
    );
  }
  return targets;
}

/** bench/results/cluster-<timestamp>.json: options, environment, summary, every run (without raw scrape samples), checks. */
async function writeResults(
  startedAt: Date,
  options: Options,
  generator: LoadGenerator,
  data: { readonly summary: Summary; readonly runs: readonly ClusterRun[]; readonly checks: readonly Check[] },
): Promise<string> {
  const environment = { loadGenerator: generator.version, pinned: false, clockTicksPerSecond: CLOCK_TICKS_PER_SECOND };
  const runs = data.runs.map(({ batch, ...r }) => ({
    ...r,
    batch: batch === undefined ? undefined : { ...batch, latenciesMs: undefined },
  }));
  return writeRunResults(TAG, startedAt, options, environment, { summary: data.summary, runs, checks: data.checks });
}

async function main(options: Options): Promise<void> {
  const perRun = options.warmupSeconds + options.durationSeconds + 4;
  const scrapedRuns = RUN_SPECS.filter((s) => s.scraped).length;
  const budget = 90 + options.rounds * (RUN_SPECS.length * perRun + (scrapedRuns * SCRAPE_BATCH_MAX_MS) / 1000);
  const waitBudget = options.wait ? WAIT_BUDGET_MS / 1000 : 0;
  armRun(budget + waitBudget);
  const tempDir = createRunTempDir('tollgate-cluster-bench-');
  const generator = selectLoadGenerator(options.tool);

  // Another benchmark on this 2-core box makes every figure meaningless: wait for it, before the run
  // and before every measurement, for at most WAIT_BUDGET_MS in total.
  const quietGate = createQuietGate(
    TAG,
    options.wait ? WAIT_BUDGET_MS : 0,
    'warning: other benchmarks still running; measuring anyway — numbers will be noisy',
  );
  await quietGate(20_000);
  if (isShuttingDown()) return;
  const startedAt = new Date();
  log(
    `${TAG}: ${generator.version}; ${options.connections} connections, ${options.threads} thread(s), ${options.warmupSeconds}s warm-up + ` +
      `${options.durationSeconds}s measured x ${RUN_SPECS.length} runs x ${options.rounds} round(s); ${availableParallelism()} CPU(s), not pinned; budget ${Math.round(budget)}s`,
  );

  const upstream = await startUpstream('./upstream-server.ts', options.payloadBytes);
  const upstreamOrigin = `http://127.0.0.1:${upstream.port}`;
  log(`${TAG}: upstream on ${upstreamOrigin}`);

  const targets = await startAll(upstreamOrigin, options, tempDir, budget + waitBudget + 30);
  if (targets === undefined) return;

  const runs: ClusterRun[] = [];
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

  const { lines, summary } = report(runs, options, generator.name);
  lines.push('', ...checkLines(checks));
  lines.push(...noiseWarnings(runs.map((r) => ({ ...r, endpoint: `w${WORKERS[r.target]}`, mode: r.id }))));

  const file = await writeResults(startedAt, options, generator, { summary, runs, checks });
  lines.push('', `results written to ${file}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  if (checks.some((c) => !c.ok)) process.exitCode = 1;
}

await runDriver(TAG, USAGE, parseOptions, main);
