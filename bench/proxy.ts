// Side-by-side proxy benchmark: the same GET /payload load through every
// target, one at a time, against one shared upstream.
//
//   node --import tsx bench/proxy.ts [--duration 8] [--connections 50] [--payload 1024] ...
//
// Rows: direct (upstream, no proxy), floor (thinnest undici proxy — the
// reference), tollgate (system under test), fastify, nginx, haproxy,
// fast-gateway. The headline is `tollgate/floor ratio`, whose target is >= 0.90.
// See bench/README.md for what each row means and how to read the numbers.

import { availableParallelism } from 'node:os';
import { tollgateBinArg } from './lib/args.js';
import { medianRound, type BenchRow, type RoundResult } from './lib/bench-row.js';
import { isShuttingDown, runCleanup } from './lib/cleanup.js';
import { armRun, log, runDriver, startUpstream } from './lib/driver.js';
import { haproxyTarget } from './lib/haproxy.js';
import { selectLoadGenerator } from './lib/load-generator.js';
import type { LoadGenerator, LoadOptions } from './lib/load-result.js';
import { idleBackgroundCpu, warmUp } from './lib/measure.js';
import { nginxTarget } from './lib/nginx.js';
import { fastGatewayTarget, fastifyTarget, floorTarget } from './lib/node-targets.js';
import { parseBenchOptions, USAGE, type BenchOptions } from './lib/options.js';
import { probeTarget } from './lib/probe.js';
import { formatNoiseWarning, formatRatioLine, formatTable, tollgateFloorRatio } from './lib/report.js';
import { writeRunResults } from './lib/results-file.js';
import type { RunningTarget, StartContext, TargetSpec } from './lib/target.js';
import { createRunTempDir } from './lib/temp-dir.js';
import { tollgateTarget } from './lib/tollgate.js';

/** The upstream itself, for context: the ceiling no proxy can beat. */
const directTarget: TargetSpec = {
  name: 'direct',
  description: 'the upstream hit directly, no proxy (ceiling / context)',
  start: (context) =>
    Promise.resolve({
      ok: true,
      // The upstream is owned by main(); nothing to stop here.
      running: { url: `${context.upstreamOrigin}/payload`, stop: () => Promise.resolve() },
    }),
};

/** Table order. Floor first among proxies: every ratio is relative to it. */
const ALL_TARGETS: readonly TargetSpec[] = [
  directTarget,
  floorTarget,
  tollgateTarget,
  fastifyTarget,
  nginxTarget,
  haproxyTarget,
  fastGatewayTarget,
];

/** Generous wall-clock budget: worst-case start-ups plus every load run plus slack. */
function budgetSeconds(options: BenchOptions, targetCount: number): number {
  const perRun = options.warmupSeconds + options.durationSeconds + 5;
  return 60 + targetCount * 16 + options.rounds * targetCount * perRun;
}

interface Started {
  readonly spec: TargetSpec;
  readonly running: RunningTarget;
}

async function measure(generator: LoadGenerator, options: BenchOptions, url: string): Promise<RoundResult> {
  const base: Omit<LoadOptions, 'durationSeconds'> = {
    url,
    connections: options.connections,
    threads: options.threads,
    timeoutSeconds: options.timeoutSeconds,
  };
  // Sampled first, while every bench process is idle: anything busy now is
  // foreign load. The short settle lets the previous target finish closing
  // its connections so our own tail of work is not counted.
  const backgroundCpuBusy = await idleBackgroundCpu();
  // Warm-up: lets V8 optimise the hot path and pools fill before we measure.
  await warmUp(generator, base, options.warmupSeconds);
  const load = await generator.run({ ...base, durationSeconds: options.durationSeconds });
  return { load, backgroundCpuBusyPercent: backgroundCpuBusy };
}

async function main(options: BenchOptions): Promise<void> {
  const unknown = options.targets?.filter((name) => !ALL_TARGETS.some((spec) => spec.name === name)) ?? [];
  if (unknown.length > 0) throw new Error(`unknown --targets: ${unknown.join(', ')}`);
  const specs = ALL_TARGETS.filter((spec) => options.targets?.includes(spec.name) ?? true);

  const budget = budgetSeconds(options, specs.length);
  armRun(budget);
  const startedAt = new Date();
  // Created before any child so that, cleanup running newest-first, children
  // are stopped before their config files disappear.
  const tempDir = createRunTempDir('tollgate-bench-');
  const generator = selectLoadGenerator(options.tool);

  log(
    `bench: ${generator.version}; ${options.connections} connections, ${options.threads} thread(s), ` +
      `${options.warmupSeconds}s warm-up + ${options.durationSeconds}s measured x ${options.rounds} round(s), ` +
      `${options.payloadBytes}-byte payload; ${availableParallelism()} CPU(s); budget ${budget}s`,
  );

  const upstream = await startUpstream('./upstream-server.ts', options.payloadBytes);
  const upstreamOrigin = `http://127.0.0.1:${upstream.port}`;
  log(`bench: upstream on ${upstreamOrigin}`);

  const context: StartContext = {
    upstreamOrigin,
    upstreamPort: upstream.port,
    tempDir,
    tollgateBin: tollgateBinArg(options.tollgateBin),
    nativeWorkers: options.nativeWorkers,
    leashSeconds: budget + 30,
  };

  // Start every target up front (sequentially, so start-up failures are easy
  // to attribute and free-port picks cannot race each other). Idle targets
  // cost nothing while another one is under load.
  const started: Started[] = [];
  const unavailable = new Map<string, string>();
  for (const spec of specs) {
    if (isShuttingDown()) return;
    const result = await spec.start(context);
    if (isShuttingDown()) return;
    if (!result.ok) {
      unavailable.set(spec.name, result.reason);
      log(`bench: ${spec.name}: unavailable — ${result.reason}`);
      continue;
    }
    const problem = await probeTarget(result.running.url, options.payloadBytes);
    if (problem !== undefined) {
      unavailable.set(spec.name, problem);
      log(`bench: ${spec.name}: unavailable — ${problem}`);
      await result.running.stop();
      continue;
    }
    started.push({ spec, running: result.running });
    log(`bench: ${spec.name}: ready at ${result.running.url}`);
  }

  // Rounds interleave targets (rotating the order each round) so slow drift
  // in machine state — thermal, page cache, other tenants — spreads across
  // targets instead of landing on whichever ran last.
  const rounds = new Map<string, RoundResult[]>();
  for (let round = 0; round < options.rounds; round++) {
    const shift = started.length === 0 ? 0 : round % started.length;
    const order = [...started.slice(shift), ...started.slice(0, shift)];
    for (const { spec, running } of order) {
      if (isShuttingDown()) return;
      if (unavailable.has(spec.name)) continue;
      log(`bench: round ${round + 1}/${options.rounds}: ${spec.name}...`);
      try {
        const result = await measure(generator, options, running.url);
        rounds.set(spec.name, [...(rounds.get(spec.name) ?? []), result]);
        log(
          `bench:   ${Math.round(result.load.requestsPerSecond)} req/s, p99 ${result.load.latencyMs.p99.toFixed(2)} ms` +
            ` (background CPU before: ${result.backgroundCpuBusyPercent.toFixed(0)}%)`,
        );
      } catch (error) {
        // An interrupt kills the load generator mid-run; that is not a target failure.
        if (isShuttingDown()) return;
        const reason = `load run failed: ${error instanceof Error ? error.message : String(error)}`;
        unavailable.set(spec.name, reason);
        log(`bench: ${spec.name}: ${reason}`);
      }
    }
  }

  await runCleanup();

  const floorRps = (() => {
    const floorRounds = rounds.get('floor');
    return floorRounds === undefined || unavailable.has('floor')
      ? null
      : medianRound(floorRounds.map((round) => round.load)).requestsPerSecond;
  })();
  const rows: BenchRow[] = specs.map((spec) => {
    const reason = unavailable.get(spec.name);
    const measured = rounds.get(spec.name);
    const running = started.find((entry) => entry.spec === spec)?.running;
    if (reason !== undefined || measured === undefined || running === undefined) {
      return {
        name: spec.name,
        description: spec.description,
        status: 'unavailable',
        reason: reason ?? 'not measured',
      };
    }
    const result = medianRound(measured.map((round) => round.load));
    return {
      name: spec.name,
      description: spec.description,
      status: 'ok',
      url: running.url,
      ...(running.detail !== undefined ? { detail: running.detail } : {}),
      result,
      rounds: measured,
      maxBackgroundCpuBusyPercent: Math.max(...measured.map((round) => round.backgroundCpuBusyPercent)),
      ratioVsFloor: floorRps === null || floorRps === 0 ? null : result.requestsPerSecond / floorRps,
    };
  });

  process.stdout.write(
    `\nProxy benchmark — GET /payload (${options.payloadBytes} B), ${options.connections} connections, ` +
      `${options.durationSeconds}s x ${options.rounds} round(s), ${generator.name}\n\n`,
  );
  process.stdout.write(`${formatTable(rows)}\n\n${formatRatioLine(rows)}\n`);
  const noise = formatNoiseWarning(rows);
  if (noise !== undefined) process.stdout.write(`${noise}\n`);

  const file = await writeRunResults(
    'proxy',
    startedAt,
    options,
    { loadGenerator: generator.version },
    {
      upstream: { origin: upstreamOrigin, payloadBytes: options.payloadBytes },
      tollgateFloorRatio: tollgateFloorRatio(rows),
      rows,
    },
  );
  process.stdout.write(`\nresults written to ${file}\n`);
}

await runDriver('bench', USAGE, parseBenchOptions, main);
