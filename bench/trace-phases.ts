// What tracing at a sampling rate costs a gateway over the same gateway sampling nothing, measured
// inside one process in short alternating phases, so both sides share the machine's speed of the
// moment.
//
//   node --import tsx bench/trace-phases.ts [--transport http|grpc] [--sample-rate 0.1] [--duration 120] [--phase 2]
//
// Why: on the 2-core development VM a gateway's CPU per request moves by ±20 % from one 4-second
// window to the next (bench/README.md), and two processes with the same config differ by 5–10 % for
// their whole lives (`cpu-per-request.ts --fresh`). Neither resolves a 5 % target in a few dozen
// rounds. Here one gateway (cpu-per-request.ts's traced config, its sampler following a remote
// parent's flag) takes a rate-capped wrk load whose Lua script switches every `--phase` seconds of
// the wall clock between requests without a parent (the rate decides: that is the `otlp-<t>-<rate>`
// variant's load) and requests with an unsampled parent (nothing is traced: metrics only, plus the
// context passed on, which issue 20 bounds separately at 0.5 µs). The driver reads the gateway's
// process-tree CPU (lib/process-tree-cpu.ts) at every second of the wall clock, wrk counts the
// responses of every second, and each sampling phase is compared with the mean of the two
// non-sampling phases around it.
//
// A sampled request's spans are encoded up to 250 ms after it ends (span-deferral.ts), so some of a
// sampling phase's work lands in the first second of the phase after it. That second is charged to
// the sampling phase, minus what its requests cost at the non-sampling rate of the rest of their
// phase (which is why a phase is at least 2 seconds). Exports triggered by the 5 s batch timer can
// land in either phase; a full batch is sent when it fills, inside a sampling phase.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { intArg, tollgateBinArg } from './lib/args.js';
import { isShuttingDown } from './lib/cleanup.js';
import { initialWarmUp, startOneGateway } from './lib/cpu-fleet.js';
import { PARENTS, trace, type GatewaySpec, type Variant } from './lib/cpu-gateways.js';
import { settleMs } from './lib/cpu-measure.js';
import { armRun, log, parseFlags, runDriver, sleep, startUpstream } from './lib/driver.js';
import { signed } from './lib/format.js';
import { getText, sumSamples } from './lib/otlp-bench-util.js';
import { treeCpu } from './lib/process-tree-cpu.js';
import { wrkDelayMs } from './lib/rate-cap.js';
import { writeRunResults } from './lib/results-file.js';
import { compare, phaseCosts, phasesOf, secondsOf, type Tick } from './lib/phase-costs.js';
import { median, medianInterval } from './lib/stats.js';
import { createRunTempDir } from './lib/temp-dir.js';
import { which } from './lib/which.js';
import { spawnWrk, wrkVersion } from './lib/wrk.js';
import { parseWrkOutput } from './lib/wrk-output.js';
import { cpuBenchLoad } from './lib/wrk-rate.js';
import { DEFAULT_BATCHER } from '../src/config/environment.js';

const TAG = 'trace-phases';
const COUNT_LINE = 'PHASE-COUNT';
const PAD_HEADER = 'x-bench-pad';
/** Phases dropped at the start of the load (the rate cap settling, the first exports). */
const RAMP_PHASES = 2;
/** Issue 20's targets for rate 0.1 and rate 1 against metrics only. */
const TARGETS: Readonly<Record<string, number>> = { '0.1': 1.05, '1': 1.2 };

const USAGE = `Usage: node --import tsx bench/trace-phases.ts [options]

  --transport <t>       http | grpc: how the gateway exports its spans        (default http)
  --sample-rate <r>     the gateway's trace_sample_rate, 0 to 1; at 0 neither mode samples,
                        so the run checks the method itself (it should read 1) (default 0.1)
  --duration <s>        seconds of alternating phases                         (default 120)
  --phase <s>           seconds per phase, at least 2                         (default 2)
  --rate <req/s>        wrk's rate cap                                        (default 3000)
  --connections <n>     wrk connections                                       (default 50)
  --initial-warmup <s>  saturating load per mode before the phases            (default 15)
  --tollgate-bin <path> the Tollgate CLI                                      (default <repo>/bin/tollgate.js)
`;

interface Options {
  readonly transport: 'http' | 'grpc';
  readonly sampleRate: number;
  readonly durationSeconds: number;
  readonly phaseSeconds: number;
  readonly rate: number;
  readonly connections: number;
  readonly initialWarmupSeconds: number;
  readonly tollgateBin: string;
}

function parse(argv: readonly string[]): Options | undefined {
  const v = parseFlags(argv, [
    'transport',
    'sample-rate',
    'duration',
    'phase',
    'rate',
    'connections',
    'initial-warmup',
    'tollgate-bin',
  ]);
  if (v === undefined) return undefined;
  const transport = v.transport ?? 'http';
  if (transport !== 'http' && transport !== 'grpc') throw new Error(`--transport: http or grpc, not ${transport}`);
  const sampleRate = Number(v['sample-rate'] ?? '0.1');
  // 0 is the null check: neither mode samples, so the comparison should read 1.
  if (!(sampleRate >= 0 && sampleRate <= 1)) throw new Error(`--sample-rate: 0 to 1, not ${v['sample-rate']}`);
  return {
    transport,
    sampleRate,
    durationSeconds: intArg('duration', v.duration, 120, 30),
    phaseSeconds: intArg('phase', v.phase, 2, 2),
    rate: intArg('rate', v.rate, 3000, 1),
    connections: intArg('connections', v.connections, 50, 1),
    initialWarmupSeconds: intArg('initial-warmup', v['initial-warmup'], 15, 0),
    tollgateBin: tollgateBinArg(v['tollgate-bin']),
  };
}

/**
 * wrk's script: even phases of the wall clock (`os.time()`, whole seconds) send no parent, odd ones an
 * unsampled parent; every response is counted under its second, printed by `done()`. The requests
 * without a parent carry the same bytes under a header nothing reads (`PAD_HEADER`, as long a name as
 * `traceparent`), so that both modes' requests cost the same to read and only what the gateway does
 * with a parent differs.
 */
function phaseScript(o: Options): string {
  return `local period = ${o.phaseSeconds}
local plain, parented
counts = {}
local threads = {}
setup = function(thread) table.insert(threads, thread) end
init = function(args)
  plain = wrk.format(nil, nil, { ["${PAD_HEADER}"] = "${PARENTS.unsampled.traceparent}" })
  parented = wrk.format(nil, nil, { traceparent = "${PARENTS.unsampled.traceparent}" })
end
request = function()
  if math.floor(os.time() / period) % 2 == 0 then return plain end
  return parented
end
response = function(status, headers, body)
  local s = os.time()
  counts[s] = (counts[s] or 0) + 1
end
delay = function() return ${wrkDelayMs(o.connections, o.rate)} end
done = function(summary, latency, requests)
  for _, t in ipairs(threads) do
    for s, n in pairs(t:get("counts")) do io.write(string.format("${COUNT_LINE} %d %d\\n", s, n)) end
  end
end
`;
}

/** Reads both trees just after every whole second of the wall clock until `until` (epoch ms). */
async function tickEverySecond(gatewayPid: number, upstreamPid: number, until: number): Promise<Tick[]> {
  const ticks: Tick[] = [];
  while (!isShuttingDown()) {
    const now = Date.now();
    if (now >= until) break;
    // 20 ms into the second: wrk's os.time() has turned, and the read is not racing the boundary.
    await sleep(1000 - (now % 1000) + 20);
    const g = treeCpu(gatewayPid);
    const u = treeCpu(upstreamPid);
    if (g === undefined || u === undefined) throw new Error('a measured process exited during the run');
    ticks.push({ second: Math.floor(Date.now() / 1000), gatewayMs: g.ms, upstreamMs: u.ms });
  }
  return ticks;
}

function describe(label: string, values: readonly number[], digits: number, withSign = false): string {
  const f = (x: number): string => (withSign ? signed(x, digits) : x.toFixed(digits));
  const i = medianInterval(values);
  const mean = values.reduce((n, x) => n + x, 0) / values.length;
  const sd = Math.sqrt(values.reduce((n, x) => n + (x - mean) ** 2, 0) / Math.max(1, values.length - 1));
  const se = sd / Math.sqrt(values.length);
  return `${label}: median ${f(median(values))}${i === undefined ? '' : ` [95 % ${f(i.low)}..${f(i.high)}]`}, mean ${f(mean)} ± ${(2 * se).toFixed(digits)} (2 SE), ${values.length} phases`;
}

async function main(o: Options): Promise<void> {
  const wrk = which('wrk');
  if (wrk === undefined) throw new Error('needs wrk on PATH');
  const batchDelayMs = DEFAULT_BATCHER.delayMs;
  armRun(120 + 2 * o.initialWarmupSeconds + o.durationSeconds + 4 * o.phaseSeconds + settleMs(batchDelayMs) / 1000);
  const startedAt = new Date();
  const tempDir = createRunTempDir('tollgate-trace-phases-');
  // Inherited by the gateway: Tollgate's own batch delay, so exports are as many as in production.
  process.env['OTEL_BSP_SCHEDULE_DELAY'] = String(batchDelayMs);
  const upstream = await startUpstream('./telemetry-upstream.ts', 1024);
  // followParent: an unsampled parent is followed at rate 1 too (KrakenD's sampler ignores it there).
  const spec: GatewaySpec = { ...trace(o.transport, o.sampleRate), followParent: true };
  const { gw, gateways } = await startOneGateway(spec, o.tollgateBin, tempDir, upstream.port, (m) =>
    log(`${TAG}: ${m}`),
  );
  const modes: Variant[] = [
    {
      name: 'no parent',
      gateway: spec.name,
      path: '/noop',
      description: 'GET /noop, no parent',
      headers: { [PAD_HEADER]: PARENTS.unsampled.traceparent },
    },
    {
      name: 'unsampled parent',
      gateway: spec.name,
      path: '/noop',
      description: 'GET /noop, an unsampled parent',
      headers: PARENTS.unsampled,
    },
  ];
  const { saturating } = await cpuBenchLoad('wrk', tempDir, o.connections, 0);
  const load = { connections: o.connections, threads: 1, timeoutSeconds: 5 };
  await initialWarmUp(saturating, modes, gateways, load, o.initialWarmupSeconds, (m) => log(`${TAG}: ${m}`));

  const script = join(tempDir, 'phases.lua');
  await writeFile(script, phaseScript(o));
  const seconds = o.durationSeconds + (RAMP_PHASES + 1) * o.phaseSeconds;
  log(`${TAG}: ${seconds}s of ${o.phaseSeconds}s phases at ~${o.rate} req/s`);
  const run = spawnWrk(
    wrk,
    {
      url: `${gw.origin}/noop`,
      threads: 1,
      connections: o.connections,
      durationSeconds: seconds,
      timeoutSeconds: 5,
      script,
    },
    10_000,
  );
  const ticks = await tickEverySecond(
    gw.child.process.pid as number,
    upstream.child.process.pid as number,
    Date.now() + seconds * 1000,
  );
  const stdout = await run.stdout;
  // The script's count lines, then wrk's own report.
  const counts = new Map<number, number>();
  const report: string[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(COUNT_LINE)) {
      report.push(line);
      continue;
    }
    const [second, n] = line.slice(COUNT_LINE.length).trim().split(' ').map(Number) as [number, number];
    counts.set(second, (counts.get(second) ?? 0) + n);
  }
  const result = parseWrkOutput(report.join('\n'));
  // What the sampling phases made is exported within a batch delay.
  await sleep(settleMs(batchDelayMs));
  const sink = gw.sink === undefined ? undefined : await gw.sink.counts();
  const metricsText =
    gw.ports === undefined ? '' : (await getText(`http://127.0.0.1:${gw.ports.metrics}/metrics`)).text;
  const spans = (outcome: string): number =>
    sumSamples(metricsText, 'tollgate_telemetry_spans_total', [`outcome="${outcome}"`]).sum;

  const perSecond = secondsOf(ticks, counts, o.phaseSeconds);
  const phases = phasesOf(perSecond, o.phaseSeconds).slice(RAMP_PHASES);
  const costs = phaseCosts(phases);
  const c = compare(costs);
  if (c.ratios.length < 6) throw new Error(`only ${c.ratios.length} sampling phases with neighbours: run longer`);
  const samplingRequests = costs.reduce((n, p) => n + (p.sampling ? p.requests : 0), 0);
  const plainUs = costs.filter((p) => !p.sampling).map((p) => p.gatewayUs);
  const target = TARGETS[String(o.sampleRate)];
  const out = [
    '',
    `One gateway (OTLP/${o.transport.toUpperCase()}, trace_sample_rate ${o.sampleRate}, every layer and header reported), ${o.phaseSeconds}s phases alternating no parent (the rate decides) and an unsampled parent (nothing traced), ~${result.requestsPerSecond.toFixed(0)} req/s, ${wrkVersion(wrk) ?? 'wrk'}`,
    `  not sampling: ${median(plainUs).toFixed(1)} µs/req (median of ${plainUs.length} phases)`,
    `  ${describe('sampling ÷ not sampling', c.ratios, 3)}`,
    `  ${describe("the same, each ÷ the upstream's µs/req", c.normalized, 3)}`,
    `  ${describe('sampling − not sampling (µs/req)', c.differencesUs, 1, true)}`,
    ...(target === undefined ? [] : [`  issue 20's target: ≤ ${target} × metrics only`]),
    `  spans: ${sink?.traces.items ?? 'n/a'} at the sink, ${spans('exported')} exported, ${spans('dropped')} dropped, ${spans('failed')} failed; ${result.errors} errors, ${result.non2xx} non-2xx`,
  ];
  const file = await writeRunResults(
    TAG,
    startedAt,
    o,
    { loadGenerator: wrkVersion(wrk) },
    { perSecond, phases: costs, comparison: c, samplingRequests, sink, wrk: result },
  );
  out.push('', `results written to ${file}`);
  process.stdout.write(`${out.join('\n')}\n`);
  if (result.errors > 0 || result.non2xx > 0 || spans('dropped') > 0 || spans('failed') > 0) process.exitCode = 1;
}

await runDriver(TAG, USAGE, parse, main);
