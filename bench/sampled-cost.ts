// What a sampled request costs over an unsampled one, in one gateway process: the metrics + traces
// gateway of cpu-per-request.ts (trace_sample_rate 0.1, every layer and header reported), loaded in
// turn with a sampled parent (`traceparent …-01`: every request traced and exported), an unsampled
// parent (`…-00`: none) and no parent (the 10 % the rate picks), interleaved in rounds. With
// `--sample-rate 1` the gateway is cpu-per-request.ts's rate-1 one, its sampler following a remote
// parent's flag (`trace_sampler: parentbased_traceidratio`; KrakenD's ignores it at rate 1): "no
// parent" is then every request starting a trace of its own, as that variant is loaded, and
// "unsampled" the same gateway not tracing (its metrics and the traceparent it still propagates):
// their ratio is rate 1 ÷ metrics without the difference between two processes.
//
//   node --import tsx bench/sampled-cost.ts [--transport http|grpc] [--sample-rate 0.1|1] [--rate <req/s>] [--rounds 8] [--duration 4]
//
// Between two gateway processes with the same config, CPU per request differs by more than a
// tracing cost (bench/README.md, --fresh); within one process it does not, so the paired difference
// of the modes is the whole-gateway cost of tracing a request: its spans encoded, batched, sent, and
// whatever that does to the rest of the request path. bench/trace-cost.ts gives the tracer's share
// in isolation for comparison.

import { intArg, tollgateBinArg } from './lib/args.js';
import { initialWarmUp, startOneGateway } from './lib/cpu-fleet.js';
import { GATEWAYS, PARENTS, type GatewaySpec, type Variant } from './lib/cpu-gateways.js';
import { measure, settleMs } from './lib/cpu-measure.js';
import { pairedDifferences, pairedRatios, upstreamNormalizedRatios, type CpuRun } from './lib/cpu-report.js';
import { armRun, log, parseFlags, runDriver, startUpstream, USAGE_TAIL } from './lib/driver.js';
import { signed } from './lib/format.js';
import { writeRunResults } from './lib/results-file.js';
import { LOAD_RUN_FLAGS, loadRunOptions, type LoadRunOptions } from './lib/run-options.js';
import { median, medianInterval } from './lib/stats.js';
import { createRunTempDir } from './lib/temp-dir.js';
import { which } from './lib/which.js';
import { cpuBenchLoad } from './lib/wrk-rate.js';
import { DEFAULT_BATCHER } from '../src/config/environment.js';

const TAG = 'sampled-cost';
const USAGE = `Usage: node --import tsx bench/sampled-cost.ts [options]

  --transport <t>       http | grpc: how the gateway exports its spans       (default http)
  --sample-rate <r>     0.1 | 1: the gateway's trace_sample_rate              (default 0.1)
  --rounds <n>          rounds; each loads every mode once, order reversed   (default 8)
  --duration <s>        measured seconds per mode per round                  (default 4)
  --warmup <s>          unmeasured load before each measured run             (default 1)
  --connections <n>     wrk connections                                      (default 50)
  --rate <req/s>        cap wrk at about this rate instead of saturating, so every mode runs at
                        the same rate; the report then also divides each run by the upstream's
                        CPU per request of its window (the machine's speed)  (default 0: saturation)
  --no-report-headers   report_headers off on every span layer (the spans lose their header
                        attributes: about half their bytes)
${USAGE_TAIL}`;

/** The parent every request of a mode carries; the gateway samples at its rate and follows a parent's flag. */
const MODES = { ...PARENTS, 'no parent': {} } as const satisfies Record<string, Record<string, string>>;
type Mode = keyof typeof MODES;
/** Load per mode before round 1, so V8's compilation is not charged to it. */
const INITIAL_WARMUP_SECONDS = 4;
const MODE_NAMES = Object.keys(MODES) as Mode[];
/**
 * The gateway's OTEL_BSP_SCHEDULE_DELAY: Tollgate's own, so a run makes as many exports as a production
 * gateway (cpu-per-request.ts does the same); every run's settle waits for them (cpu-measure.ts).
 */
const BATCH_DELAY_MS = DEFAULT_BATCHER.delayMs;

interface Options extends LoadRunOptions {
  readonly transport: 'http' | 'grpc';
  readonly sampleRate: 0.1 | 1;
  /** 0 = saturation. */
  readonly rate: number;
  readonly reportHeaders: boolean;
  readonly tollgateBin: string;
}

function parse(argv: readonly string[]): Options | undefined {
  const v = parseFlags(
    argv,
    [...LOAD_RUN_FLAGS, 'transport', 'sample-rate', 'rate', 'tollgate-bin'],
    ['no-report-headers'],
  );
  if (v === undefined) return undefined;
  const transport = v.transport ?? 'http';
  if (transport !== 'http' && transport !== 'grpc') throw new Error(`--transport: http or grpc, not ${transport}`);
  const rate = v['sample-rate'] ?? '0.1';
  if (rate !== '0.1' && rate !== '1') throw new Error(`--sample-rate: 0.1 or 1, not ${rate}`);
  return {
    ...loadRunOptions(v, { duration: 4, warmup: 1, rounds: 8 }),
    transport,
    sampleRate: rate === '1' ? 1 : 0.1,
    rate: intArg('rate', v.rate, 0, 0),
    reportHeaders: v['no-report-headers'] !== true,
    tollgateBin: tollgateBinArg(v['tollgate-bin']),
  };
}

/** The three modes as variants of the one gateway, each with the parent its requests carry. */
function modeVariants(gateway: string): Variant[] {
  return MODE_NAMES.map((mode) => ({
    name: mode,
    gateway,
    path: '/noop',
    description: `GET /noop with ${mode === 'no parent' ? 'no parent' : `a${mode === 'unsampled' ? 'n' : ''} ${mode} parent`}`,
    headers: MODES[mode],
  }));
}

async function main(o: Options): Promise<void> {
  if (which('wrk') === undefined) throw new Error('needs wrk on PATH');
  const tempDir = createRunTempDir('tollgate-sampled-cost-');
  const { saturating, measured: generator } = await cpuBenchLoad('wrk', tempDir, o.connections, o.rate);
  const perRun = 0.25 + o.warmupSeconds + o.durationSeconds + (2 * settleMs(BATCH_DELAY_MS)) / 1000;
  armRun(Math.ceil(60 + MODE_NAMES.length * (INITIAL_WARMUP_SECONDS + o.rounds * perRun * 1.3)));
  const startedAt = new Date();
  // Inherited by the gateway: the settle after each run (batch delay + 500 ms) holds its exports.
  process.env['OTEL_BSP_SCHEDULE_DELAY'] = String(BATCH_DELAY_MS);
  const upstream = await startUpstream('./telemetry-upstream.ts', o.payloadBytes);
  const measureOptions = { ...o, batchDelayMs: BATCH_DELAY_MS, upstreamPid: upstream.child.process.pid };
  const spec: GatewaySpec = {
    ...(GATEWAYS.find((g) => g.name === `otlp-${o.transport}-${o.sampleRate}`) as GatewaySpec),
    reportHeaders: o.reportHeaders,
    // At rate 1 KrakenD's sampler ignores the parent's flag: the unsampled mode needs one that follows it.
    followParent: true,
  };
  const { gw, gateways } = await startOneGateway(spec, o.tollgateBin, tempDir, upstream.port, (m) =>
    log(`${TAG}: ${m}`),
  );
  const variants = modeVariants(spec.name);
  const load = { connections: o.connections, threads: o.threads, timeoutSeconds: o.timeoutSeconds };
  await initialWarmUp(saturating, variants, gateways, load, INITIAL_WARMUP_SECONDS, (m) => log(`${TAG}: ${m}`));
  const runs: CpuRun[] = [];
  for (let round = 0; round < o.rounds; round++) {
    for (const variant of round % 2 === 0 ? variants : [...variants].reverse()) {
      const [run] = await measure(generator, measureOptions, [{ variant, gw }], round);
      if (run === undefined) continue;
      runs.push(run);
      log(
        `${TAG}: round ${round + 1}/${o.rounds} ${run.variant}: ${run.requests} requests, ${run.usPerRequest.toFixed(1)} µs/req, ${run.sink?.spans ?? 0} spans; foreign CPU ${run.foreignDuringPercent ?? 'n/a'}%`,
      );
    }
  }
  const of = (mode: Mode): CpuRun[] => runs.filter((r) => r.variant === mode);
  const line = (a: Mode, b: Mode): string => {
    const d = pairedDifferences(runs, a, b);
    const i = medianInterval(d);
    return `${a} − ${b}: ${signed(median(d))} µs CPU per request (median of ${d.length} per-round differences${i === undefined ? '' : `, 95 % CI ${signed(i.low)}..${signed(i.high)}`})`;
  };
  const ratioLine = (a: Mode, b: Mode, normalized = false): string => {
    const q = normalized ? upstreamNormalizedRatios(runs, a, b) : pairedRatios(runs, a, b);
    const i = medianInterval(q);
    return `${a} ÷ ${b}${normalized ? ", each ÷ the upstream's µs/req" : ''}: ${median(q).toFixed(3)} (median of ${q.length} per-round ratios${i === undefined ? '' : `, 95 % CI ${i.low.toFixed(3)}..${i.high.toFixed(3)}`})`;
  };
  const spansPer = (mode: Mode): number =>
    of(mode).reduce((n, r) => n + (r.sink?.spans ?? 0), 0) / of(mode).reduce((n, r) => n + r.requests, 0);
  const us = (mode: Mode): number[] => of(mode).map((r) => r.usPerRequest);
  const out = [
    '',
    `CPU per request of one gateway (OTLP/${o.transport.toUpperCase()}, rate ${o.sampleRate}, every layer${o.reportHeaders ? ' and header' : ''} reported), ${o.rounds} rounds of ${o.durationSeconds}s per mode, ${o.connections} connections ${o.rate > 0 ? `capped at ~${o.rate} req/s` : '(saturation)'}`,
    '',
    ...MODE_NAMES.map(
      (m) =>
        `  ${m.padEnd(10)} ${median(us(m)).toFixed(1).padStart(7)} µs/req  (${Math.min(...us(m)).toFixed(1)}..${Math.max(...us(m)).toFixed(1)})  ${spansPer(m).toFixed(2)} spans per request exported`,
    ),
    '',
    line('sampled', 'unsampled'),
    line('no parent', 'unsampled'),
    ratioLine('sampled', 'unsampled'),
    ratioLine('no parent', 'unsampled'),
    // At a capped rate every mode sends the upstream the same rate, so its CPU per request is the machine's speed.
    ...(o.rate > 0 ? [ratioLine('sampled', 'unsampled', true), ratioLine('no parent', 'unsampled', true)] : []),
  ];
  const file = await writeRunResults(TAG, startedAt, o, { loadGenerator: generator.version }, { runs });
  out.push('', `results written to ${file}`);
  process.stdout.write(`${out.join('\n')}\n`);
  if (runs.some((r) => r.errors > 0 || r.non2xx > 0)) process.exitCode = 1;
}

await runDriver(TAG, USAGE, parse, main);
