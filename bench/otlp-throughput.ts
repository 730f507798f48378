// Gateway throughput with OTLP push off versus on (metrics + traces over gRPC
// to a local sink), at trace_sample_rate 1 and 0.1, in one run against one
// shared upstream.
//
//   node --import tsx bench/otlp-throughput.ts [--duration 5] [--warmup 1] [--rounds 3] [--connections 50]
//
// Three Tollgate processes (bin/tollgate.js run, built dist/) with the same
// two endpoints — GET /noop (output_encoding no-op) and GET /json (json decode
// + re-encode), one backend each — and:
//   off      no `telemetry/opentelemetry` at all;
//   rate1    `telemetry/opentelemetry` with default layers (all on), one OTLP
//            gRPC exporter (metrics + traces, custom_metric_reporting_period 1)
//            to its own sink, trace_sample_rate 1;
//   rate0.1  the same with trace_sample_rate 0.1.
// The OTLP gateways also get a Prometheus exporter (no process/runtime
// collectors; nothing scrapes it until the end), only to read the gateway's
// own span counters (exported / dropped / failed) afterwards.
// Each sink is a separate Node process (lib/otlp-sink-child.ts) counting
// Export requests, bytes, spans and metrics. Rounds rotate the mode order per
// endpoint; the median round is reported with the ratios against off.
// See bench/OTLP.md.

import { availableParallelism } from 'node:os';
import { tollgateBinArg, toolArg } from './lib/args.js';
import { isShuttingDown, runCleanup } from './lib/cleanup.js';
import { NOISY_BACKGROUND_PERCENT } from './lib/cpu-quiet.js';
import { armRun, log, parseFlags, runDriver, startUpstream, USAGE_TAIL } from './lib/driver.js';
import { startTreeForeignLoadMeter } from './lib/foreign-load.js';
import { fmtInt } from './lib/format.js';
import { getFreePort } from './lib/free-port.js';
import { noopAndJsonGateway, otlpGrpcExporter, prometheusExporter } from './lib/gateway-config.js';
import { httpGet } from './lib/http-get.js';
import { selectLoadGenerator, type LoadToolChoice } from './lib/load-generator.js';
import type { LoadGenerator } from './lib/load-result.js';
import { idleBackgroundCpu, warmUp } from './lib/measure.js';
import { getText, pinDriver, startPerCpuMeter } from './lib/otlp-bench-util.js';
import { startOtlpSink, type OtlpSink, type OtlpSinkCounts } from './lib/otlp-sink.js';
import {
  MODES,
  OTLP_MODES,
  reportOtlpThroughput,
  sinkDelta,
  TARGETS,
  type Mode,
  type OtlpRun,
} from './lib/otlp-throughput-report.js';
import { createQuietGate } from './lib/quiet-gate.js';
import { writeRunResults } from './lib/results-file.js';
import { LOAD_RUN_FLAGS, loadRunOptions, type LoadRunOptions } from './lib/run-options.js';
import { createRunTempDir } from './lib/temp-dir.js';
import { startTollgateWithConfig } from './lib/tollgate-with-config.js';
const TAG = 'otlp-throughput';

const USAGE = `Usage: node --import tsx bench/otlp-throughput.ts [options]

  --duration <s>        measured seconds per run                  (default 5)
  --warmup <s>          unmeasured warm-up seconds before each    (default 1)
  --rounds <n>          rounds; each runs every mode per endpoint (default 3)
  --connections <n>     concurrent client connections             (default 50)
  --threads <n>         wrk threads                               (default 1)
  --payload <bytes>     upstream body size (/payload and /json)   (default 1024)
  --timeout <s>         per-request timeout, counted as error     (default 5)
  --tool <name>         auto | wrk | autocannon                   (default auto)
  --endpoints <list>    noop,json or a subset                     (default noop,json)
  --no-pin              do not pin CPUs (default with taskset and >= 2 CPUs: the
                        gateways on CPU 1; driver, upstream, sinks and wrk on CPU 0)
  --no-wait             do not wait for other benchmarks (wrk, autocannon, bench/*.ts) or
                        for foreign CPU load to go away, and do not re-measure runs that
                        shared the CPU (default: wait, up to 15 min in total)
  --strict              exit 2 when a ratio misses its target (default: report only)
${USAGE_TAIL}`;

const SAMPLE_RATE: Readonly<Record<Exclude<Mode, 'off'>, number>> = { rate1: 1, 'rate0.1': 0.1 };
/** Longest total wait for other benchmarks to finish. */
const WAIT_BUDGET_MS = 15 * 60_000;

const ALL_ENDPOINTS = [
  { name: 'noop', path: '/noop', description: 'GET /noop, output_encoding no-op -> upstream /payload' },
  { name: 'json', path: '/json', description: 'GET /json, output_encoding json -> upstream /json (decode + encode)' },
] as const;
type Endpoint = (typeof ALL_ENDPOINTS)[number];

interface Options extends LoadRunOptions {
  readonly tool: LoadToolChoice;
  readonly endpoints: readonly Endpoint[];
  readonly pin: boolean;
  readonly wait: boolean;
  readonly strict: boolean;
  readonly tollgateBin: string;
}

function parseOptions(argv: readonly string[]): Options | undefined {
  const values = parseFlags(
    argv,
    [...LOAD_RUN_FLAGS, 'tool', 'endpoints', 'tollgate-bin'],
    ['no-pin', 'no-wait', 'strict'],
  );
  if (values === undefined) return undefined;
  const tool = toolArg(values.tool);
  const names = (values.endpoints ?? 'noop,json').split(',').map((s) => s.trim());
  const endpoints = ALL_ENDPOINTS.filter((e) => names.includes(e.name));
  if (endpoints.length === 0 || endpoints.length !== new Set(names).size)
    throw new Error(`--endpoints must list noop and/or json, got "${values.endpoints ?? ''}"`);
  return {
    ...loadRunOptions(values, { duration: 5, warmup: 1, rounds: 3 }),
    tool,
    endpoints,
    pin: values['no-pin'] !== true,
    wait: values['no-wait'] !== true,
    strict: values.strict === true,
    tollgateBin: tollgateBinArg(values['tollgate-bin']),
  };
}

function gatewayConfig(
  mode: Mode,
  port: number,
  upstreamPort: number,
  sinkPort: number,
  metricsPort: number,
): { port: number } & Record<string, unknown> {
  const otel =
    mode === 'off'
      ? undefined
      : {
          service_name: 'tollgate-otlp-bench',
          trace_sample_rate: SAMPLE_RATE[mode],
          // No `layers`: KrakenD's defaults, every layer on.
          exporters: {
            otlp: [otlpGrpcExporter('sink', sinkPort, 1)],
            // Only read once at the end, for the gateway's own span counters.
            prometheus: [prometheusExporter('self', metricsPort, false, false)],
          },
        };
  return noopAndJsonGateway(`tollgate-otlp-bench-${mode}`, port, upstreamPort, otel);
}

async function measure(
  generator: LoadGenerator,
  options: Options,
  url: string,
  sink: OtlpSink | undefined,
): Promise<Omit<OtlpRun, 'round' | 'endpoint' | 'mode'>> {
  const base = {
    url,
    connections: options.connections,
    threads: options.threads,
    timeoutSeconds: options.timeoutSeconds,
  };
  const busy = await idleBackgroundCpu();
  const before = await sink?.counts();
  const warmupRequests = await warmUp(generator, base, options.warmupSeconds);
  const foreign = startTreeForeignLoadMeter();
  const perCpu = startPerCpuMeter();
  const load = await generator.run({ ...base, durationSeconds: options.durationSeconds });
  const perCpuBusyPercent = perCpu();
  const foreignDuringPercent = foreign();
  const after = await sink?.counts();
  return {
    result: { load, backgroundCpuBusyPercent: busy },
    warmupRequests,
    foreignDuringPercent,
    perCpuBusyPercent,
    sink: before !== undefined && after !== undefined ? sinkDelta(before, after) : undefined,
  };
}

async function main(options: Options): Promise<void> {
  const perRun = options.warmupSeconds + options.durationSeconds + 3;
  const waitBudget = options.wait ? WAIT_BUDGET_MS / 1000 : 0;
  // Twice the runs: a run measured under foreign load is repeated, at most once per run on average.
  const budget = 90 + 2 * options.rounds * options.endpoints.length * MODES.length * perRun;
  armRun(budget + waitBudget);
  const tempDir = createRunTempDir('tollgate-otlp-bench-');
  const generator = selectLoadGenerator(options.tool);

  // Another benchmark on this 2-core box makes every figure meaningless: wait for it, before the
  // run and again before every measurement, for at most WAIT_BUDGET_MS in total; before each
  // measurement also for the machine's CPU to calm down (lib/quiet-gate.ts).
  const quietGate = createQuietGate(
    TAG,
    options.wait ? WAIT_BUDGET_MS : 0,
    `warning: other benchmarks still running after waiting ${Math.round(WAIT_BUDGET_MS / 60_000)} min in total; measuring anyway — numbers will be noisy`,
  );
  await quietGate(20_000, false);
  if (isShuttingDown()) return;
  const startedAt = new Date();
  log(
    `${TAG}: ${generator.version}; ${options.connections} connections, ${options.threads} thread(s), ` +
      `${options.warmupSeconds}s warm-up + ${options.durationSeconds}s measured x ${options.rounds} round(s) x ${MODES.join('/')} x ${options.endpoints.map((e) => e.name).join('/')}; ` +
      `${options.payloadBytes}-byte payloads; ${availableParallelism()} CPU(s); budget ${budget}s`,
  );

  const tasksetBin = pinDriver(options.pin, log, TAG);

  const upstream = await startUpstream('./telemetry-upstream.ts', options.payloadBytes);
  log(`${TAG}: upstream on 127.0.0.1:${upstream.port}`);

  // One sink per OTLP gateway, so that each mode's counts are its own.
  const sinks = new Map<Mode, OtlpSink>();
  for (const mode of OTLP_MODES) {
    const sink = await startOtlpSink(`otlp-sink-${mode}`);
    if (!sink.ok) throw new Error(`OTLP sink failed to start: ${sink.reason}`);
    sinks.set(mode, sink);
    log(`${TAG}: OTLP sink for ${mode} on 127.0.0.1:${sink.port}`);
  }

  const metricsPorts = new Map<Mode, number>();
  const origins = new Map<Mode, string>();
  for (const mode of MODES) {
    if (isShuttingDown()) return;
    const metricsPort = await getFreePort();
    metricsPorts.set(mode, metricsPort);
    const port = await getFreePort();
    const started = await startTollgateWithConfig({
      name: `tollgate-otlp-${mode}`,
      config: gatewayConfig(mode, port, upstream.port, sinks.get(mode)?.port ?? 0, metricsPort),
      bin: options.tollgateBin,
      tempDir,
      // Mid-run waits for other benchmarks count against the leash too.
      leashSeconds: budget + waitBudget + 30,
      taskset: tasksetBin === undefined ? undefined : { bin: tasksetBin, cpus: '1' },
    });
    if (!started.ok) throw new Error(started.reason);
    origins.set(mode, started.origin);
    log(`${TAG}: ${mode}: ready at ${started.origin}`);
  }
  const originOf = (mode: Mode): string => origins.get(mode) as string;

  // Correctness probe: 200, a body, and the same body size in every mode.
  for (const ep of options.endpoints) {
    const sizes: number[] = [];
    for (const mode of MODES) {
      const { status, bodyBytes } = await httpGet(`${originOf(mode)}${ep.path}`, 5000);
      if (status !== 200 || bodyBytes === 0)
        throw new Error(
          `probe GET ${ep.path} (${mode}): expected 200 with a body, got ${status} with ${bodyBytes} bytes`,
        );
      sizes.push(bodyBytes);
    }
    if (sizes.some((n) => n !== sizes[0]))
      throw new Error(`probe GET ${ep.path}: body sizes differ between modes: ${sizes.join('/')}`);
    log(`${TAG}: probe ${ep.path}: 200, ${sizes[0]} bytes`);
  }

  const runs: OtlpRun[] = [];
  const discarded: OtlpRun[] = [];
  let retriesLeft = options.wait ? options.rounds * options.endpoints.length * MODES.length : 0;
  for (let round = 0; round < options.rounds; round++) {
    for (const [e, ep] of options.endpoints.entries()) {
      // Rotated every round and endpoint, so no mode always runs first (or on a warmer machine).
      const shift = (round + e) % MODES.length;
      const order: Mode[] = [...MODES.slice(shift), ...MODES.slice(0, shift)];
      for (const mode of order) {
        let m: Omit<OtlpRun, 'round' | 'endpoint' | 'mode'>;
        for (;;) {
          await quietGate(5_000, true);
          if (isShuttingDown()) return;
          log(`${TAG}: round ${round + 1}/${options.rounds}: ${ep.path} ${mode}...`);
          m = await measure(generator, options, `${originOf(mode)}${ep.path}`, sinks.get(mode));
          // A run that shared the CPU with someone else is measured again (a bounded number of times).
          if ((m.foreignDuringPercent ?? 0) <= NOISY_BACKGROUND_PERCENT || retriesLeft <= 0) break;
          retriesLeft--;
          discarded.push({ round, endpoint: ep.name, mode, ...m });
          log(
            `${TAG}:   discarded (${fmtInt(m.result.load.requestsPerSecond)} req/s with ${Math.round(m.foreignDuringPercent ?? 0)}% foreign CPU during the run); ` +
              `measuring again (${retriesLeft} retries left)`,
          );
        }
        runs.push({ round, endpoint: ep.name, mode, ...m });
        const { load } = m.result;
        log(
          `${TAG}:   ${fmtInt(load.requestsPerSecond)} req/s, p50 ${load.latencyMs.p50.toFixed(2)} ms, p99 ${load.latencyMs.p99.toFixed(2)} ms, ` +
            `errors ${load.errors}/${load.non2xx}; CPU busy ${
              Object.entries(m.perCpuBusyPercent)
                .map(([c, v]) => `${c} ${Math.round(v)}%`)
                .join(', ') || 'n/a'
            }; ` +
            `foreign ${m.foreignDuringPercent === undefined ? 'n/a' : `${m.foreignDuringPercent.toFixed(0)}%`}` +
            (m.sink === undefined
              ? ''
              : `; sink +${fmtInt(m.sink.spans)} spans in ${m.sink.traceRequests} requests, +${m.sink.metricRequests} metric pushes`),
        );
      }
    }
  }

  // Let the span batchers' 5 s timer send what is left, so sink and gateway counters can be compared.
  log(`${TAG}: waiting 6 s for the last span batches...`);
  await new Promise((r) => setTimeout(r, 6000));
  const finalCounts = new Map<Mode, OtlpSinkCounts>();
  const scrapes = new Map<Mode, string>();
  for (const mode of OTLP_MODES) {
    finalCounts.set(mode, await (sinks.get(mode) as OtlpSink).counts());
    scrapes.set(mode, (await getText(`http://127.0.0.1:${metricsPorts.get(mode) as number}/metrics`)).text);
  }
  await runCleanup();

  const pinned = tasksetBin !== undefined;
  const { out, summary, exportSummary, checks, verdicts } = reportOtlpThroughput(
    { ...options, generator: generator.name, pinned },
    runs,
    discarded,
    finalCounts,
    scrapes,
  );
  const file = await writeRunResults(
    TAG,
    startedAt,
    { ...options, endpoints: options.endpoints.map((e) => e.name) },
    { loadGenerator: generator.version, pinned },
    { targets: TARGETS, summary, export: exportSummary, runs, discardedRuns: discarded, checks },
  );
  out.push('', `results written to ${file}`);
  process.stdout.write(`${out.join('\n')}\n`);
  if (checks.some((c) => !c.ok)) process.exitCode = 1;
  else if (options.strict && verdicts.some((v) => !v.ok)) process.exitCode = 2;
}

await runDriver(TAG, USAGE, parseOptions, main);
