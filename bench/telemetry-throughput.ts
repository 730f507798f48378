// Gateway throughput with telemetry off versus every metrics layer and flag
// on, in one run, against one shared upstream.
//
//   node --import tsx bench/telemetry-throughput.ts [--duration 4] [--warmup 1] [--rounds 3] [--connections 50]
//
// Two Tollgate processes (bin/tollgate.js run, built dist/) with the same two
// endpoints — GET /noop (output_encoding no-op, bytes streamed through) and
// GET /json (json decode + re-encode) — one without `telemetry/opentelemetry`,
// one with every layer on (global, proxy, backend stage, round trip, read
// payload, detailed connection), a Prometheus exporter with process_metrics
// and go_metrics on a free loopback port. Rounds alternate off/on (ABBA) per
// endpoint; medians and the on/off ratio are reported, and /metrics is
// scraped once at the end to check that the counts are real.
// `--modes off,on,layers` adds a third gateway with every layer on but no
// process/runtime collectors (process_metrics and go_metrics false), to split
// the cost between recording and the runtime collectors.
// See bench/TELEMETRY.md.

import { availableParallelism } from 'node:os';
import { tollgateBinArg, toolArg } from './lib/args.js';
import { medianRound, type ModeRun, type RoundResult } from './lib/bench-row.js';
import { isShuttingDown, runCleanup } from './lib/cleanup.js';
import { NOISY_BACKGROUND_PERCENT } from './lib/cpu-quiet.js';
import { armRun, log, parseFlags, runDriver, startUpstream, USAGE_TAIL } from './lib/driver.js';
import { startTreeForeignLoadMeter } from './lib/foreign-load.js';
import { getFreePort } from './lib/free-port.js';
import { noopAndJsonGateway, prometheusExporter } from './lib/gateway-config.js';
import { httpGet } from './lib/http-get.js';
import { selectLoadGenerator, type LoadToolChoice } from './lib/load-generator.js';
import type { LoadGenerator, LoadResult } from './lib/load-result.js';
import { idleBackgroundCpu, warmUp } from './lib/measure.js';
import { noiseWarnings } from './lib/noise-report.js';
import { getText, pinDriver, sumSamples } from './lib/otlp-bench-util.js';
import { writeRunResults } from './lib/results-file.js';
import { LOAD_RUN_FLAGS, loadRunOptions, type LoadRunOptions } from './lib/run-options.js';
import { median as medianOf } from './lib/stats.js';
import { createRunTempDir } from './lib/temp-dir.js';
import { checkLines, textTable } from './lib/text-table.js';
import { startTollgateWithConfig } from './lib/tollgate-with-config.js';

const TAG = 'telemetry-throughput';

const USAGE = `Usage: node --import tsx bench/telemetry-throughput.ts [options]

  --duration <s>        measured seconds per run                  (default 4)
  --warmup <s>          unmeasured warm-up seconds before each    (default 1)
  --rounds <n>          off/on pairs per endpoint, alternated     (default 3)
  --connections <n>     concurrent client connections             (default 50)
  --threads <n>         wrk threads                               (default 1)
  --payload <bytes>     upstream body size (/payload and /json)   (default 1024)
  --timeout <s>         per-request timeout, counted as error     (default 5)
  --tool <name>         auto | wrk | autocannon                   (default auto)
  --pin                 pin CPUs with taskset: the gateways on CPU 1; driver,
                        upstream and wrk on CPU 0 (default: not pinned)
  --modes <list>        gateways to compare, off first            (default off,on)
                        off: no telemetry; on: every layer + process_metrics + go_metrics;
                        layers: every layer, no process/runtime collectors
${USAGE_TAIL}`;

interface Options extends LoadRunOptions {
  readonly tool: LoadToolChoice;
  readonly tollgateBin: string;
  readonly modes: readonly Mode[];
  readonly pin: boolean;
}

function parseOptions(argv: readonly string[]): Options | undefined {
  const values = parseFlags(argv, [...LOAD_RUN_FLAGS, 'tool', 'modes', 'tollgate-bin'], ['pin']);
  if (values === undefined) return undefined;
  const tool = toolArg(values.tool);
  const modes = (values.modes ?? 'off,on').split(',').map((m) => m.trim());
  const bad = modes.filter((m) => !(MODES as readonly string[]).includes(m));
  if (bad.length > 0 || modes[0] !== 'off' || modes.length < 2 || new Set(modes).size !== modes.length) {
    throw new Error(
      `--modes must start with off and list distinct modes among ${MODES.join(', ')}, got "${values.modes ?? ''}"`,
    );
  }
  return {
    modes: modes as Mode[],
    pin: values.pin === true,
    ...loadRunOptions(values, { duration: 4, warmup: 1, rounds: 3 }),
    tool,
    tollgateBin: tollgateBinArg(values['tollgate-bin']),
  };
}

const ENDPOINTS = [
  { name: 'noop', path: '/noop', description: 'GET /noop, output_encoding no-op -> upstream /payload' },
  { name: 'json', path: '/json', description: 'GET /json, output_encoding json -> upstream /json (decode + encode)' },
] as const;

const MODES = ['off', 'on', 'layers'] as const;
type Mode = (typeof MODES)[number];

function gatewayConfig(
  mode: Mode,
  port: number,
  upstreamPort: number,
  metricsPort: number,
): { port: number } & Record<string, unknown> {
  const allOn = { disable_stage: false, round_trip: true, read_payload: true, detailed_connection: true };
  const otel =
    mode === 'off'
      ? undefined
      : {
          service_name: 'tollgate-bench',
          exporters: { prometheus: [prometheusExporter('local', metricsPort, mode === 'on', mode === 'on')] },
          layers: {
            global: { disable_metrics: false, disable_traces: false, disable_propagation: false, report_headers: true },
            proxy: { disable_metrics: false, disable_traces: false, report_headers: true },
            backend: { metrics: allOn, traces: { ...allOn, report_headers: true } },
          },
        };
  return noopAndJsonGateway(`tollgate-bench-${mode}`, port, upstreamPort, otel);
}

type Run = ModeRun<Mode>;

async function measure(
  generator: LoadGenerator,
  options: Options,
  url: string,
): Promise<{ result: RoundResult; warmupRequests: number; foreignDuringPercent: number | undefined }> {
  const base = {
    url,
    connections: options.connections,
    threads: options.threads,
    timeoutSeconds: options.timeoutSeconds,
  };
  const busy = await idleBackgroundCpu();
  const warmupRequests = await warmUp(generator, base, options.warmupSeconds);
  const foreign = startTreeForeignLoadMeter();
  const load = await generator.run({ ...base, durationSeconds: options.durationSeconds });
  return { result: { load, backgroundCpuBusyPercent: busy }, warmupRequests, foreignDuringPercent: foreign() };
}

async function main(options: Options): Promise<void> {
  const perRun = options.warmupSeconds + options.durationSeconds + 2;
  const budget = 60 + options.rounds * ENDPOINTS.length * options.modes.length * perRun;
  armRun(budget);
  const startedAt = new Date();
  const tempDir = createRunTempDir('tollgate-telemetry-bench-');
  const generator = selectLoadGenerator(options.tool);
  log(
    `${TAG}: ${generator.version}; ${options.connections} connections, ${options.threads} thread(s), ` +
      `${options.warmupSeconds}s warm-up + ${options.durationSeconds}s measured x ${options.rounds} round(s) x ${options.modes.join('/')} x ${ENDPOINTS.length} endpoints; ` +
      `${options.payloadBytes}-byte payloads; ${availableParallelism()} CPU(s); budget ${budget}s`,
  );

  // --pin: the gateway under test gets CPU 1 to itself; this driver, and so
  // the upstream and wrk it spawns (affinity is inherited), share CPU 0. Off
  // by default: on the 2-core dev VM it did not reduce the run-to-run spread
  // (CPU 0 saturates at the higher rates) and it makes the absolute req/s
  // incomparable with proxy.ts.
  const tasksetBin = pinDriver(
    options.pin,
    log,
    TAG,
    'gateways on CPU 1; driver, upstream and wrk on CPU 0',
    undefined,
  );

  const upstream = await startUpstream('./telemetry-upstream.ts', options.payloadBytes);
  log(`${TAG}: upstream on 127.0.0.1:${upstream.port}`);

  // Ports picked one after another (each probe socket is closed before the next pick).
  const metricsPorts = new Map<Mode, number>();
  const origins = new Map<Mode, string>();
  for (const mode of options.modes) {
    if (isShuttingDown()) return;
    const metricsPort = await getFreePort();
    metricsPorts.set(mode, metricsPort);
    const port = await getFreePort();
    const started = await startTollgateWithConfig({
      name: `tollgate-telemetry-${mode}`,
      config: gatewayConfig(mode, port, upstream.port, metricsPort),
      bin: options.tollgateBin,
      tempDir,
      leashSeconds: budget + 30,
      taskset: tasksetBin === undefined ? undefined : { bin: tasksetBin, cpus: '1' },
    });
    if (!started.ok) throw new Error(started.reason);
    origins.set(mode, started.origin);
    log(
      `${TAG}: telemetry ${mode}: ready at ${started.origin}${mode !== 'off' ? ` (metrics on 127.0.0.1:${metricsPort})` : ''}`,
    );
  }
  const originOf = (mode: Mode): string => origins.get(mode) as string;

  // Correctness probe: 200, a body, and the same body size with telemetry off and on.
  for (const ep of ENDPOINTS) {
    const sizes: number[] = [];
    for (const mode of options.modes) {
      const { status, bodyBytes } = await httpGet(`${originOf(mode)}${ep.path}`, 5000);
      if (status !== 200 || bodyBytes === 0)
        throw new Error(
          `probe GET ${ep.path} (telemetry ${mode}): expected 200 with a body, got ${status} with ${bodyBytes} bytes`,
        );
      sizes.push(bodyBytes);
    }
    if (sizes.some((n) => n !== sizes[0]))
      throw new Error(
        `probe GET ${ep.path}: body sizes differ between modes ${options.modes.join('/')}: ${sizes.join('/')}`,
      );
    log(`${TAG}: probe ${ep.path}: 200, ${sizes[0]} bytes`);
  }

  const runs: Run[] = [];
  for (let round = 0; round < options.rounds; round++) {
    for (const [e, ep] of ENDPOINTS.entries()) {
      // Rotated every round and endpoint (with two modes: off,on then on,off — ABBA), so no mode always runs on a warmer machine.
      const shift = (round + e) % options.modes.length;
      const order: Mode[] = [...options.modes.slice(shift), ...options.modes.slice(0, shift)];
      for (const mode of order) {
        if (isShuttingDown()) return;
        log(`${TAG}: round ${round + 1}/${options.rounds}: ${ep.path} telemetry ${mode}...`);
        const { result, warmupRequests, foreignDuringPercent } = await measure(
          generator,
          options,
          `${originOf(mode)}${ep.path}`,
        );
        runs.push({ round, endpoint: ep.name, mode, result, warmupRequests, foreignDuringPercent });
        log(
          `${TAG}:   ${Math.round(result.load.requestsPerSecond)} req/s, p99 ${result.load.latencyMs.p99.toFixed(2)} ms, ` +
            `errors ${result.load.errors}/${result.load.non2xx} (background CPU before: ${result.backgroundCpuBusyPercent.toFixed(0)}%, ` +
            `foreign CPU during: ${foreignDuringPercent === undefined ? 'n/a' : `${foreignDuringPercent.toFixed(0)}%`})`,
        );
      }
    }
  }

  // Scrape once, before stopping anything.
  const onMode: Mode = options.modes.includes('on') ? 'on' : (options.modes[1] as Mode);
  const metricsPort = metricsPorts.get(onMode) as number;
  const scrape = await getText(`http://127.0.0.1:${metricsPort}/metrics`);
  await runCleanup();

  const out: string[] = [];
  out.push(
    '',
    `Telemetry throughput — ${options.modes.join(' vs ')}; ${options.connections} connections, ${options.durationSeconds}s x ${options.rounds} round(s), ${generator.name}, ` +
      `${options.payloadBytes}-byte payloads, ${tasksetBin === undefined ? 'not pinned' : 'gateway pinned to CPU 1'}`,
    '',
  );
  const header = [
    'endpoint',
    'telemetry',
    'req/s (median)',
    'per round',
    'foreign CPU during',
    'p50 ms',
    'p99 ms',
    'errors/non-2xx',
    'vs off',
  ];
  const rows: string[][] = [];
  const summary: Record<string, unknown> = {};
  for (const ep of ENDPOINTS) {
    const of = (mode: Mode): Run[] => runs.filter((r) => r.endpoint === ep.name && r.mode === mode);
    const med = (mode: Mode): LoadResult => medianRound(of(mode).map((r) => r.result.load));
    const off = med('off');
    const perMode: Record<string, unknown> = {};
    for (const mode of options.modes) {
      const m = med(mode);
      const ratio = m.requestsPerSecond / off.requestsPerSecond;
      // Paired per-round ratios are robust to slow drift across the run.
      const paired = of(mode).map(
        (r) =>
          r.result.load.requestsPerSecond /
          (of('off').find((o) => o.round === r.round)?.result.load.requestsPerSecond ?? NaN),
      );
      const pairedMedian = medianOf(paired);
      // Rounds where neither run of the pair saw foreign CPU: on a shared machine, the figure to trust.
      const quiet = (r: Run | undefined): boolean =>
        r !== undefined && r.foreignDuringPercent !== undefined && r.foreignDuringPercent <= NOISY_BACKGROUND_PERCENT;
      const cleanPaired = of(mode).flatMap((r) => {
        const o = of('off').find((x) => x.round === r.round);
        return quiet(r) && quiet(o) && o !== undefined
          ? [r.result.load.requestsPerSecond / o.result.load.requestsPerSecond]
          : [];
      });
      const cleanMedian = cleanPaired.length === 0 ? NaN : medianOf(cleanPaired);
      const errors = of(mode).reduce((n, r) => n + r.result.load.errors, 0);
      const non2xx = of(mode).reduce((n, r) => n + r.result.load.non2xx, 0);
      rows.push([
        mode === 'off' ? ep.path : '',
        mode,
        Math.round(m.requestsPerSecond).toLocaleString('en-US'),
        of(mode)
          .map((r) => Math.round(r.result.load.requestsPerSecond).toLocaleString('en-US'))
          .join(' / '),
        of(mode)
          .map((r) => (r.foreignDuringPercent === undefined ? 'n/a' : `${Math.round(r.foreignDuringPercent)}%`))
          .join(' / '),
        m.latencyMs.p50.toFixed(2),
        m.latencyMs.p99.toFixed(2),
        `${errors}/${non2xx}`,
        mode === 'off'
          ? ''
          : `${ratio.toFixed(3)} (paired median ${pairedMedian.toFixed(3)}; quiet pairs ${cleanPaired.length}/${paired.length}` +
            `${cleanPaired.length === 0 ? '' : `: ${cleanMedian.toFixed(3)}`})`,
      ]);
      perMode[mode] = {
        rps: m.requestsPerSecond,
        ratioVsOff: ratio,
        pairedRatios: paired,
        pairedMedian,
        quietPairedRatios: cleanPaired,
        quietPairedMedian: cleanMedian,
      };
    }
    summary[ep.name] = perMode;
  }
  out.push(...textTable(header, rows, (c, cols) => c <= 1 || c === cols - 1), '');
  for (const ep of ENDPOINTS) {
    for (const mode of options.modes.slice(1)) {
      const {
        ratioVsOff: ratio,
        quietPairedMedian,
        quietPairedRatios,
      } = (
        summary[ep.name] as Record<
          string,
          { ratioVsOff: number; quietPairedMedian: number; quietPairedRatios: number[] }
        >
      )[mode] as {
        ratioVsOff: number;
        quietPairedMedian: number;
        quietPairedRatios: number[];
      };
      out.push(
        `ratio ${mode}/off ${ep.path}: ${ratio.toFixed(3)}  (${((1 - ratio) * 100).toFixed(1)}% throughput cost; ` +
          `quiet pairs: ${quietPairedRatios.length === 0 ? 'none' : `${quietPairedMedian.toFixed(3)} over ${quietPairedRatios.length}`})`,
      );
    }
  }

  // /metrics cross-check: every request the "on" gateway served must be counted.
  out.push(
    '',
    `/metrics scrape of the "${onMode}" gateway (127.0.0.1:${metricsPort}): HTTP ${scrape.status}, ${Buffer.byteLength(scrape.text).toLocaleString('en-US')} bytes, ${scrape.text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length} samples`,
  );
  const checks: { label: string; ok: boolean; detail: string }[] = [];
  for (const ep of ENDPOINTS) {
    const sent =
      runs
        .filter((r) => r.endpoint === ep.name && r.mode === onMode)
        .reduce((n, r) => n + r.result.load.requests + r.warmupRequests, 0) + 1;
    const route = `http_route="${ep.path}"`;
    const server = sumSamples(scrape.text, 'http_server_duration_count', [route]);
    const proxy = sumSamples(scrape.text, 'krakend_proxy_duration_count', [route]);
    const stage = sumSamples(scrape.text, 'krakend_backend_duration_count', [`krakend_endpoint_route="${ep.path}"`]);
    const client = sumSamples(scrape.text, 'http_client_duration_count', [`krakend_endpoint_route="${ep.path}"`]);
    const started = sumSamples(scrape.text, 'http_client_request_started_count_total', [
      `krakend_endpoint_route="${ep.path}"`,
    ]);
    const read = sumSamples(scrape.text, 'http_client_response_read_size_hist_count', [
      `krakend_endpoint_route="${ep.path}"`,
    ]);
    const getConn = sumSamples(scrape.text, 'http_client_request_get_conn_duration_count', [
      `krakend_endpoint_route="${ep.path}"`,
    ]);
    // wrk counts completed responses; requests in flight when a run stops are served (and counted) too, so allow a little more.
    const slack = options.connections * 2 * options.rounds * 2;
    for (const [label, v] of [
      ['http_server_duration_count', server],
      ['krakend_proxy_duration_count', proxy],
      ['krakend_backend_duration_count', stage],
      ['http_client_duration_count', client],
      ['http_client_request_started_count_total', started],
      ['http_client_response_read_size_hist_count', read],
      ['http_client_request_get_conn_duration_count', getConn],
    ] as const) {
      const ok = v.sum >= sent && v.sum <= sent + slack;
      checks.push({
        label: `${ep.path} ${label}`,
        ok,
        detail: `${v.sum.toLocaleString('en-US')} in ${v.series} series (requests sent incl. warm-ups and probe: ${sent.toLocaleString('en-US')})`,
      });
    }
  }
  if (onMode === 'on') {
    for (const family of ['process_cpu_seconds_total', 'process_resident_memory_bytes']) {
      const v = sumSamples(scrape.text, family);
      checks.push({ label: family, ok: v.series > 0 && v.sum > 0, detail: v.series > 0 ? `= ${v.sum}` : 'missing' });
    }
    const nodejsFamilies = new Set(
      scrape.text
        .split('\n')
        .filter((l) => l.startsWith('nodejs_'))
        .map((l) => l.split(/[{ ]/)[0]),
    );
    checks.push({
      label: 'nodejs_* families (go_metrics)',
      ok: nodejsFamilies.size > 0,
      detail: `${nodejsFamilies.size} series names`,
    });
  }
  out.push(...checkLines(checks));

  out.push(...noiseWarnings(runs));

  const file = await writeRunResults(
    TAG,
    startedAt,
    options,
    { loadGenerator: generator.version },
    { summary, runs, checks },
  );
  out.push('', `results written to ${file}`);
  process.stdout.write(`${out.join('\n')}\n`);
  if (checks.some((c) => !c.ok)) process.exitCode = 1;
}

await runDriver(TAG, USAGE, parseOptions, main);
