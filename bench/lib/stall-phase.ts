// One phase of bench/scrape-stall.ts: rate-capped wrk in the background, the probe (sequential GETs
// on one keep-alive connection, one every intervalMs, each timed), and in the scraped phase the
// scraper; the probe's latency summary, its slow probes lined up with the scrapes, and the
// gateway's CPU during the phase.

import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Client } from 'undici';
import { isShuttingDown } from './cleanup.js';
import { sleep } from './driver.js';
import { CLOCK_TICKS_PER_SECOND, startTreeForeignLoadMeter } from './foreign-load.js';
import type { LoadResult } from './load-result.js';
import { cpuTicks, nodeChildren } from './otlp-bench-util.js';
import type { Scraper, ScrapeTargetResult } from './stall-scraper.js';
import { quantileSorted } from './stats.js';
import { parseWrkOutput } from './wrk-output.js';
import { spawnWrk } from './wrk.js';

/** Probe latency thresholds counted per phase, ms. */
export const SLOW_MS = [5, 10] as const;

export const endpointPath = (i: number): string => `/e${String(i).padStart(2, '0')}`;

/** What a phase needs of the driver's options. */
export interface PhaseOptions {
  readonly connections: number;
  readonly phaseSeconds: number;
  readonly intervalMs: number;
}

/** Epoch ms with sub-ms precision, comparable between the driver and the scraper process. */
const epochNow = (): number => performance.timeOrigin + performance.now();

/** Starts a meter of the CPU used by the primary and by all its workers, in % of one core. */
function startGatewayCpuMeter(primary: number | undefined): () => { primary: number; workers: number } | undefined {
  if (primary === undefined) return () => undefined;
  const ticks = (): [number, number] => [
    cpuTicks(primary) ?? 0,
    nodeChildren(primary).reduce((n, p) => n + (cpuTicks(p) ?? 0), 0),
  ];
  const [p0, w0] = ticks();
  const t0 = performance.now();
  return () => {
    const [p1, w1] = ticks();
    const seconds = (performance.now() - t0) / 1000;
    const pct = (t: number): number => Math.round((1000 * t) / CLOCK_TICKS_PER_SECOND / seconds) / 10;
    return { primary: pct(p1 - p0), workers: pct(w1 - w0) };
  };
}

/** Share (0–100) of [from, to] covered by the union of the intervals. */
function busyPercent(intervals: readonly (readonly [number, number])[], from: number, to: number): number {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  let covered = 0;
  let reach = from;
  for (const [a, b] of sorted) {
    const start = Math.max(a, reach);
    const end = Math.min(b, to);
    if (end > start) covered += end - start;
    reach = Math.max(reach, b);
  }
  return to > from ? Math.round((1000 * covered) / (to - from)) / 10 : 0;
}

// ---------------------------------------------------------------------------------------------
// The scraper: a child process, so that receiving a few hundred KB 20 times a second never runs
// on the event loop that times the probe.

// The probe: sequential GETs on one keep-alive connection, one every intervalMs.

interface ProbeRun {
  readonly latenciesMs: Float64Array;
  /** Epoch ms at which each probe was sent. */
  readonly sentAt: Float64Array;
  readonly count: number;
  /** Ticks skipped because the previous probe was still out. */
  readonly missedTicks: number;
  readonly errors: number;
  readonly lastError?: string | undefined;
  /** The driver's own event-loop delay p99 (ms): what the probe's timer itself suffered. */
  readonly driverLoopP99Ms: number;
}

export async function runProbe(client: Client, path: string, seconds: number, intervalMs: number): Promise<ProbeRun> {
  const capacity = Math.ceil((seconds * 1000) / intervalMs) + 16;
  const latenciesMs = new Float64Array(capacity);
  const sentAt = new Float64Array(capacity);
  let count = 0;
  let missedTicks = 0;
  let errors = 0;
  let lastError: string | undefined;
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let next = t0;
  while (count < capacity && !isShuttingDown()) {
    const wait = next - performance.now();
    if (wait >= 1) await sleep(wait);
    const start = performance.now();
    if (start >= end) break;
    try {
      const res = await client.request({ path, method: 'GET', headersTimeout: 5000, bodyTimeout: 5000 });
      await res.body.arrayBuffer();
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
    } catch (error) {
      errors++;
      lastError = error instanceof Error ? error.message : String(error);
    }
    const now = performance.now();
    latenciesMs[count] = now - start;
    sentAt[count] = performance.timeOrigin + start;
    count++;
    next += intervalMs;
    if (next < now) {
      missedTicks += Math.floor((now - next) / intervalMs);
      next = now;
    }
  }
  loopDelay.disable();
  return {
    latenciesMs,
    sentAt,
    count,
    missedTicks,
    errors,
    lastError,
    driverLoopP99Ms: loopDelay.percentile(99) / 1e6,
  };
}

export interface LatencySummary {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export function summarize(values: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  return {
    n: sorted.length,
    p50: quantileSorted(sorted, 0.5),
    p99: quantileSorted(sorted, 0.99),
    p999: quantileSorted(sorted, 0.999),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

export interface PhaseResult {
  readonly round: number;
  readonly scraped: boolean;
  readonly probe: LatencySummary & {
    readonly slow: Record<string, number>;
    readonly missedTicks: number;
    readonly errors: number;
    readonly lastError?: string | undefined;
    readonly driverLoopP99Ms: number;
  };
  /** Probes slower than the first SLOW_MS threshold whose time overlapped a scrape (scraped phase only). */
  readonly slowDuringScrape?: { readonly slow: number; readonly overlapping: number };
  /** Share of the phase during which at least one scrape was in flight (scraped phase only). */
  readonly scrapeBusyPercent?: number;
  /** CPU of the gateway during the phase, % of one core. */
  readonly gatewayCpu: { readonly primary: number; readonly workers: number } | undefined;
  readonly slowest: { readonly tSeconds: number; readonly ms: number }[];
  readonly scrapes?: {
    readonly name: string;
    readonly latency: LatencySummary;
    readonly errors: number;
    readonly lastError?: string | undefined;
    readonly bodyBytes: number;
  }[];
  readonly wrk?: LoadResult;
  readonly wrkError?: string;
  readonly foreignCpuPercent: number | undefined;
}

/** How many of the probes slower than `thresholdMs` overlapped any scrape interval. */
function overlapWithScrapes(
  probe: ProbeRun,
  scrapes: readonly ScrapeTargetResult[],
  thresholdMs: number,
): { slow: number; overlapping: number } {
  const intervals = scrapes.flatMap((s) => s.intervals).sort((a, b) => a[0] - b[0]);
  let slow = 0;
  let overlapping = 0;
  for (let i = 0; i < probe.count; i++) {
    const ms = probe.latenciesMs[i] as number;
    if (ms <= thresholdMs) continue;
    slow++;
    const from = probe.sentAt[i] as number;
    const to = from + ms;
    if (intervals.some(([a, b]) => a < to && b > from)) overlapping++;
  }
  return { slow, overlapping };
}

export interface PhaseContext {
  readonly options: PhaseOptions;
  readonly wrkBin: string;
  readonly script: string;
  readonly origin: string;
  readonly probeClient: Client;
  readonly scraper: Scraper;
  readonly primaryPid: number | undefined;
}

/** A phase's result, and its raw probe latencies (kept out of the JSON file) for the pooled quantiles. */
export interface MeasuredPhase {
  readonly result: PhaseResult;
  readonly latenciesMs: Float64Array;
}

export async function runPhase(ctx: PhaseContext, round: number, scraped: boolean): Promise<MeasuredPhase> {
  const { options } = ctx;
  const foreign = startTreeForeignLoadMeter();
  // wrk runs 1 s before and after the probe, so the probe never sees wrk connecting or stopping.
  const wrk = spawnWrk(
    ctx.wrkBin,
    {
      url: ctx.origin,
      threads: 1,
      connections: options.connections,
      durationSeconds: options.phaseSeconds + 2,
      timeoutSeconds: 5,
      script: ctx.script,
    },
    20_000,
  );
  const wrkSettled = wrk.stdout.then(parseWrkOutput).then(
    (r) => ({ ok: true as const, r }),
    (error: unknown) => ({ ok: false as const, error: error instanceof Error ? error.message : String(error) }),
  );
  await sleep(1000);
  if (scraped) ctx.scraper.start();
  const t0 = epochNow();
  const cpu = startGatewayCpuMeter(ctx.primaryPid);
  const probe = await runProbe(ctx.probeClient, endpointPath(0), options.phaseSeconds, options.intervalMs);
  const gatewayCpu = cpu();
  const t1 = epochNow();
  const scrapes = scraped ? await ctx.scraper.stop() : undefined;
  const wrkOutcome = await wrkSettled;
  const foreignCpuPercent = foreign();

  const values = probe.latenciesMs.subarray(0, probe.count);
  const slow: Record<string, number> = {};
  for (const threshold of SLOW_MS) slow[`>${threshold}ms`] = values.reduce((n, v) => (v > threshold ? n + 1 : n), 0);
  const order = Array.from({ length: probe.count }, (_, i) => i).sort(
    (a, b) => (values[b] as number) - (values[a] as number),
  );
  const slowest = order.slice(0, 10).map((i) => ({
    tSeconds: Math.round(((probe.sentAt[i] as number) - t0) / 10) / 100,
    ms: Math.round((values[i] as number) * 1000) / 1000,
  }));
  const result: PhaseResult = {
    round,
    scraped,
    probe: {
      ...summarize(values),
      slow,
      missedTicks: probe.missedTicks,
      errors: probe.errors,
      lastError: probe.lastError,
      driverLoopP99Ms: probe.driverLoopP99Ms,
    },
    ...(scrapes === undefined
      ? {}
      : {
          slowDuringScrape: overlapWithScrapes(probe, scrapes, SLOW_MS[0]),
          scrapeBusyPercent: busyPercent(
            scrapes.flatMap((s) => s.intervals),
            t0,
            t1,
          ),
        }),
    gatewayCpu,
    slowest,
    ...(scrapes === undefined
      ? {}
      : {
          scrapes: scrapes.map((s) => ({
            name: s.name,
            latency: summarize(s.latenciesMs),
            errors: s.errors,
            lastError: s.lastError,
            bodyBytes: s.lastBodyBytes,
          })),
        }),
    ...(wrkOutcome.ok ? { wrk: wrkOutcome.r } : { wrkError: wrkOutcome.error }),
    foreignCpuPercent,
  };
  return { result, latenciesMs: values };
}
