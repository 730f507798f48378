// What a sampled request costs over an unsampled one, in one gateway process: the metrics + traces
// gateway of cpu-per-request.ts (trace_sample_rate 0.1, every layer and header reported), loaded in
// turn with a sampled parent (`traceparent …-01`: every request traced and exported), an unsampled
// parent (`…-00`: none) and no parent (the 10 % the rate picks), interleaved in rounds.
//
//   node --import tsx bench/sampled-cost.ts [--transport http|grpc] [--rounds 8] [--duration 4]
//
// Between two gateway processes with the same config, CPU per request differs by more than a
// tracing cost (bench/README.md, --fresh); within one process it does not, so the paired difference
// of the modes is the whole-gateway cost of tracing a request: its spans encoded, batched, sent, and
// whatever that does to the rest of the request path. bench/trace-cost.ts gives the tracer's share
// in isolation for comparison.

import { armRun, log, parseFlags, runDriver, sleep, startUpstream, USAGE_TAIL } from './lib/driver.js';
import { GATEWAYS, type GatewaySpec } from './lib/cpu-gateways.js';
import { startFleet, type Gateway } from './lib/cpu-fleet.js';
import { createRunTempDir } from './lib/temp-dir.js';
import { tollgateBinArg } from './lib/args.js';
import { LOAD_RUN_FLAGS, loadRunOptions, type LoadRunOptions } from './lib/run-options.js';
import { which } from './lib/which.js';
import { runWrk } from './lib/wrk.js';
import { treeCpu } from './lib/process-tree-cpu.js';
import { median, medianInterval } from './lib/stats.js';
import { writeRunResults } from './lib/results-file.js';
import { startTreeForeignLoadMeter } from './lib/foreign-load.js';

const TAG = 'sampled-cost';
const USAGE = `Usage: node --import tsx bench/sampled-cost.ts [options]

  --transport <t>       http | grpc: how the gateway exports its spans       (default http)
  --rounds <n>          rounds; each loads every mode once, order reversed   (default 8)
  --duration <s>        measured seconds per mode per round                  (default 4)
  --warmup <s>          unmeasured load per mode before round 1              (default 4)
  --connections <n>     wrk connections                                      (default 50)
  --no-report-headers   report_headers off on every span layer (the spans lose their header
                        attributes: about half their bytes)
${USAGE_TAIL}`;

/** The parent every request of a mode carries; the gateway samples at 0.1 and follows a parent's flag. */
const MODES = {
  sampled: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
  unsampled: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00' },
  'no parent': {},
} as const satisfies Record<string, Record<string, string>>;
type Mode = keyof typeof MODES;
const MODE_NAMES = Object.keys(MODES) as Mode[];

interface Options extends LoadRunOptions {
  readonly transport: 'http' | 'grpc';
  readonly reportHeaders: boolean;
  readonly tollgateBin: string;
}

function parse(argv: readonly string[]): Options | undefined {
  const v = parseFlags(argv, [...LOAD_RUN_FLAGS, 'transport', 'tollgate-bin'], ['no-report-headers']);
  if (v === undefined) return undefined;
  const transport = v.transport ?? 'http';
  if (transport !== 'http' && transport !== 'grpc') throw new Error(`--transport: http or grpc, not ${transport}`);
  return {
    ...loadRunOptions(v, { duration: 4, warmup: 4, rounds: 8 }),
    transport,
    reportHeaders: v['no-report-headers'] !== true,
    tollgateBin: tollgateBinArg(v['tollgate-bin']),
  };
}

interface Run {
  readonly round: number;
  readonly mode: Mode;
  readonly requests: number;
  readonly cpuMs: number;
  readonly usPerRequest: number;
  readonly spans: number;
  readonly errors: number;
  readonly foreignDuringPercent: number | undefined;
}

async function main(o: Options): Promise<void> {
  const wrk = which('wrk');
  if (wrk === undefined) throw new Error('needs wrk on PATH');
  const perRound = MODE_NAMES.length * (o.durationSeconds + 1.5);
  armRun(Math.ceil(60 + MODE_NAMES.length * o.warmupSeconds + o.rounds * perRound * 1.3));
  const startedAt = new Date();
  const tempDir = createRunTempDir('tollgate-sampled-cost-');
  process.env['OTEL_BSP_SCHEDULE_DELAY'] = '500';
  const upstream = await startUpstream('./telemetry-upstream.ts', o.payloadBytes);
  const spec: GatewaySpec = {
    ...(GATEWAYS.find((g) => g.name === `otlp-${o.transport}-0.1`) as GatewaySpec),
    reportHeaders: o.reportHeaders,
  };
  const { gateways } = await startFleet(
    {
      specs: [spec],
      bin: o.tollgateBin,
      workers: undefined,
      tempDir,
      upstreamPort: upstream.port,
      leashSeconds: 3600,
      jwksPath: undefined,
    },
    (m) => log(`${TAG}: ${m}`),
  );
  const gw = gateways.get(spec.name) as Gateway;
  const pid = gw.child.process.pid ?? -1;
  const load = (mode: Mode, seconds: number) =>
    runWrk(wrk, {
      url: `${gw.origin}/noop`,
      threads: o.threads,
      connections: o.connections,
      timeoutSeconds: o.timeoutSeconds,
      durationSeconds: seconds,
      headers: MODES[mode],
    });
  for (const mode of MODE_NAMES) {
    log(`${TAG}: warm-up ${mode} (${o.warmupSeconds}s)`);
    await load(mode, o.warmupSeconds);
  }
  const runs: Run[] = [];
  for (let round = 0; round < o.rounds; round++) {
    for (const mode of round % 2 === 0 ? MODE_NAMES : [...MODE_NAMES].reverse()) {
      const spans0 = (await gw.sink?.counts())?.traces.items ?? 0;
      const cpu0 = treeCpu(pid);
      const foreign = startTreeForeignLoadMeter();
      const l = await load(mode, o.durationSeconds);
      // The batcher exports within its 500 ms delay: the spans of this run are sent inside its window.
      await sleep(1000);
      const cpu1 = treeCpu(pid);
      const spans1 = (await gw.sink?.counts())?.traces.items ?? 0;
      if (cpu0 === undefined || cpu1 === undefined) throw new Error(`the gateway (pid ${pid}) is gone`);
      const run: Run = {
        round,
        mode,
        requests: l.requests,
        cpuMs: cpu1.ms - cpu0.ms,
        usPerRequest: ((cpu1.ms - cpu0.ms) * 1000) / l.requests,
        spans: spans1 - spans0,
        errors: l.errors + l.non2xx,
        foreignDuringPercent: foreign(),
      };
      runs.push(run);
      log(
        `${TAG}: round ${round + 1}/${o.rounds} ${mode}: ${run.requests} requests, ${run.usPerRequest.toFixed(1)} µs/req, ${run.spans} spans; foreign CPU ${run.foreignDuringPercent ?? 'n/a'}%`,
      );
    }
  }
  const of = (mode: Mode): Run[] => runs.filter((r) => r.mode === mode);
  const diffs = (a: Mode, b: Mode): number[] =>
    of(a).flatMap((r) => {
      const p = runs.find((x) => x.mode === b && x.round === r.round);
      return p === undefined ? [] : [r.usPerRequest - p.usPerRequest];
    });
  const line = (a: Mode, b: Mode): string => {
    const d = diffs(a, b);
    const i = medianInterval(d);
    return `${a} − ${b}: ${signed(median(d))} µs CPU per request (median of ${d.length} per-round differences${i === undefined ? '' : `, 95 % CI ${signed(i.low)}..${signed(i.high)}`})`;
  };
  const spansPer = (mode: Mode): number =>
    of(mode).reduce((n, r) => n + r.spans, 0) / of(mode).reduce((n, r) => n + r.requests, 0);
  const out = [
    '',
    `CPU per request of one gateway (OTLP/${o.transport.toUpperCase()}, rate 0.1, every layer${o.reportHeaders ? ' and header' : ''} reported), ${o.rounds} rounds of ${o.durationSeconds}s per mode, ${o.connections} connections (saturation)`,
    '',
    ...MODE_NAMES.map(
      (m) =>
        `  ${m.padEnd(10)} ${median(of(m).map((r) => r.usPerRequest))
          .toFixed(1)
          .padStart(
            7,
          )} µs/req  (${Math.min(...of(m).map((r) => r.usPerRequest)).toFixed(1)}..${Math.max(...of(m).map((r) => r.usPerRequest)).toFixed(1)})  ${spansPer(m).toFixed(2)} spans per request exported`,
    ),
    '',
    line('sampled', 'unsampled'),
    line('no parent', 'unsampled'),
  ];
  const file = await writeRunResults(TAG, startedAt, o, {}, { runs });
  out.push('', `results written to ${file}`);
  process.stdout.write(`${out.join('\n')}\n`);
  if (runs.some((r) => r.errors > 0)) process.exitCode = 1;
}

const signed = (us: number): string => `${us >= 0 ? '+' : ''}${us.toFixed(1)}`;

await runDriver(TAG, USAGE, parse, main);
