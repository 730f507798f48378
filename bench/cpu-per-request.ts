// CPU time per request of the gateway's whole process tree, for Tollgate with
// telemetry off, with every metrics feature on, and with traces exported over
// OTLP/HTTP and OTLP/gRPC, next to the undici floor and nginx.
//
//   node --import tsx bench/cpu-per-request.ts [--rounds 5] [--duration 5] [--variants off,metrics] [--connections 50]
//
// Throughput ratios on a small shared machine move 15–30 % between rounds, so
// they cannot resolve a cost of a few percent. CPU time per request can: each
// gateway is loaded to saturation by wrk, the utime+stime of its process tree
// (leash wrapper, primary, cluster workers; lib/process-tree-cpu.ts) is read
// before the load and after it (plus a settle that lets the span batcher
// flush what the load produced), and divided by the requests wrk completed.
// Variants run interleaved, in an order rotated every round; the table gives
// the median over rounds and the ratios against telemetry off and against
// metrics only. The jwt-off/jwt-on pair gives the cost of an endpoint's JWT
// check (issue 21: at most 10 µs per request with a cached key). See
// bench/README.md.

import { intArg, toolArg, tollgateBinArg } from './lib/args.js';
import { isShuttingDown, runCleanup } from './lib/cleanup.js';
import { startCountingSink } from './lib/counting-sink.js';
import { checkTelemetry, type Check } from './lib/cpu-checks.js';
import {
  VARIANTS,
  baselineName,
  planVariants,
  startFloor,
  startNginx,
  startTollgate,
  withBearer,
  type GatewaySpec,
  type RunningGateway,
  type TelemetryPorts,
  type Variant,
} from './lib/cpu-gateways.js';
import { formatTable, ratio, summarize, type CpuRun, type SinkDelta } from './lib/cpu-report.js';
import { armRun, log, parseFlags, runDriver, sleep, startUpstream, USAGE_TAIL } from './lib/driver.js';
import { startTreeForeignLoadMeter } from './lib/foreign-load.js';
import { httpGet } from './lib/http-get.js';
import { writeBenchJwt } from './lib/jwt-token.js';
import { selectLoadGenerator, type LoadToolChoice } from './lib/load-generator.js';
import type { LoadGenerator } from './lib/load-result.js';
import { idleBackgroundCpu, warmUp } from './lib/measure.js';
import type { OtlpSink, OtlpSinkCounts } from './lib/otlp-sink.js';
import { treeCpu, TREE_CPU_RESOLUTION_MS } from './lib/process-tree-cpu.js';
import { writeRunResults } from './lib/results-file.js';
import { LOAD_RUN_FLAGS, loadRunOptions, type LoadRunOptions } from './lib/run-options.js';
import { median } from './lib/stats.js';
import { createRunTempDir } from './lib/temp-dir.js';
import { which } from './lib/which.js';
import { rateCappedWrk } from './lib/wrk-rate.js';

const TAG = 'cpu-per-request';
/** Issue 21: what an endpoint's JWT check may add per request, with its key cached. */
const JWT_TARGET_US = 10;

const USAGE = `Usage: node --import tsx bench/cpu-per-request.ts [options]

  --rounds <n>          rounds; each runs every variant once, rotated  (default 5)
  --duration <s>        measured seconds per variant per round         (default 5)
  --warmup <s>          unmeasured load before each measured run       (default 1)
  --initial-warmup <s>  unmeasured load per variant before round 1, so V8's
                        compiler threads are not charged to round 1     (default 3)
  --connections <n>     concurrent wrk connections                     (default 50)
  --rate <req/s>        cap wrk at about this rate (Lua delay per connection) instead
                        of saturating; pick it below the slowest variant's req/s (default 0:
                        saturation)
  --threads <n>         wrk threads                                    (default 1)
  --payload <bytes>     upstream body size (/payload and /json)        (default 1024)
  --variants <list>     a subset of: ${VARIANTS.map((v) => v.name).join(', ')}
  --batch-delay <ms>    OTEL_BSP_SCHEDULE_DELAY of the gateways; every run waits this
                        + 500 ms after the load so the spans it made are exported
                        inside its window                              (default 500)
  --workers <n>         Tollgate root \`workers\` (default: Tollgate's own default)
  --timeout <s>         per-request timeout, counted as error          (default 5)
  --tool <name>         auto | wrk | autocannon                        (default auto)
  --baseline-bin <path> a second Tollgate build (its bin/tollgate.js): every Tollgate variant
                        also runs on it, as <variant>@base, in the same rounds, and the
                        report adds this build ÷ baseline per variant
${USAGE_TAIL}`;

interface Options extends LoadRunOptions {
  readonly initialWarmupSeconds: number;
  /** 0 = saturation. */
  readonly rate: number;
  readonly variants: readonly Variant[];
  readonly gateways: readonly GatewaySpec[];
  readonly baselineBin: string | undefined;
  readonly batchDelayMs: number;
  readonly workers: number | undefined;
  readonly tool: LoadToolChoice;
  readonly tollgateBin: string;
}

function parseOptions(argv: readonly string[]): Options | undefined {
  const values = parseFlags(argv, [
    ...LOAD_RUN_FLAGS,
    'initial-warmup',
    'rate',
    'variants',
    'batch-delay',
    'workers',
    'tool',
    'tollgate-bin',
    'baseline-bin',
  ]);
  if (values === undefined) return undefined;
  const names = (values.variants ?? VARIANTS.map((v) => v.name).join(','))
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  const unknown = names.filter((n) => !VARIANTS.some((v) => v.name === n));
  if (names.length === 0 || unknown.length > 0)
    throw new Error(
      `--variants: unknown ${unknown.join(', ') || '(empty list)'}; choose among ${VARIANTS.map((v) => v.name).join(', ')}`,
    );
  const baselineBin = values['baseline-bin'] === undefined ? undefined : tollgateBinArg(values['baseline-bin']);
  const planned = planVariants(
    VARIANTS.filter((v) => names.includes(v.name)),
    baselineBin,
  );
  return {
    ...loadRunOptions(values, { duration: 5, warmup: 1, rounds: 5 }),
    initialWarmupSeconds: intArg('initial-warmup', values['initial-warmup'], 3, 0),
    rate: intArg('rate', values.rate, 0, 0),
    ...planned,
    baselineBin,
    batchDelayMs: intArg('batch-delay', values['batch-delay'], 500),
    workers: values.workers === undefined ? undefined : intArg('workers', values.workers, 1),
    tool: toolArg(values.tool),
    tollgateBin: tollgateBinArg(values['tollgate-bin']),
  };
}

interface Gateway extends RunningGateway {
  readonly spec: GatewaySpec;
  readonly ports: TelemetryPorts | undefined;
  readonly sink: OtlpSink | undefined;
  /** Requests wrk completed against it (warm-ups and measured runs) plus probes, for the /metrics check. */
  served: number;
}

function sinkDelta(a: OtlpSinkCounts | undefined, b: OtlpSinkCounts | undefined): SinkDelta | undefined {
  if (a === undefined || b === undefined) return undefined;
  return {
    exports: b.traces.requests - a.traces.requests,
    spans: b.traces.items - a.traces.items,
    bytes: b.traces.bytes - a.traces.bytes,
    malformed: b.traces.malformed - a.traces.malformed,
  };
}

/** One measured run: warm-up, settle, then CPU of the tree over (load + settle) ÷ completed requests. */
async function measure(
  generator: LoadGenerator,
  options: Options,
  variant: Variant,
  gw: Gateway,
  round: number,
): Promise<CpuRun> {
  const base = {
    url: `${gw.origin}${variant.path}`,
    connections: options.connections,
    threads: options.threads,
    timeoutSeconds: options.timeoutSeconds,
    headers: variant.headers,
  };
  const settleMs = options.batchDelayMs + 500;
  const pid = gw.child.process.pid ?? -1;
  const busy = await idleBackgroundCpu();
  if (options.warmupSeconds > 0) {
    gw.served += await warmUp(generator, base, options.warmupSeconds);
    await sleep(settleMs);
  }
  const sink0 = await gw.sink?.counts();
  const cpu0 = treeCpu(pid);
  const foreign = startTreeForeignLoadMeter();
  const load = await generator.run({ ...base, durationSeconds: options.durationSeconds });
  // The span batcher exports at most batch-delay after the last request: wait for it so the spans are charged to this run.
  await sleep(settleMs);
  const cpu1 = treeCpu(pid);
  const foreignDuringPercent = foreign();
  const sink1 = await gw.sink?.counts();
  if (cpu0 === undefined || cpu1 === undefined)
    throw new Error(`${gw.spec.name} (pid ${pid}) is gone: ${gw.child.stderrTail().slice(-400)}`);
  gw.served += load.requests;
  const cpuMs = cpu1.ms - cpu0.ms;
  return {
    round,
    variant: variant.name,
    requests: load.requests,
    requestsPerSecond: load.requestsPerSecond,
    errors: load.errors,
    non2xx: load.non2xx,
    p99Ms: load.latencyMs.p99,
    cpuMs,
    usPerRequest: load.requests === 0 ? NaN : (cpuMs * 1000) / load.requests,
    processes: cpu1.processes,
    backgroundCpuBusyPercent: busy,
    foreignDuringPercent,
    sink: sinkDelta(sink0, sink1),
  };
}

async function startGateway(
  spec: GatewaySpec,
  options: Options,
  ctx: { tempDir: string; upstreamPort: number; leashSeconds: number; jwksPath: string | undefined },
): Promise<Gateway | string> {
  const plain = { ports: undefined, sink: undefined, served: 0, spec };
  if (spec.kind === 'floor') {
    const s = await startFloor(`http://127.0.0.1:${ctx.upstreamPort}`);
    return s.ok ? { ...s, ...plain } : s.reason;
  }
  if (spec.kind === 'nginx') {
    const s = await startNginx(ctx.tempDir, ctx.upstreamPort, ctx.leashSeconds);
    return s.ok ? { ...s, ...plain } : s.reason;
  }
  const t = spec.telemetry;
  const sinkStart = t?.kind === 'traces' ? await startCountingSink(`sink-${spec.name}`, t.transport) : undefined;
  if (sinkStart !== undefined && !sinkStart.ok) return `sink: ${sinkStart.reason}`;
  const s = await startTollgate(spec, {
    bin: spec.bin ?? options.tollgateBin,
    tempDir: ctx.tempDir,
    upstreamPort: ctx.upstreamPort,
    sinkPort: sinkStart?.port ?? 0,
    workers: options.workers,
    leashSeconds: ctx.leashSeconds,
    jwksPath: ctx.jwksPath,
  });
  if (!s.ok) return s.reason;
  return { ...s, spec, ports: t === undefined || t.kind === 'off' ? undefined : s.ports, sink: sinkStart, served: 0 };
}

async function main(options: Options): Promise<void> {
  const perRun =
    0.25 + 0.3 + options.warmupSeconds + options.durationSeconds + (2 * (options.batchDelayMs + 500)) / 1000 + 1;
  const budget = Math.ceil(
    90 +
      options.variants.length * (options.initialWarmupSeconds + 1) +
      options.rounds * options.variants.length * perRun * 1.2,
  );
  armRun(budget);
  const startedAt = new Date();
  const tempDir = createRunTempDir('tollgate-cpu-bench-');
  const wrkBin = which('wrk');
  if (options.rate > 0 && wrkBin === undefined)
    throw new Error('--rate needs wrk on PATH (its Lua delay() caps the rate)');
  const generator =
    options.rate > 0 && wrkBin !== undefined
      ? await rateCappedWrk(wrkBin, tempDir, options.connections, options.rate)
      : selectLoadGenerator(options.tool);
  // Inherited by the gateways (lib/tollgate-with-config.ts spreads process.env); see --batch-delay.
  process.env['OTEL_BSP_SCHEDULE_DELAY'] = String(options.batchDelayMs);
  log(
    `${TAG}: ${generator.version}; ${options.connections} connections; ${options.warmupSeconds}s warm-up + ${options.durationSeconds}s measured ` +
      `x ${options.rounds} round(s) x ${options.variants.length} variant(s); batch delay ${options.batchDelayMs} ms; budget ${budget}s`,
  );

  const upstream = await startUpstream('./telemetry-upstream.ts', options.payloadBytes);
  // One token for the whole run, valid well past its end: clients reuse a token until it expires.
  const jwt = options.gateways.some((g) => g.jwt === true) ? await writeBenchJwt(tempDir, budget + 3600) : undefined;
  const planned = jwt === undefined ? options.variants : withBearer(options.variants, options.gateways, jwt.token);
  const ctx = { tempDir, upstreamPort: upstream.port, leashSeconds: budget + 30, jwksPath: jwt?.jwksPath };

  const gateways = new Map<string, Gateway>();
  const unavailable = new Map<string, string>();
  for (const spec of options.gateways) {
    if (isShuttingDown()) return;
    const started = await startGateway(spec, options, ctx);
    if (typeof started === 'string') {
      // nginx is optional: its row says why it is missing. A Tollgate or floor that fails is a broken bench.
      if (spec.kind !== 'nginx') throw new Error(`${spec.name} failed to start: ${started}`);
      unavailable.set(spec.name, started);
      log(`${TAG}: ${spec.name} unavailable: ${started}`);
      continue;
    }
    gateways.set(spec.name, started);
    log(
      `${TAG}: ${spec.name} ready at ${started.origin} (pid ${started.child.process.pid ?? '?'})${started.sink !== undefined ? `, sink on 127.0.0.1:${started.sink.port}` : ''}`,
    );
  }
  const variants = planned.filter((v) => gateways.has(v.gateway));

  // Correctness probe: 200 and a body; the no-op paths must carry exactly the upstream's payload.
  // A JWT-checked path must also refuse a request without its token, or the check is not on.
  for (const v of variants) {
    const gw = gateways.get(v.gateway) as Gateway;
    if (v.authRequired === true) {
      const refused = await httpGet(`${gw.origin}${v.path}`, 5000);
      gw.served++;
      if (refused.status !== 401)
        throw new Error(`probe ${v.name} GET ${v.path} without a token: expected 401, got ${refused.status}`);
    }
    const { status, bodyBytes } = await httpGet(`${gw.origin}${v.path}`, 5000, v.headers);
    gw.served++;
    const exact = v.path === '/merge' ? bodyBytes > 0 : bodyBytes === options.payloadBytes;
    if (status !== 200 || !exact)
      throw new Error(
        `probe ${v.name} GET ${v.path}: expected 200 with ${v.path === '/merge' ? 'a body' : `${options.payloadBytes} bytes`}, got ${status} with ${bodyBytes} bytes`,
      );
  }

  // The first seconds of load on a fresh process are mostly JIT compilation (on V8's own threads, counted in the tree).
  for (const v of variants) {
    if (isShuttingDown() || options.initialWarmupSeconds === 0) break;
    const gw = gateways.get(v.gateway) as Gateway;
    log(`${TAG}: initial warm-up ${v.name} (${options.initialWarmupSeconds}s)`);
    gw.served += (
      await generator.run({
        url: `${gw.origin}${v.path}`,
        connections: options.connections,
        threads: options.threads,
        timeoutSeconds: options.timeoutSeconds,
        headers: v.headers,
        durationSeconds: options.initialWarmupSeconds,
      })
    ).requests;
  }

  const runs: CpuRun[] = [];
  for (let round = 0; round < options.rounds; round++) {
    // Rotated every round, so no variant always runs first (or right after a heavy one).
    const shift = round % variants.length;
    for (const v of [...variants.slice(shift), ...variants.slice(0, shift)]) {
      if (isShuttingDown()) return;
      const run = await measure(generator, options, v, gateways.get(v.gateway) as Gateway, round);
      runs.push(run);
      log(
        `${TAG}: round ${round + 1}/${options.rounds} ${v.name}: ${run.requests} requests, ${run.cpuMs.toFixed(0)} ms CPU, ${run.usPerRequest.toFixed(1)} µs/req` +
          `${run.sink !== undefined ? `, sink +${run.sink.spans} spans in ${run.sink.exports} exports` : ''}; foreign CPU ${run.foreignDuringPercent === undefined ? 'n/a' : `${run.foreignDuringPercent}%`}`,
      );
    }
  }

  const checks: Check[] = [];
  for (const gw of gateways.values()) {
    if (gw.ports !== undefined)
      checks.push(
        ...(await checkTelemetry(
          gw.spec.name,
          gw.ports,
          gw.served,
          await gw.sink?.counts(),
          gw.spec.telemetry,
          gw.sink?.counts,
        )),
      );
  }
  await runCleanup();

  const summaries = summarize(variants, runs);
  const out = [
    '',
    `CPU per request — gateway process tree utime+stime ÷ wrk's completed requests; median of ${options.rounds} round(s) of ${options.durationSeconds}s, ` +
      `${options.connections} connections${options.rate > 0 ? ` capped at ~${options.rate} req/s` : ' (saturation)'}, ${options.payloadBytes}-byte payloads; resolution ${TREE_CPU_RESOLUTION_MS} ms per run`,
    '',
    ...formatTable(summaries),
    ...[...unavailable].map(([name, reason]) => `${name}: unavailable: ${reason}`),
    '',
    ...summaries
      .filter((s) => s.vsOff !== undefined)
      .map((s) => {
        const of = variants.find((v) => v.name === s.variant)?.vsOff ?? 'off';
        return (
          `${s.variant}: ${(((s.vsOff as number) - 1) * 100).toFixed(1)}% CPU per request vs ${of} (${signedUs(pairedDifferenceUs(runs, s.variant, of))} µs/request, median of per-round differences)` +
          `${s.vsMetrics !== undefined ? `, ${((s.vsMetrics - 1) * 100).toFixed(1)}% vs metrics` : ''}`
        );
      }),
    ...jwtLines(variants, runs),
    ...baselineLines(options, runs),
    '',
    ...checks.map((c) => `  ${c.ok ? 'ok ' : 'BAD'} ${c.label}  ${c.detail}`),
  ];
  const noisy = runs.filter((r) => (r.foreignDuringPercent ?? 0) > 10);
  if (noisy.length > 0)
    out.push(
      '',
      `note: ${noisy.length} of ${runs.length} runs shared the machine (foreign CPU > 10 %); their CPU per request is less reliable (a slower, contended gateway pays more per request); rerun on a quiet machine before quoting`,
    );
  const file = await writeRunResults(
    TAG,
    startedAt,
    { ...options, variants: options.variants.map((v) => v.name) },
    { loadGenerator: generator.version },
    {
      summary: summaries,
      unavailable: Object.fromEntries(unavailable),
      runs,
      checks,
    },
  );
  out.push('', `results written to ${file}`);
  process.stdout.write(`${out.join('\n')}\n`);
  if (checks.some((c) => !c.ok) || runs.some((r) => r.errors > 0 || r.non2xx > 0)) process.exitCode = 1;
}

/** Median over rounds of (`of`'s µs/request − `to`'s in the same round); undefined without a pair. */
function pairedDifferenceUs(runs: readonly CpuRun[], of: string, to: string): number | undefined {
  const diffs = runs.flatMap((r) => {
    const d = r.variant === of ? runs.find((x) => x.variant === to && x.round === r.round) : undefined;
    return d === undefined ? [] : [r.usPerRequest - d.usPerRequest];
  });
  return diffs.length === 0 ? undefined : median(diffs);
}

const signedUs = (us: number | undefined): string =>
  us === undefined || !Number.isFinite(us) ? 'n/a' : `${us >= 0 ? '+' : ''}${us.toFixed(1)}`;

/** The JWT check's cost (jwt-on − jwt-off, and their baseline twins) against issue 21's target. */
function jwtLines(variants: readonly Variant[], runs: readonly CpuRun[]): string[] {
  return variants
    .filter((v) => v.authRequired === true && v.vsOff !== undefined)
    .map((v) => {
      const us = pairedDifferenceUs(runs, v.name, v.vsOff as string);
      const verdict = us === undefined ? 'no pair for' : us <= JWT_TARGET_US ? 'within' : 'OVER';
      return `JWT check (${v.name} − ${v.vsOff as string}): ${signedUs(us)} µs CPU per request, median of per-round differences (${verdict} the ${JWT_TARGET_US} µs target)`;
    });
}

/** This build ÷ the baseline build, per Tollgate variant (medians, and the median of per-round ratios). */
function baselineLines(options: Options, runs: readonly CpuRun[]): string[] {
  if (options.baselineBin === undefined) return [];
  const lines = options.variants
    .filter((v) => options.variants.some((b) => b.name === baselineName(v.name)))
    .map((v) => {
      const r = ratio(runs, v.name, baselineName(v.name));
      const pct = (x: number | undefined): string => (x === undefined ? 'n/a' : `${((x - 1) * 100).toFixed(1)}%`);
      return `${v.name}: ${pct(r.ratio)} CPU per request vs the baseline build (per-round pairs: ${pct(r.paired)})`;
    });
  return ['', `baseline build: ${options.baselineBin}`, ...lines];
}

await runDriver(TAG, USAGE, parseOptions, main);
