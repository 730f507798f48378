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
import type { Check } from './lib/cpu-checks.js';
import { measure, settleMs } from './lib/cpu-measure.js';
import { fleetChecks, initialWarmUp, probeVariants, startFleet, stopFleet, type Gateway } from './lib/cpu-fleet.js';
import { clusterPrimary, PrimarySettle } from './lib/primary-settle.js';
import {
  VARIANTS,
  baselineName,
  planVariants,
  withBearer,
  type GatewaySpec,
  type Variant,
} from './lib/cpu-gateways.js';
import {
  formatTable,
  pairedDifferences,
  ratio,
  summarize,
  upstreamNormalizedRatios,
  type CpuRun,
  type Interval,
} from './lib/cpu-report.js';
import { armRun, log, parseFlags, runDriver, startUpstream, USAGE_TAIL } from './lib/driver.js';
import { signed } from './lib/format.js';
import { writeBenchJwt } from './lib/jwt-token.js';
import type { LoadToolChoice } from './lib/load-generator.js';
import { TREE_CPU_RESOLUTION_MS } from './lib/process-tree-cpu.js';
import { pinDriver } from './lib/otlp-bench-util.js';
import { benchEnvironment, writeRunResults } from './lib/results-file.js';
import { LOAD_RUN_FLAGS, loadRunOptions, type LoadRunOptions } from './lib/run-options.js';
import { median, medianInterval } from './lib/stats.js';
import { createRunTempDir } from './lib/temp-dir.js';
import { cpuBenchLoad } from './lib/wrk-rate.js';
import { DEFAULT_BATCHER } from '../src/config/environment.js';

const TAG = 'cpu-per-request';
/** Issue 21: what an endpoint's JWT check may add per request, with its key cached. */
const JWT_TARGET_US = 10;
/** With --fresh, the oldest a gateway gets waiting for its primary's collection (lib/primary-settle.ts). */
const PRIMARY_MAX_AGE_MS = 55_000;
/** Long enough for V8 to have compiled the rate-0.1 gateways' sampled path (bench/README.md, "--fresh"). */
const INITIAL_WARMUP_SECONDS = 15;

const USAGE = `Usage: node --import tsx bench/cpu-per-request.ts [options]

  --rounds <n>          rounds; each runs every variant once, rotated  (default 5)
  --duration <s>        measured seconds per variant per round         (default 5)
  --warmup <s>          unmeasured load before each measured run       (default 1)
  --initial-warmup <s>  unmeasured load per variant before round 1 (with --fresh, before
                        every run), at saturation even with --rate, so V8's compiler
                        threads are not charged to the measured runs: at rate 0.1 the
                        sampled path runs on one request in ten and is still being
                        compiled 10-15 s into a worker's life (see bench/README.md) (default 15)
  --connections <n>     concurrent wrk connections                     (default 50)
  --rate <req/s>        cap wrk at about this rate (Lua delay per connection) instead
                        of saturating; pick it below the slowest variant's req/s (default 0:
                        saturation)
  --threads <n>         wrk threads                                    (default 1)
  --payload <bytes>     upstream body size (/payload and /json)        (default 1024)
  --variants <list>     a subset of: ${VARIANTS.map((v) => v.name).join(', ')}
                        (default: all but the metrics-<part> variants, which show what each
                        metric namespace of the metrics gateway costs)
  --batch-delay <ms>    OTEL_BSP_SCHEDULE_DELAY of the gateways; every run waits this
                        + 500 ms after the load so the spans it made are exported
                        inside its window (default ${DEFAULT_BATCHER.delayMs}: Tollgate's own, so
                        exports are as many and as big as in production)
  --workers <n>         Tollgate root \`workers\` (default: Tollgate's own default)
  --timeout <s>         per-request timeout, counted as error          (default 5)
  --tool <name>         auto | wrk | autocannon                        (default auto)
  --side-by-side        load each variant at the same time as the variant it is compared with
                        (trace variants with metrics, the others with off), in separate wrk
                        processes, and report the per-round ratio of the two: both share
                        whatever the machine's speed does during the run; use it with --rate,
                        as two saturated gateways competing for the cores exaggerate any
                        difference (see bench/README.md)
  --fresh               every measured run on gateway processes of its own, started (with their
                        sinks), probed and warmed up right before it and stopped after it: a
                        process keeps its own speed for its whole life (memory layout, V8's
                        hash seed and compiler decisions), which is otherwise a bias of the
                        whole run rather than one round's noise, and no gateway idles between
                        its warm-up and its run; after the warm-up, the load goes on until the
                        cluster primary has run its one collection after start-up (at most
                        55 s after start: lib/primary-settle.ts) (see bench/README.md)
  --pin                 Tollgate gateways on CPU 1 (taskset); this driver, the upstream, the
                        sinks, wrk, the floor and nginx on CPU 0: a gateway then never shares
                        its core, so its CPU per request does not depend on what the
                        scheduler put beside it (see bench/README.md)
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
  readonly sideBySide: boolean;
  readonly fresh: boolean;
  readonly pin: boolean;
  readonly batchDelayMs: number;
  readonly workers: number | undefined;
  readonly tool: LoadToolChoice;
  readonly tollgateBin: string;
}

function parseOptions(argv: readonly string[]): Options | undefined {
  const values = parseFlags(
    argv,
    [
      ...LOAD_RUN_FLAGS,
      'initial-warmup',
      'rate',
      'variants',
      'batch-delay',
      'workers',
      'tool',
      'tollgate-bin',
      'baseline-bin',
    ],
    ['side-by-side', 'fresh', 'pin'],
  );
  if (values === undefined) return undefined;
  const names = (
    values.variants ??
    VARIANTS.filter((v) => v.onlyWhenNamed !== true)
      .map((v) => v.name)
      .join(',')
  )
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
    initialWarmupSeconds: intArg('initial-warmup', values['initial-warmup'], INITIAL_WARMUP_SECONDS, 0),
    rate: intArg('rate', values.rate, 0, 0),
    ...planned,
    baselineBin,
    sideBySide: values['side-by-side'] === true,
    fresh: values.fresh === true,
    pin: values.pin === true,
    batchDelayMs: intArg('batch-delay', values['batch-delay'], DEFAULT_BATCHER.delayMs),
    workers: values.workers === undefined ? undefined : intArg('workers', values.workers, 1),
    tool: toolArg(values.tool),
    tollgateBin: tollgateBinArg(values['tollgate-bin']),
  };
}

async function main(options: Options): Promise<void> {
  const perRun =
    0.25 + 0.3 + options.warmupSeconds + options.durationSeconds + (2 * settleMs(options.batchDelayMs)) / 1000 + 1;
  // With --fresh, every run starts its gateways (about 3 s each, two for a side-by-side pair) and warms them up.
  const startUp = options.gateways.length * 3 + options.variants.length * (options.initialWarmupSeconds + 1);
  const freshStartUp =
    options.variants.length * (2 * 3 + 2 * (options.initialWarmupSeconds + 1) + PRIMARY_MAX_AGE_MS / 1000);
  const budget = Math.ceil(
    90 +
      startUp +
      options.rounds * (options.fresh ? freshStartUp : 0) +
      options.rounds * options.variants.length * perRun * 1.2,
  );
  armRun(budget);
  const startedAt = new Date();
  // Before anything is spawned: what this process starts inherits its CPU.
  const tasksetBin = pinDriver(options.pin, log, TAG, undefined, undefined);
  const tempDir = createRunTempDir('tollgate-cpu-bench-');
  const { saturating, measured: generator } = await cpuBenchLoad(
    options.tool,
    tempDir,
    options.connections,
    options.rate,
  );
  // Inherited by the gateways (lib/tollgate-with-config.ts spreads process.env); see --batch-delay.
  process.env['OTEL_BSP_SCHEDULE_DELAY'] = String(options.batchDelayMs);
  log(
    `${TAG}: commit ${benchEnvironment().commit}; ${generator.version}; ${options.connections} connections; ${options.warmupSeconds}s warm-up + ${options.durationSeconds}s measured ` +
      `x ${options.rounds} round(s) x ${options.variants.length} variant(s); batch delay ${options.batchDelayMs} ms; budget ${budget}s`,
  );

  const upstream = await startUpstream('./telemetry-upstream.ts', options.payloadBytes);
  // One token for the whole run, valid well past its end: clients reuse a token until it expires.
  const jwt = options.gateways.some((g) => g.jwt === true) ? await writeBenchJwt(tempDir, budget + 3600) : undefined;
  const planned = jwt === undefined ? options.variants : withBearer(options.variants, options.gateways, jwt.token);
  const fleet = {
    specs: options.gateways,
    bin: options.tollgateBin,
    workers: options.workers,
    tempDir,
    upstreamPort: upstream.port,
    leashSeconds: budget + 30,
    jwksPath: jwt?.jwksPath,
    taskset: tasksetBin === undefined ? undefined : { bin: tasksetBin, cpus: '1' },
  };
  const load = {
    connections: options.connections,
    threads: options.threads,
    timeoutSeconds: options.timeoutSeconds,
  };
  const { gateways, unavailable } = await startFleet(fleet, (m) => log(`${TAG}: ${m}`));
  const variants = planned.filter((v) => gateways.has(v.gateway));
  const ready = async (vs: readonly Variant[], gws: ReadonlyMap<string, Gateway>): Promise<void> => {
    await probeVariants(vs, gws, options.payloadBytes);
    await initialWarmUp(saturating, vs, gws, load, options.initialWarmupSeconds, (m) => log(`${TAG}: ${m}`));
  };
  if (options.fresh) {
    // Every gateway started and answered once: a broken one stops the bench before its first round.
    await probeVariants(variants, gateways, options.payloadBytes);
    await stopFleet(gateways);
  } else await ready(variants, gateways);
  const checks: Check[] = [];

  /**
   * --fresh: new processes for the gateways of one group, probed and warmed up, then loaded on until
   * each cluster primary has run its one collection after start-up (lib/primary-settle.ts).
   */
  const freshGateways = async (group: readonly Variant[]): Promise<Map<string, Gateway>> => {
    const names = new Set(group.map((v) => v.gateway));
    const specs = options.gateways.filter((g) => names.has(g.name));
    const startedAt = Date.now();
    const started = await startFleet({ ...fleet, specs }, (m) => log(`${TAG}: ${m}`));
    const settles = new Map<string, PrimarySettle>();
    for (const [name, gw] of started.gateways) {
      const primary = gw.child.process.pid === undefined ? undefined : clusterPrimary(gw.child.process.pid);
      if (primary !== undefined) settles.set(name, new PrimarySettle(primary, startedAt, PRIMARY_MAX_AGE_MS));
    }
    await ready(group, started.gateways);
    for (const v of group) {
      const settle = settles.get(v.gateway);
      if (settle === undefined) continue;
      while (settle.state === 'waiting' && !isShuttingDown())
        await initialWarmUp(saturating, [v], started.gateways, load, 2, () => undefined);
      log(
        `${TAG}: ${v.gateway}: ${settle.state === 'settled' ? 'primary collected' : 'no primary collection seen'} after ${((Date.now() - startedAt) / 1000).toFixed(0)} s`,
      );
      settle.stop();
    }
    return started.gateways;
  };
  const runs: CpuRun[] = [];
  const measureOptions = { ...options, upstreamPid: upstream.child.process.pid };
  const groups = runGroups(variants, options.sideBySide);
  for (let round = 0; round < options.rounds; round++) {
    // Rotated every round, so no group always runs first (or right after a heavy one); side by side,
    // the two of a pair also swap which wrk starts first.
    const shift = round % groups.length;
    for (const group of [...groups.slice(shift), ...groups.slice(0, shift)]) {
      if (isShuttingDown()) return;
      const live = options.fresh ? await freshGateways(group) : gateways;
      const ordered = round % 2 === 0 ? group : [...group].reverse();
      const entries = ordered.map((v) => ({ variant: v, gw: live.get(v.gateway) as Gateway }));
      const measured = await measure(generator, measureOptions, entries, round);
      if (options.fresh) {
        checks.push(...(await fleetChecks(live, round + 1)));
        await stopFleet(live);
      }
      for (const run of measured) {
        runs.push(run);
        log(
          `${TAG}: round ${round + 1}/${options.rounds} ${run.variant}${run.besides.length > 0 ? ` (besides ${run.besides.join(', ')})` : ''}: ${run.requests} requests, ${run.cpuMs.toFixed(0)} ms CPU, ${run.usPerRequest.toFixed(1)} µs/req` +
            `${run.sink !== undefined ? `, sink +${run.sink.spans} spans in ${run.sink.exports} exports` : ''}; foreign CPU ${run.foreignDuringPercent === undefined ? 'n/a' : `${run.foreignDuringPercent}%`}`,
        );
      }
    }
  }

  if (!options.fresh) checks.push(...(await fleetChecks(gateways)));
  await runCleanup();

  const summaries = summarize(variants, runs);
  const out = [
    '',
    `CPU per request — gateway process tree utime+stime ÷ wrk's completed requests; median of ${options.rounds} round(s) of ${options.durationSeconds}s${options.sideBySide ? ', each variant side by side with the one it is compared with' : ''}, ` +
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
          `${s.variant}: ${pct(s.vsOff)} CPU per request vs ${of} (per-round pairs ${pct(s.vsOffPaired)}${ci(s.vsOffInterval)}, ${signed(pairedDifferenceUs(runs, s.variant, of))} µs/request)` +
          `${s.vsMetrics !== undefined ? `; ${pct(s.vsMetrics)} vs metrics (per-round pairs ${pct(s.vsMetricsPaired)}${ci(s.vsMetricsInterval)}, ${signed(pairedDifferenceUs(runs, s.variant, 'metrics'))} µs/request)` : ''}`
        );
      }),
    ...normalizedLines(options, variants, runs),
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
    { loadGenerator: generator.version, pinned: tasksetBin !== undefined },
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

/** Median over rounds of (`of`'s µs/request − its partner run of `to`'s); undefined without a pair. */
function pairedDifferenceUs(runs: readonly CpuRun[], of: string, to: string): number | undefined {
  const diffs = pairedDifferences(runs, of, to);
  return diffs.length === 0 ? undefined : median(diffs);
}

/**
 * What one round runs, in order. Alone, every variant by itself. Side by side, every variant together
 * with the variant it is compared with (vs metrics, else vs off), when that one is in the run and on
 * another gateway (two loads on one process tree cannot be told apart): the reference is then
 * measured once per variant compared with it. A variant nobody is paired with runs alone.
 */
function runGroups(variants: readonly Variant[], sideBySide: boolean): Variant[][] {
  if (!sideBySide) return variants.map((v) => [v]);
  const partnerOf = (v: Variant): Variant | undefined => {
    const p = variants.find((x) => x.name === (v.vsMetrics ?? v.vsOff));
    return p !== undefined && p.gateway !== v.gateway ? p : undefined;
  };
  const paired = new Set(variants.flatMap((v) => (partnerOf(v) === undefined ? [] : [v.name, partnerOf(v)?.name])));
  return variants.flatMap((v) => {
    const p = partnerOf(v);
    if (p !== undefined) return [[v, p]];
    return paired.has(v.name) ? [] : [[v]];
  });
}

const pct = (x: number | undefined): string =>
  x === undefined || !Number.isFinite(x) ? 'n/a' : `${x >= 1 ? '+' : ''}${((x - 1) * 100).toFixed(1)}%`;

/** ` [95 % CI low..high]` of a median of per-round ratios, as percentages; nothing without enough rounds. */
const ci = (i: Interval | undefined): string => (i === undefined ? '' : ` [95 % CI ${pct(i.low)}..${pct(i.high)}]`);

/**
 * At a capped rate, run alone: each variant's per-round ratios with both runs first divided by the
 * upstream's CPU per request of their own window (lib/cpu-report.ts upstreamNormalizedRatios), which takes
 * out how fast the machine ran in each window. Side by side both share one window, so nothing changes.
 */
function normalizedLines(options: Options, variants: readonly Variant[], runs: readonly CpuRun[]): string[] {
  if (options.rate === 0 || options.sideBySide) return [];
  const one = (v: Variant, to: string | undefined): string | undefined => {
    if (to === undefined) return undefined;
    const q = upstreamNormalizedRatios(runs, v.name, to);
    return q.length === 0 ? undefined : `${pct(median(q))} vs ${to}${ci(medianInterval(q))}`;
  };
  const lines = variants.flatMap((v) => {
    const parts = [one(v, v.vsOff), one(v, v.vsMetrics)].filter((x) => x !== undefined);
    return parts.length === 0 ? [] : [`${v.name}: ${parts.join('; ')}`];
  });
  return lines.length === 0
    ? []
    : [
        '',
        "divided by the upstream's CPU per request of the same window (the machine's speed; per-round pairs):",
        ...lines,
      ];
}

/** The JWT check's cost (jwt-on − jwt-off, and their baseline twins) against issue 21's target. */
function jwtLines(variants: readonly Variant[], runs: readonly CpuRun[]): string[] {
  return variants
    .filter((v) => v.authRequired === true && v.vsOff !== undefined)
    .map((v) => {
      const us = pairedDifferenceUs(runs, v.name, v.vsOff as string);
      const verdict = us === undefined ? 'no pair for' : us <= JWT_TARGET_US ? 'within' : 'OVER';
      return `JWT check (${v.name} − ${v.vsOff as string}): ${signed(us)} µs CPU per request, median of per-round differences (${verdict} the ${JWT_TARGET_US} µs target)`;
    });
}

/** This build ÷ the baseline build, per Tollgate variant (medians, and the median of per-round ratios). */
function baselineLines(options: Options, runs: readonly CpuRun[]): string[] {
  if (options.baselineBin === undefined) return [];
  const lines = options.variants
    .filter((v) => options.variants.some((b) => b.name === baselineName(v.name)))
    .map((v) => {
      const r = ratio(runs, v.name, baselineName(v.name));
      return `${v.name}: ${pct(r.ratio)} CPU per request vs the baseline build (per-round pairs: ${pct(r.paired)})`;
    });
  return ['', `baseline build: ${options.baselineBin}`, ...lines];
}

await runDriver(TAG, USAGE, parseOptions, main);
