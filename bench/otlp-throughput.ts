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
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { medianRound, type RoundResult } from './lib/bench-row.js';
import { armWatchdog, installCleanupHandlers, isShuttingDown, runCleanup } from './lib/cleanup.js';
import { backgroundCpuBusyPercent, NOISY_BACKGROUND_PERCENT } from './lib/cpu-quiet.js';
import { startTreeForeignLoadMeter } from './lib/foreign-load.js';
import { getFreePort } from './lib/free-port.js';
import { httpGet } from './lib/http-get.js';
import { selectLoadGenerator, type LoadToolChoice } from './lib/load-generator.js';
import type { LoadGenerator, LoadResult } from './lib/load-result.js';
import { startNodeServer } from './lib/node-child.js';
import { getText, pinDriver, startPerCpuMeter, sumSamples, waitForQuietBench } from './lib/otlp-bench-util.js';
import { startOtlpSink, type OtlpSink, type OtlpSinkCounts } from './lib/otlp-sink.js';
import { benchEnvironment, writeResultsFile } from './lib/results-file.js';
import { createRunTempDir } from './lib/temp-dir.js';
import { startTollgateWithConfig } from './lib/tollgate-with-config.js';
import { intArg, toolArg, tollgateBinArg } from './lib/args.js';
import { noiseWarnings } from './lib/noise-report.js';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
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
  --tollgate-bin <path> launcher to run (default <repo>/bin/tollgate.js)
  -h, --help            show this help
`;

const MODES = ['off', 'rate1', 'rate0.1'] as const;
type Mode = (typeof MODES)[number];
const SAMPLE_RATE: Readonly<Record<Exclude<Mode, 'off'>, number>> = { rate1: 1, 'rate0.1': 0.1 };
/** Minimum req/s ratio against off for each OTLP mode. */
const TARGETS: Readonly<Record<Exclude<Mode, 'off'>, number>> = { rate1: 0.85, 'rate0.1': 0.95 };
const OTLP_MODES = ['rate1', 'rate0.1'] as const;
/** Longest total wait for other benchmarks to finish. */
const WAIT_BUDGET_MS = 15 * 60_000;
/** Longest wait, before one measurement, for foreign CPU load to go away. */
const CPU_QUIET_MAX_MS = 60_000;

const ALL_ENDPOINTS = [
  { name: 'noop', path: '/noop', description: 'GET /noop, output_encoding no-op -> upstream /payload' },
  { name: 'json', path: '/json', description: 'GET /json, output_encoding json -> upstream /json (decode + encode)' },
] as const;
type Endpoint = (typeof ALL_ENDPOINTS)[number];

interface Options {
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly rounds: number;
  readonly connections: number;
  readonly threads: number;
  readonly payloadBytes: number;
  readonly timeoutSeconds: number;
  readonly tool: LoadToolChoice;
  readonly endpoints: readonly Endpoint[];
  readonly pin: boolean;
  readonly wait: boolean;
  readonly strict: boolean;
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
      tool: { type: 'string' },
      endpoints: { type: 'string' },
      'no-pin': { type: 'boolean' },
      'no-wait': { type: 'boolean' },
      strict: { type: 'boolean' },
      'tollgate-bin': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return undefined;
  const int = intArg;
  const tool = toolArg(values.tool);
  const names = (values.endpoints ?? 'noop,json').split(',').map((s) => s.trim());
  const endpoints = ALL_ENDPOINTS.filter((e) => names.includes(e.name));
  if (endpoints.length === 0 || endpoints.length !== new Set(names).size) throw new Error(`--endpoints must list noop and/or json, got "${values.endpoints ?? ''}"`);
  return {
    durationSeconds: int('duration', values.duration, 5),
    warmupSeconds: int('warmup', values.warmup, 1, 0),
    rounds: int('rounds', values.rounds, 3),
    connections: int('connections', values.connections, 50),
    threads: int('threads', values.threads, 1),
    payloadBytes: int('payload', values.payload, 1024, 0),
    timeoutSeconds: int('timeout', values.timeout, 5),
    tool,
    endpoints,
    pin: values['no-pin'] !== true,
    wait: values['no-wait'] !== true,
    strict: values.strict === true,
    tollgateBin: tollgateBinArg(values['tollgate-bin']),
  };
}

function gatewayConfig(mode: Mode, port: number, upstreamPort: number, sinkPort: number, metricsPort: number): { port: number } & Record<string, unknown> {
  const upstream = [`http://127.0.0.1:${upstreamPort}`];
  return {
    version: 3,
    name: `tollgate-otlp-bench-${mode}`,
    port,
    timeout: '3s',
    ...(mode !== 'off'
      ? {
          extra_config: {
            'telemetry/opentelemetry': {
              service_name: 'tollgate-otlp-bench',
              trace_sample_rate: SAMPLE_RATE[mode],
              // No `layers`: KrakenD's defaults, every layer on.
              exporters: {
                otlp: [
                  {
                    name: 'sink',
                    host: '127.0.0.1',
                    port: sinkPort,
                    use_http: false,
                    disable_metrics: false,
                    disable_traces: false,
                    custom_metric_reporting_period: 1,
                  },
                ],
                // Only read once at the end, for the gateway's own span counters.
                prometheus: [{ name: 'self', port: metricsPort, listen_ip: '127.0.0.1', process_metrics: false, go_metrics: false }],
              },
            },
          },
        }
      : {}),
    endpoints: [
      { endpoint: '/noop', method: 'GET', output_encoding: 'no-op', backend: [{ host: upstream, url_pattern: '/payload', encoding: 'no-op' }] },
      { endpoint: '/json', method: 'GET', output_encoding: 'json', backend: [{ host: upstream, url_pattern: '/json', encoding: 'json' }] },
    ],
  };
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

interface SinkDelta {
  readonly traceRequests: number;
  readonly spans: number;
  readonly traceBytes: number;
  readonly metricRequests: number;
}

function delta(a: OtlpSinkCounts, b: OtlpSinkCounts): SinkDelta {
  return {
    traceRequests: b.traces.requests - a.traces.requests,
    spans: b.traces.items - a.traces.items,
    traceBytes: b.traces.bytes - a.traces.bytes,
    metricRequests: b.metrics.requests - a.metrics.requests,
  };
}

interface Run {
  readonly round: number;
  readonly endpoint: string;
  readonly mode: Mode;
  readonly result: RoundResult;
  readonly warmupRequests: number;
  /** Foreign CPU (% of the machine) during the measured run; undefined without /proc. */
  readonly foreignDuringPercent: number | undefined;
  /** Busy % of each CPU during the measured run (cpu1 = the gateway's core when pinned). */
  readonly perCpuBusyPercent: Record<string, number>;
  /** What this mode's sink received from the start of the warm-up to the end of the measured run. */
  readonly sink: SinkDelta | undefined;
}

async function measure(
  generator: LoadGenerator,
  options: Options,
  url: string,
  sink: OtlpSink | undefined,
): Promise<Omit<Run, 'round' | 'endpoint' | 'mode'>> {
  const base = { url, connections: options.connections, threads: options.threads, timeoutSeconds: options.timeoutSeconds };
  // Let the previous run's connections close, then sample foreign load while every bench process is idle.
  await new Promise((r) => setTimeout(r, 250));
  const busy = await backgroundCpuBusyPercent();
  const before = await sink?.counts();
  let warmupRequests = 0;
  if (options.warmupSeconds > 0) warmupRequests = (await generator.run({ ...base, durationSeconds: options.warmupSeconds })).requests;
  const foreign = startTreeForeignLoadMeter();
  const perCpu = startPerCpuMeter();
  const load = await generator.run({ ...base, durationSeconds: options.durationSeconds });
  const perCpuBusyPercent = perCpu();
  const foreignDuringPercent = foreign();
  const after = await sink?.counts();
  return {
    result: { load, backgroundCpuBusyPercent: Math.round(busy * 10) / 10 },
    warmupRequests,
    foreignDuringPercent,
    perCpuBusyPercent,
    sink: before !== undefined && after !== undefined ? delta(before, after) : undefined,
  };
}

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options === undefined) {
    process.stdout.write(USAGE);
    return;
  }
  installCleanupHandlers();
  const perRun = options.warmupSeconds + options.durationSeconds + 3;
  const waitBudget = options.wait ? WAIT_BUDGET_MS / 1000 : 0;
  // Twice the runs: a run measured under foreign load is repeated, at most once per run on average.
  const budget = 90 + 2 * options.rounds * options.endpoints.length * MODES.length * perRun;
  armWatchdog((budget + waitBudget) * 1000);
  const tempDir = createRunTempDir('tollgate-otlp-bench-');
  const generator = selectLoadGenerator(options.tool);

  // Another benchmark on this 2-core box makes every figure meaningless: wait for it, before the
  // run and again before every measurement, for at most WAIT_BUDGET_MS in total.
  let waitLeftMs = options.wait ? WAIT_BUDGET_MS : 0;
  // Before each measurement it also waits (up to CPU_QUIET_MAX_MS) for the machine's CPU to calm
  // down: a test suite or a compiler is not a benchmark process but skews the figures as much.
  const quietGate = async (pollMs: number, cpuToo: boolean): Promise<void> => {
    if (waitLeftMs <= 0) return;
    const t = Date.now();
    const others = await waitForQuietBench(log, TAG, waitLeftMs, pollMs);
    if (others.length > 0) {
      log(`${TAG}: warning: other benchmarks still running after waiting ${Math.round(WAIT_BUDGET_MS / 60_000)} min in total; measuring anyway — numbers will be noisy`);
      waitLeftMs = 0;
      return;
    }
    if (cpuToo) {
      const until = Math.min(Date.now() + CPU_QUIET_MAX_MS, t + waitLeftMs);
      let busy = await backgroundCpuBusyPercent(500);
      if (busy > NOISY_BACKGROUND_PERCENT) {
        log(`${TAG}: background CPU ${Math.round(busy)}% before the run; waiting up to ${Math.round(CPU_QUIET_MAX_MS / 1000)} s for it to settle`);
        while (busy > NOISY_BACKGROUND_PERCENT && Date.now() < until && !isShuttingDown()) {
          await new Promise((r) => setTimeout(r, 1500));
          busy = await backgroundCpuBusyPercent(500);
        }
        log(`${TAG}: background CPU now ${Math.round(busy)}%${busy > NOISY_BACKGROUND_PERCENT ? ' (still busy; measuring anyway)' : ''}`);
      }
    }
    waitLeftMs -= Date.now() - t;
  };
  await quietGate(20_000, false);
  if (isShuttingDown()) return;
  const startedAt = new Date();
  log(
    `${TAG}: ${generator.version}; ${options.connections} connections, ${options.threads} thread(s), ` +
      `${options.warmupSeconds}s warm-up + ${options.durationSeconds}s measured x ${options.rounds} round(s) x ${MODES.join('/')} x ${options.endpoints.map((e) => e.name).join('/')}; ` +
      `${options.payloadBytes}-byte payloads; ${availableParallelism()} CPU(s); budget ${budget}s`,
  );

  const tasksetBin = pinDriver(options.pin, log, TAG);

  const upstream = await startNodeServer('upstream', './telemetry-upstream.ts', ['--payload', String(options.payloadBytes)], 15_000);
  if (!upstream.ok) throw new Error(`upstream failed to start: ${upstream.reason}`);
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
      if (status !== 200 || bodyBytes === 0) throw new Error(`probe GET ${ep.path} (${mode}): expected 200 with a body, got ${status} with ${bodyBytes} bytes`);
      sizes.push(bodyBytes);
    }
    if (sizes.some((n) => n !== sizes[0])) throw new Error(`probe GET ${ep.path}: body sizes differ between modes: ${sizes.join('/')}`);
    log(`${TAG}: probe ${ep.path}: 200, ${sizes[0]} bytes`);
  }

  const runs: Run[] = [];
  const discarded: Run[] = [];
  let retriesLeft = options.wait ? options.rounds * options.endpoints.length * MODES.length : 0;
  for (let round = 0; round < options.rounds; round++) {
    for (const [e, ep] of options.endpoints.entries()) {
      // Rotated every round and endpoint, so no mode always runs first (or on a warmer machine).
      const shift = (round + e) % MODES.length;
      const order: Mode[] = [...MODES.slice(shift), ...MODES.slice(0, shift)];
      for (const mode of order) {
        let m: Omit<Run, 'round' | 'endpoint' | 'mode'>;
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
            `errors ${load.errors}/${load.non2xx}; CPU busy ${Object.entries(m.perCpuBusyPercent).map(([c, v]) => `${c} ${Math.round(v)}%`).join(', ') || 'n/a'}; ` +
            `foreign ${m.foreignDuringPercent === undefined ? 'n/a' : `${m.foreignDuringPercent.toFixed(0)}%`}` +
            (m.sink === undefined ? '' : `; sink +${fmtInt(m.sink.spans)} spans in ${m.sink.traceRequests} requests, +${m.sink.metricRequests} metric pushes`),
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

  // ---- report ----
  const out: string[] = [];
  out.push(
    '',
    `OTLP throughput — off vs OTLP gRPC metrics+traces at trace_sample_rate 1 and 0.1; ${options.connections} connections, ` +
      `${options.warmupSeconds}s warm-up + ${options.durationSeconds}s x ${options.rounds} round(s), ${generator.name}, ${options.payloadBytes}-byte payloads, ` +
      `${tasksetBin === undefined ? 'not pinned' : 'gateways pinned to CPU 1'}`,
    '',
  );
  const header = ['endpoint', 'mode', 'req/s (median)', 'per round', 'p50 ms', 'p99 ms', 'errors/non-2xx', 'gateway CPU', 'foreign CPU', 'vs off', 'target'];
  const rows: string[][] = [];
  const summary: Record<string, Record<string, unknown>> = {};
  const verdicts: { label: string; ratio: number; target: number; ok: boolean }[] = [];
  for (const ep of options.endpoints) {
    const of = (mode: Mode): Run[] => runs.filter((r) => r.endpoint === ep.name && r.mode === mode);
    const med = (mode: Mode): LoadResult => medianRound(of(mode).map((r) => r.result.load));
    const off = med('off');
    const perMode: Record<string, unknown> = {};
    for (const mode of MODES) {
      const m = med(mode);
      const ratio = m.requestsPerSecond / off.requestsPerSecond;
      const paired = of(mode).map((r) => r.result.load.requestsPerSecond / (of('off').find((o) => o.round === r.round)?.result.load.requestsPerSecond ?? NaN));
      const pairedMedian = [...paired].sort((a, b) => a - b)[Math.floor((paired.length - 1) / 2)] ?? NaN;
      const errors = of(mode).reduce((n, r) => n + r.result.load.errors, 0);
      const non2xx = of(mode).reduce((n, r) => n + r.result.load.non2xx, 0);
      const target = mode === 'off' ? undefined : TARGETS[mode];
      if (target !== undefined) verdicts.push({ label: `${mode}/off ${ep.path}`, ratio, target, ok: ratio >= target });
      rows.push([
        mode === 'off' ? ep.path : '',
        mode,
        fmtInt(m.requestsPerSecond),
        of(mode).map((r) => fmtInt(r.result.load.requestsPerSecond)).join(' / '),
        m.latencyMs.p50.toFixed(2),
        m.latencyMs.p99.toFixed(2),
        `${errors}/${non2xx}`,
        of(mode).map((r) => (r.perCpuBusyPercent['cpu1'] === undefined ? 'n/a' : `${Math.round(r.perCpuBusyPercent['cpu1'])}%`)).join(' / '),
        of(mode).map((r) => (r.foreignDuringPercent === undefined ? 'n/a' : `${Math.round(r.foreignDuringPercent)}%`)).join(' / '),
        mode === 'off' ? '' : `${ratio.toFixed(3)} (paired ${pairedMedian.toFixed(3)})`,
        target === undefined ? '' : `>= ${target.toFixed(2)} ${ratio >= target ? 'ok' : 'MISSED'}`,
      ]);
      perMode[mode] = {
        rps: m.requestsPerSecond,
        p50Ms: m.latencyMs.p50,
        p99Ms: m.latencyMs.p99,
        ratioVsOff: ratio,
        pairedRatios: paired,
        pairedMedian,
        target,
        meetsTarget: target === undefined ? undefined : ratio >= target,
      };
    }
    summary[ep.name] = perMode;
  }
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const fmt = (cols: readonly string[]): string =>
    cols
      .map((s, c) => (c <= 1 || c >= cols.length - 2 ? s.padEnd(widths[c] ?? 0) : s.padStart(widths[c] ?? 0)))
      .join('  ')
      .trimEnd();
  out.push(fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt), '');
  if (tasksetBin !== undefined) out.push('gateway CPU = busy share of CPU 1 (the gateways\' core) during each measured run; ~100% means the gateway was the bottleneck.', '');
  for (const v of verdicts) {
    out.push(`ratio ${v.label}: ${v.ratio.toFixed(3)}  (${((1 - v.ratio) * 100).toFixed(1)}% throughput cost; target >= ${v.target.toFixed(2)}: ${v.ok ? 'met' : 'MISSED'})`);
  }

  // Export evidence: what each sink received, against what its gateway says it did.
  out.push('', 'OTLP export (whole run, incl. warm-ups, probes and idle time; counted after a 6 s drain):');
  const checks: { label: string; ok: boolean; detail: string }[] = [];
  const exportSummary: Record<string, unknown> = {};
  for (const mode of OTLP_MODES) {
    const c = finalCounts.get(mode) as OtlpSinkCounts;
    const text = scrapes.get(mode) as string;
    const exported = sumSamples(text, 'tollgate_telemetry_spans_total', ['outcome="exported"']).sum;
    const dropped = sumSamples(text, 'tollgate_telemetry_spans_total', ['outcome="dropped"']).sum;
    const failed = sumSamples(text, 'tollgate_telemetry_spans_total', ['outcome="failed"']).sum;
    const pushesOk = sumSamples(text, 'tollgate_telemetry_metric_pushes_total', ['outcome="exported"']).sum;
    const pushesFailed = sumSamples(text, 'tollgate_telemetry_metric_pushes_total', ['outcome="failed"']).sum;
    const pushesSkipped = sumSamples(text, 'tollgate_telemetry_metric_pushes_total', ['outcome="skipped"']).sum;
    const served = sumSamples(text, 'http_server_duration_count').sum;
    const generated = exported + dropped + failed;
    out.push(
      `  ${mode.padEnd(7)} sink: ${fmtInt(c.traces.requests)} trace Export requests (${fmtInt(c.traces.items)} spans, ${(c.traces.bytes / 1024 / 1024).toFixed(1)} MiB), ` +
        `${fmtInt(c.metrics.requests)} metric Export requests (${fmtInt(c.metrics.items)} metrics, ${(c.metrics.bytes / 1024 / 1024).toFixed(2)} MiB), malformed ${c.traces.malformed + c.metrics.malformed}`,
      `  ${''.padEnd(7)} gateway: ${fmtInt(served)} requests served; spans exported ${fmtInt(exported)}, dropped ${fmtInt(dropped)}, failed ${fmtInt(failed)} ` +
        `(${served > 0 ? (generated / served).toFixed(2) : 'n/a'} sampled spans/request); metric pushes exported ${fmtInt(pushesOk)}, failed ${fmtInt(pushesFailed)}, skipped ${fmtInt(pushesSkipped)}`,
    );
    exportSummary[mode] = { sink: c, gateway: { served, spansExported: exported, spansDropped: dropped, spansFailed: failed, pushesExported: pushesOk, pushesFailed, pushesSkipped } };
    checks.push({ label: `${mode}: sink received trace exports`, ok: c.traces.requests > 0 && c.traces.items > 0, detail: `${fmtInt(c.traces.requests)} requests, ${fmtInt(c.traces.items)} spans` });
    checks.push({ label: `${mode}: sink received metric exports`, ok: c.metrics.requests > 0 && c.metrics.items > 0, detail: `${fmtInt(c.metrics.requests)} requests` });
    checks.push({ label: `${mode}: every Export request parsed`, ok: c.traces.malformed + c.metrics.malformed === 0, detail: `${c.traces.malformed + c.metrics.malformed} malformed` });
    // The gateway counts a batch once its export call returns; after the drain the two should agree.
    checks.push({
      label: `${mode}: sink spans = gateway exported`,
      ok: c.traces.items === exported,
      detail: `${fmtInt(c.traces.items)} received vs ${fmtInt(exported)} exported`,
    });
  }
  const width = Math.max(...checks.map((c) => c.label.length));
  out.push('');
  for (const c of checks) out.push(`  ${c.ok ? 'ok ' : 'BAD'} ${c.label.padEnd(width)}  ${c.detail}`);

  if (discarded.length > 0) {
    out.push(
      '',
      `note: ${discarded.length} run(s) were measured again because other processes used the CPU during them ` +
        `(${discarded.map((r) => `${r.endpoint}/${r.mode} r${r.round + 1} ${Math.round(r.foreignDuringPercent ?? 0)}%`).join(', ')}); they are kept in the JSON as discardedRuns`,
    );
  }
  out.push(...noiseWarnings(runs));

  const file = await writeResultsFile(RESULTS_DIR, 'otlp-throughput', startedAt, 
      {
        benchmark: 'otlp-throughput',
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        options: { ...options, endpoints: options.endpoints.map((e) => e.name) },
        environment: {
          ...benchEnvironment(),
                    loadGenerator: generator.version,
          pinned: tasksetBin !== undefined,
        },
        targets: TARGETS,
        summary,
        export: exportSummary,
        runs,
        discardedRuns: discarded,
        checks,
      }
  );
  out.push('', `results written to ${file}`);
  process.stdout.write(`${out.join('\n')}\n`);
  if (checks.some((c) => !c.ok)) process.exitCode = 1;
  else if (options.strict && verdicts.some((v) => !v.ok)) process.exitCode = 2;
}

try {
  await main();
} catch (error) {
  process.stderr.write(`${TAG}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await runCleanup();
}
