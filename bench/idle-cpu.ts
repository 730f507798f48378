// What each Tollgate gateway of bench/cpu-per-request.ts costs while no request arrives: the CPU
// its process tree (primary, worker, every thread) uses per second of idle, after start-up's
// garbage collections have settled. A timer that wakes an idle event loop costs every second,
// whatever the traffic; under a capped load the share of it that falls where the loop would
// otherwise sleep is in every CPU-per-request figure, divided by the rate.
//
//   node --import tsx bench/idle-cpu.ts [--gateways off,metrics] [--baseline-bin <other>/bin/tollgate.js]
//
// All gateways idle side by side, so a noisy neighbour touches them alike; rounds repeat the
// window and the median is printed.

import { tollgateBinArg, intArg } from './lib/args.js';
import { baselineName, GATEWAYS, type GatewaySpec } from './lib/cpu-gateways.js';
import { startFleet, stopFleet } from './lib/cpu-fleet.js';
import { armRun, log, parseFlags, runDriver, sleep, startUpstream, USAGE_TAIL } from './lib/driver.js';
import { treeCpu, TREE_CPU_RESOLUTION_MS } from './lib/process-tree-cpu.js';
import { writeRunResults } from './lib/results-file.js';
import { median } from './lib/stats.js';
import { createRunTempDir } from './lib/temp-dir.js';
import { firstColumnLeft, textTable } from './lib/text-table.js';

const TAG = 'idle-cpu';
const USAGE = `Usage: node --import tsx bench/idle-cpu.ts [options]

  --gateways <list>     Tollgate gateways of lib/cpu-gateways.ts  (default off,metrics,otlp-http-0.1,otlp-grpc-0.1)
  --settle <s>          idle seconds before the first window (start-up GC)   (default 30)
  --window <s>          seconds per measured window                          (default 30)
  --rounds <n>          windows                                              (default 3)
  --rate <req/s>        the load to express idle CPU per request at          (default 2650)
  --baseline-bin <path> also run every gateway on this build (<name>@base)
${USAGE_TAIL}`;

interface Options {
  readonly gateways: readonly GatewaySpec[];
  readonly settleSeconds: number;
  readonly windowSeconds: number;
  readonly rounds: number;
  readonly rate: number;
  readonly tollgateBin: string;
  readonly baselineBin: string | undefined;
}

function parse(argv: readonly string[]): Options | undefined {
  const v = parseFlags(argv, ['gateways', 'settle', 'window', 'rounds', 'rate', 'baseline-bin', 'tollgate-bin']);
  if (v === undefined) return undefined;
  const names = (v.gateways ?? 'off,metrics,otlp-http-0.1,otlp-grpc-0.1').split(',').filter((s) => s !== '');
  const gateways = names.map((name) => {
    const spec = GATEWAYS.find((g) => g.name === name);
    // The jwt gateway needs a signed key set of its own (cpu-per-request.ts makes one); idle, it is `off`.
    if (spec?.kind !== 'tollgate' || spec.jwt === true)
      throw new Error(`--gateways: ${name} is not one of the Tollgate gateways of lib/cpu-gateways.ts (jwt excepted)`);
    return spec;
  });
  return {
    gateways,
    settleSeconds: intArg('settle', v.settle, 30, 0),
    windowSeconds: intArg('window', v.window, 30),
    rounds: intArg('rounds', v.rounds, 3),
    rate: intArg('rate', v.rate, 2650),
    tollgateBin: tollgateBinArg(v['tollgate-bin']),
    baselineBin: v['baseline-bin'] === undefined ? undefined : tollgateBinArg(v['baseline-bin']),
  };
}

async function main(o: Options): Promise<void> {
  const startedAt = new Date();
  // Start-up and stop take well under a minute; the leash outlives the watchdog.
  const seconds = o.settleSeconds + o.rounds * (o.windowSeconds + 1) + 120;
  armRun(seconds);
  const specs = [...o.gateways];
  if (o.baselineBin !== undefined)
    specs.push(...specs.map((s) => ({ ...s, name: baselineName(s.name), bin: o.baselineBin })));
  const upstream = await startUpstream('./telemetry-upstream.ts', 1024);
  const { gateways } = await startFleet(
    {
      specs,
      bin: o.tollgateBin,
      workers: undefined,
      tempDir: createRunTempDir('tollgate-idle-cpu-'),
      upstreamPort: upstream.port,
      leashSeconds: seconds + 30,
      jwksPath: undefined,
    },
    (m) => log(`${TAG}: ${m}`),
  );
  log(`${TAG}: ${gateways.size} gateways idle; settling ${o.settleSeconds}s, then ${o.rounds} x ${o.windowSeconds}s`);
  await sleep(o.settleSeconds * 1000);
  const perSecond = new Map<string, number[]>(specs.map((s) => [s.name, []]));
  const pid = (name: string): number => gateways.get(name)?.child.process.pid ?? -1;
  for (let round = 0; round < o.rounds; round++) {
    const before = new Map(specs.map((s) => [s.name, treeCpu(pid(s.name))]));
    const t0 = performance.now();
    await sleep(o.windowSeconds * 1000);
    const elapsed = (performance.now() - t0) / 1000;
    for (const s of specs) {
      const a = before.get(s.name);
      const b = treeCpu(pid(s.name));
      if (a === undefined || b === undefined) throw new Error(`${s.name} exited while idle`);
      perSecond.get(s.name)?.push((b.ms - a.ms) / elapsed);
    }
    log(
      `${TAG}: round ${round + 1}: ${specs.map((s) => `${s.name} ${perSecond.get(s.name)?.at(-1)?.toFixed(2)}`).join(', ')} ms/s`,
    );
  }
  await stopFleet(gateways);
  const rows = specs.map((s) => {
    const values = perSecond.get(s.name) ?? [];
    const ms = median(values);
    return { gateway: s.name, msPerSecond: ms, usPerRequestAtRate: (ms * 1000) / o.rate, windows: values };
  });
  const file = await writeRunResults(TAG, startedAt, { ...o, gateways: o.gateways.map((g) => g.name) }, {}, { rows });
  process.stdout.write(
    [
      '',
      `Idle CPU of each gateway's process tree, median of ${o.rounds} window(s) of ${o.windowSeconds}s after ${o.settleSeconds}s of idle; resolution ${(TREE_CPU_RESOLUTION_MS / o.windowSeconds).toFixed(2)} ms/s`,
      '',
      ...textTable(
        ['gateway', 'ms CPU / s', `µs / request at ${o.rate} req/s`, 'windows (ms/s)'],
        rows.map((r) => [
          r.gateway,
          r.msPerSecond.toFixed(2),
          r.usPerRequestAtRate.toFixed(2),
          r.windows.map((w) => w.toFixed(2)).join(' '),
        ]),
        firstColumnLeft,
      ),
      '',
      `results written to ${file}`,
      '',
    ].join('\n'),
  );
}

await runDriver(TAG, USAGE, parse, main);
