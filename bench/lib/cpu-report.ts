// Per-variant summary and the printed table of bench/cpu-per-request.ts:
// CPU µs per request (the median over rounds, with the spread), the ratios
// against telemetry off and against metrics only, and what the OTLP sinks
// received.

import type { Variant } from './cpu-gateways.js';
import { median, medianInterval, type Interval } from './stats.js';
import { textTable } from './text-table.js';

export interface SinkDelta {
  /** Export requests of the trace signal. */
  readonly exports: number;
  readonly spans: number;
  readonly bytes: number;
  readonly malformed: number;
}

export interface CpuRun {
  readonly round: number;
  readonly variant: string;
  /** Variants loaded at the same time as this one (`--side-by-side`); empty when it ran alone. */
  readonly besides: readonly string[];
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly p99Ms: number;
  /** CPU time of the gateway's process tree from the start of the measured load to the end of the settle. */
  readonly cpuMs: number;
  readonly usPerRequest: number;
  /** Of usPerRequest, what the processes' main threads (event loops) spent; the rest is GC, JIT and libuv pool threads. */
  readonly mainThreadUsPerRequest: number;
  /**
   * Of usPerRequest, the busiest process's (all its threads): the worker serving the requests in a
   * cluster; the rest is the primary's and the leash's. Absent from results written before it was kept.
   */
  readonly busiestProcessUsPerRequest?: number;
  /** Of usPerRequest, user-mode time; the rest is the kernel's (mostly socket I/O, which varies with scheduling). */
  readonly userUsPerRequest: number;
  /** The upstream's CPU per request served in the same window (all gateways loaded then): the machine's speed. */
  readonly upstreamUsPerRequest: number | undefined;
  /** Processes in the measured tree (leash wrapper, primary, workers). */
  readonly processes: number;
  readonly backgroundCpuBusyPercent: number;
  readonly foreignDuringPercent: number | undefined;
  readonly sink: SinkDelta | undefined;
}

export type { Interval } from './stats.js';

export interface VariantSummary {
  readonly variant: string;
  readonly description: string;
  readonly rounds: number;
  readonly requestsMedian: number;
  readonly requestsPerSecondMedian: number;
  readonly usPerRequestMedian: number;
  readonly usPerRequestMin: number;
  readonly usPerRequestMax: number;
  /** Median of the main threads' µs/request (CpuRun.mainThreadUsPerRequest). */
  readonly mainThreadUsPerRequestMedian: number;
  /** Median µs/request ÷ the vsOff variant's; undefined without one. */
  readonly vsOff: number | undefined;
  /** Median of the per-round ratios against vsOff (robust to drift between rounds). */
  readonly vsOffPaired: number | undefined;
  /** 95 % confidence interval of that median (order statistics; none below 6 rounds). */
  readonly vsOffInterval: Interval | undefined;
  readonly vsMetrics: number | undefined;
  readonly vsMetricsPaired: number | undefined;
  readonly vsMetricsInterval: Interval | undefined;
  readonly errors: number;
  readonly non2xx: number;
  /** Summed over the measured windows of every round. */
  readonly sink: (SinkDelta & { readonly spansPerRequest: number }) | undefined;
}

/**
 * The run of `to` that `r` is compared with: the one loaded at the same time as `r` when they ran side
 * by side, else the one of the same round.
 */
export function partnerRun(runs: readonly CpuRun[], r: CpuRun, to: string): CpuRun | undefined {
  const same = runs.filter((x) => x.variant === to && x.round === r.round);
  return same.find((x) => r.besides.includes(to) && x.besides.includes(r.variant)) ?? same[0];
}

/** Per round, `combine` of `value` of `of`'s run and of its partner run of `to` (partnerRun); NaN values are skipped. */
function paired(
  runs: readonly CpuRun[],
  of: string,
  to: string,
  combine: (a: number, b: number) => number,
  value: (r: CpuRun) => number = (r) => r.usPerRequest,
): number[] {
  return runs.flatMap((r) => {
    const d = r.variant === of ? partnerRun(runs, r, to) : undefined;
    const c = d === undefined ? NaN : combine(value(r), value(d));
    return Number.isNaN(c) ? [] : [c];
  });
}

/** Per round, `of`'s µs/request − its partner run of `to`'s. */
export function pairedDifferences(runs: readonly CpuRun[], of: string, to: string): number[] {
  return paired(runs, of, to, (a, b) => a - b);
}

/** Per round, `of`'s µs/request ÷ its partner run of `to`'s. */
export function pairedRatios(runs: readonly CpuRun[], of: string, to: string): number[] {
  return paired(runs, of, to, (a, b) => a / b);
}

/**
 * Per round, `of`'s µs/request ÷ its partner run of `to`'s, each first divided by the upstream's µs/request
 * of its own window: how fast the machine ran then. Fair only at a capped rate (`--rate`), where every
 * variant sends the upstream the same rate; at saturation a dearer gateway sends fewer requests per second,
 * which makes each of the upstream's dearer too. Empty without the upstream's figures.
 */
export function upstreamNormalizedRatios(runs: readonly CpuRun[], of: string, to: string): number[] {
  return paired(
    runs,
    of,
    to,
    (a, b) => a / b,
    (r) => r.usPerRequest / (r.upstreamUsPerRequest ?? NaN),
  );
}

export function ratio(
  runs: readonly CpuRun[],
  of: string,
  to: string | undefined,
): { ratio: number | undefined; paired: number | undefined; interval: Interval | undefined } {
  const den = runs.filter((r) => r.variant === to);
  if (to === undefined || den.length === 0) return { ratio: undefined, paired: undefined, interval: undefined };
  const num = runs.filter((r) => r.variant === of);
  const pairs = pairedRatios(runs, of, to);
  return {
    ratio: median(num.map((r) => r.usPerRequest)) / median(den.map((r) => r.usPerRequest)),
    paired: pairs.length === 0 ? undefined : median(pairs),
    interval: medianInterval(pairs),
  };
}

export function summarize(variants: readonly Variant[], runs: readonly CpuRun[]): VariantSummary[] {
  return variants.flatMap((v) => {
    const own = runs.filter((r) => r.variant === v.name);
    if (own.length === 0) return [];
    const us = own.map((r) => r.usPerRequest);
    const off = ratio(runs, v.name, v.vsOff);
    const metrics = ratio(runs, v.name, v.vsMetrics);
    const sinks = own.flatMap((r) => (r.sink === undefined ? [] : [r.sink]));
    const requests = own.reduce((n, r) => n + r.requests, 0);
    const total = (k: keyof SinkDelta): number => sinks.reduce((n, s) => n + s[k], 0);
    return [
      {
        variant: v.name,
        description: v.description,
        rounds: own.length,
        requestsMedian: median(own.map((r) => r.requests)),
        requestsPerSecondMedian: median(own.map((r) => r.requestsPerSecond)),
        usPerRequestMedian: median(us),
        usPerRequestMin: Math.min(...us),
        usPerRequestMax: Math.max(...us),
        mainThreadUsPerRequestMedian: median(own.map((r) => r.mainThreadUsPerRequest)),
        vsOff: off.ratio,
        vsOffPaired: off.paired,
        vsOffInterval: off.interval,
        vsMetrics: metrics.ratio,
        vsMetricsPaired: metrics.paired,
        vsMetricsInterval: metrics.interval,
        errors: own.reduce((n, r) => n + r.errors, 0),
        non2xx: own.reduce((n, r) => n + r.non2xx, 0),
        sink:
          sinks.length === 0
            ? undefined
            : {
                exports: total('exports'),
                spans: total('spans'),
                bytes: total('bytes'),
                malformed: total('malformed'),
                spansPerRequest: total('spans') / requests,
              },
      },
    ];
  });
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const r3 = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? '' : n.toFixed(3));

export function formatTable(summaries: readonly VariantSummary[]): string[] {
  const header = [
    'variant',
    'requests',
    'req/s',
    'CPU µs/req',
    'rounds min..max',
    'main threads',
    'vs off (paired)',
    'vs metrics (paired)',
    'errors/non-2xx',
    'sink: exports, spans (per req), KiB',
  ];
  const rows = summaries.map((s) => [
    s.variant,
    int(s.requestsMedian),
    int(s.requestsPerSecondMedian),
    s.usPerRequestMedian.toFixed(1),
    `${s.usPerRequestMin.toFixed(1)}..${s.usPerRequestMax.toFixed(1)}`,
    s.mainThreadUsPerRequestMedian.toFixed(1),
    s.vsOff === undefined ? '' : `${r3(s.vsOff)} (${r3(s.vsOffPaired)})`,
    s.vsMetrics === undefined ? '' : `${r3(s.vsMetrics)} (${r3(s.vsMetricsPaired)})`,
    `${s.errors}/${s.non2xx}`,
    s.sink === undefined
      ? ''
      : `${int(s.sink.exports)}, ${int(s.sink.spans)} (${s.sink.spansPerRequest.toFixed(2)}), ${int(s.sink.bytes / 1024)}${s.sink.malformed > 0 ? `, ${s.sink.malformed} malformed` : ''}`,
  ]);
  return textTable(header, rows, (c, cols) => c === 0 || c === cols - 1);
}
