// One measured load run of bench/cpu-per-request.ts (and bench/sampled-cost.ts): a warm-up and a
// settle, then the CPU time of each loaded gateway's process tree over the load and a settle that lets
// the span batcher export what the load produced, divided by the requests its wrk completed; plus
// what the gateway's trace sink received in that window.

import type { Gateway } from './cpu-fleet.js';
import type { Variant } from './cpu-gateways.js';
import type { CpuRun, SinkDelta } from './cpu-report.js';
import { sleep } from './driver.js';
import { startTreeForeignLoadMeter } from './foreign-load.js';
import type { LoadGenerator, LoadOptions, LoadResult } from './load-result.js';
import { idleBackgroundCpu, warmUp } from './measure.js';
import type { OtlpSinkCounts } from './otlp-sink.js';
import { busiestProcessMs, treeCpu } from './process-tree-cpu.js';

export interface MeasureOptions {
  readonly connections: number;
  readonly threads: number;
  readonly timeoutSeconds: number;
  /** Unmeasured load before each measured run (0: none). */
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
  /** The gateways' OTEL_BSP_SCHEDULE_DELAY: the settle is this + 500 ms. */
  readonly batchDelayMs: number;
  /** The upstream server's pid: its CPU per request, the same work in every variant, tells how fast the machine ran. */
  readonly upstreamPid?: number | undefined;
}

/** The wait after a warm-up and after a measured load: the batcher's delay, and 500 ms for its export to land. */
export function settleMs(batchDelayMs: number): number {
  return batchDelayMs + 500;
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

/** One variant on its gateway, within one measured run. */
export interface Entry {
  readonly variant: Variant;
  readonly gw: Gateway;
}

/**
 * One measured run of one variant, or of several at the same time (`--side-by-side`): warm-up,
 * settle, then each gateway's tree CPU over (load + settle) ÷ the requests its own wrk completed.
 */
export async function measure(
  generator: LoadGenerator,
  options: MeasureOptions,
  entries: readonly Entry[],
  round: number,
): Promise<CpuRun[]> {
  const base = (e: Entry): Omit<LoadOptions, 'durationSeconds'> => ({
    url: `${e.gw.origin}${e.variant.path}`,
    connections: options.connections,
    threads: options.threads,
    timeoutSeconds: options.timeoutSeconds,
    headers: e.variant.headers,
  });
  const settle = settleMs(options.batchDelayMs);
  const pid = (e: Entry): number => e.gw.child.process.pid ?? -1;
  const busy = await idleBackgroundCpu();
  if (options.warmupSeconds > 0) {
    const warm = await Promise.all(entries.map((e) => warmUp(generator, base(e), options.warmupSeconds)));
    entries.forEach((e, i) => (e.gw.served += warm[i] as number));
    await sleep(settle);
  }
  const sink0 = await Promise.all(entries.map((e) => e.gw.sink?.counts()));
  const cpu0 = entries.map((e) => treeCpu(pid(e)));
  const upstream0 = options.upstreamPid === undefined ? undefined : treeCpu(options.upstreamPid);
  const foreign = startTreeForeignLoadMeter();
  const loads = await Promise.all(
    entries.map((e) => generator.run({ ...base(e), durationSeconds: options.durationSeconds })),
  );
  // The span batcher exports at most batch-delay after the last request: wait for it so the spans are charged to this run.
  await sleep(settle);
  const cpu1 = entries.map((e) => treeCpu(pid(e)));
  const upstream1 = options.upstreamPid === undefined ? undefined : treeCpu(options.upstreamPid);
  const allRequests = loads.reduce((n, l) => n + l.requests, 0);
  const upstreamUsPerRequest =
    upstream0 === undefined || upstream1 === undefined || allRequests === 0
      ? undefined
      : ((upstream1.ms - upstream0.ms) * 1000) / allRequests;
  const foreignDuringPercent = foreign();
  const sink1 = await Promise.all(entries.map((e) => e.gw.sink?.counts()));
  return entries.map((e, i) => {
    const before = cpu0[i];
    const after = cpu1[i];
    const load = loads[i] as LoadResult;
    if (before === undefined || after === undefined)
      throw new Error(`${e.gw.spec.name} (pid ${pid(e)}) is gone: ${e.gw.child.stderrTail().slice(-400)}`);
    e.gw.served += load.requests;
    const cpuMs = after.ms - before.ms;
    const perRequest = (ms: number): number => (load.requests === 0 ? NaN : (ms * 1000) / load.requests);
    return {
      round,
      variant: e.variant.name,
      besides: entries.filter((x) => x !== e).map((x) => x.variant.name),
      requests: load.requests,
      requestsPerSecond: load.requestsPerSecond,
      errors: load.errors,
      non2xx: load.non2xx,
      p99Ms: load.latencyMs.p99,
      cpuMs,
      usPerRequest: perRequest(cpuMs),
      mainThreadUsPerRequest: perRequest(after.mainThreadMs - before.mainThreadMs),
      busiestProcessUsPerRequest: perRequest(busiestProcessMs(before, after)),
      userUsPerRequest: perRequest(after.userMs - before.userMs),
      upstreamUsPerRequest,
      processes: after.processes,
      backgroundCpuBusyPercent: busy,
      foreignDuringPercent,
      sink: sinkDelta(sink0[i], sink1[i]),
    };
  });
}
