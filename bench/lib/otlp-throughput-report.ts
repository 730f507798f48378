// The report of bench/otlp-throughput.ts: per endpoint and mode the median round, the ratios against
// off (and the per-round paired ratios) with their targets, and the export evidence: what each
// sink received against what its gateway says it exported.

import { medianRound, type ModeRun } from './bench-row.js';
import { fmtInt } from './format.js';
import type { LoadResult } from './load-result.js';
import { noiseWarnings } from './noise-report.js';
import { sumSamples } from './otlp-bench-util.js';
import type { OtlpSinkCounts } from './otlp-sink.js';
import { checkLines, textTable } from './text-table.js';

export const MODES = ['off', 'rate1', 'rate0.1'] as const;
export type Mode = (typeof MODES)[number];
/** Minimum req/s ratio against off for each OTLP mode. */
export const TARGETS: Readonly<Record<Exclude<Mode, 'off'>, number>> = { rate1: 0.85, 'rate0.1': 0.95 };
export const OTLP_MODES = ['rate1', 'rate0.1'] as const;

export interface SinkDelta {
  readonly traceRequests: number;
  readonly spans: number;
  readonly traceBytes: number;
  readonly metricRequests: number;
}

export function sinkDelta(a: OtlpSinkCounts, b: OtlpSinkCounts): SinkDelta {
  return {
    traceRequests: b.traces.requests - a.traces.requests,
    spans: b.traces.items - a.traces.items,
    traceBytes: b.traces.bytes - a.traces.bytes,
    metricRequests: b.metrics.requests - a.metrics.requests,
  };
}

export interface OtlpRun extends ModeRun<Mode> {
  /** Busy % of each CPU during the measured run (cpu1 = the gateway's core when pinned). */
  readonly perCpuBusyPercent: Record<string, number>;
  /** What this mode's sink received from the start of the warm-up to the end of the measured run. */
  readonly sink: SinkDelta | undefined;
}

export interface ReportOptions {
  readonly endpoints: readonly { readonly name: string; readonly path: string }[];
  readonly connections: number;
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
  readonly rounds: number;
  readonly payloadBytes: number;
  /** The load generator's name. */
  readonly generator: string;
  readonly pinned: boolean;
}

interface Check {
  readonly label: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface OtlpReport {
  readonly out: string[];
  readonly summary: Record<string, Record<string, unknown>>;
  readonly exportSummary: Record<string, unknown>;
  readonly checks: Check[];
  readonly verdicts: { label: string; ratio: number; target: number; ok: boolean }[];
}

/** `finalCounts`, `scrapes`: each OTLP mode's sink counts and gateway /metrics after the final drain. */
export function reportOtlpThroughput(
  options: ReportOptions,
  runs: readonly OtlpRun[],
  discarded: readonly OtlpRun[],
  finalCounts: ReadonlyMap<Mode, OtlpSinkCounts>,
  scrapes: ReadonlyMap<Mode, string>,
): OtlpReport {
  const out: string[] = [];
  out.push(
    '',
    `OTLP throughput — off vs OTLP gRPC metrics+traces at trace_sample_rate 1 and 0.1; ${options.connections} connections, ` +
      `${options.warmupSeconds}s warm-up + ${options.durationSeconds}s x ${options.rounds} round(s), ${options.generator}, ${options.payloadBytes}-byte payloads, ` +
      `${options.pinned ? 'gateways pinned to CPU 1' : 'not pinned'}`,
    '',
  );
  const header = [
    'endpoint',
    'mode',
    'req/s (median)',
    'per round',
    'p50 ms',
    'p99 ms',
    'errors/non-2xx',
    'gateway CPU',
    'foreign CPU',
    'vs off',
    'target',
  ];
  const rows: string[][] = [];
  const summary: Record<string, Record<string, unknown>> = {};
  const verdicts: { label: string; ratio: number; target: number; ok: boolean }[] = [];
  for (const ep of options.endpoints) {
    const of = (mode: Mode): OtlpRun[] => runs.filter((r) => r.endpoint === ep.name && r.mode === mode);
    const med = (mode: Mode): LoadResult => medianRound(of(mode).map((r) => r.result.load));
    const off = med('off');
    const perMode: Record<string, unknown> = {};
    for (const mode of MODES) {
      const m = med(mode);
      const ratio = m.requestsPerSecond / off.requestsPerSecond;
      const paired = of(mode).map(
        (r) =>
          r.result.load.requestsPerSecond /
          (of('off').find((o) => o.round === r.round)?.result.load.requestsPerSecond ?? NaN),
      );
      const pairedMedian = [...paired].sort((a, b) => a - b)[Math.floor((paired.length - 1) / 2)] ?? NaN;
      const errors = of(mode).reduce((n, r) => n + r.result.load.errors, 0);
      const non2xx = of(mode).reduce((n, r) => n + r.result.load.non2xx, 0);
      const target = mode === 'off' ? undefined : TARGETS[mode];
      if (target !== undefined) verdicts.push({ label: `${mode}/off ${ep.path}`, ratio, target, ok: ratio >= target });
      rows.push([
        mode === 'off' ? ep.path : '',
        mode,
        fmtInt(m.requestsPerSecond),
        of(mode)
          .map((r) => fmtInt(r.result.load.requestsPerSecond))
          .join(' / '),
        m.latencyMs.p50.toFixed(2),
        m.latencyMs.p99.toFixed(2),
        `${errors}/${non2xx}`,
        of(mode)
          .map((r) =>
            r.perCpuBusyPercent['cpu1'] === undefined ? 'n/a' : `${Math.round(r.perCpuBusyPercent['cpu1'])}%`,
          )
          .join(' / '),
        of(mode)
          .map((r) => (r.foreignDuringPercent === undefined ? 'n/a' : `${Math.round(r.foreignDuringPercent)}%`))
          .join(' / '),
        mode === 'off' ? '' : `${ratio.toFixed(3)} (paired ${pairedMedian.toFixed(3)})`,
        target === undefined ? '' : `>= ${target.toFixed(2)} ${ratio >= target ? 'ok' : 'MISSED'}`,
      ]);
      perMode[mode] = {
        rps: m.requestsPerSecond,
        p50Ms: m.latencyMs.p50,
        p99Ms: m.latencyMs.p99,
        ratioVsOff: ratio,
        pairedRatios: paired,
        pairedMedian,
        target,
        meetsTarget: target === undefined ? undefined : ratio >= target,
      };
    }
    summary[ep.name] = perMode;
  }
  out.push(...textTable(header, rows, (c, cols) => c <= 1 || c >= cols - 2), '');
  if (options.pinned)
    out.push(
      "gateway CPU = busy share of CPU 1 (the gateways' core) during each measured run; ~100% means the gateway was the bottleneck.",
      '',
    );
  for (const v of verdicts) {
    out.push(
      `ratio ${v.label}: ${v.ratio.toFixed(3)}  (${((1 - v.ratio) * 100).toFixed(1)}% throughput cost; target >= ${v.target.toFixed(2)}: ${v.ok ? 'met' : 'MISSED'})`,
    );
  }

  // Export evidence: what each sink received, against what its gateway says it did.
  out.push('', 'OTLP export (whole run, incl. warm-ups, probes and idle time; counted after a 6 s drain):');
  const checks: { label: string; ok: boolean; detail: string }[] = [];
  const exportSummary: Record<string, unknown> = {};
  for (const mode of OTLP_MODES) {
    const c = finalCounts.get(mode) as OtlpSinkCounts;
    const text = scrapes.get(mode) as string;
    const exported = sumSamples(text, 'tollgate_telemetry_spans_total', ['outcome="exported"']).sum;
    const dropped = sumSamples(text, 'tollgate_telemetry_spans_total', ['outcome="dropped"']).sum;
    const failed = sumSamples(text, 'tollgate_telemetry_spans_total', ['outcome="failed"']).sum;
    const pushesOk = sumSamples(text, 'tollgate_telemetry_metric_pushes_total', ['outcome="exported"']).sum;
    const pushesFailed = sumSamples(text, 'tollgate_telemetry_metric_pushes_total', ['outcome="failed"']).sum;
    const pushesSkipped = sumSamples(text, 'tollgate_telemetry_metric_pushes_total', ['outcome="skipped"']).sum;
    const served = sumSamples(text, 'http_server_duration_count').sum;
    const generated = exported + dropped + failed;
    out.push(
      `  ${mode.padEnd(7)} sink: ${fmtInt(c.traces.requests)} trace Export requests (${fmtInt(c.traces.items)} spans, ${(c.traces.bytes / 1024 / 1024).toFixed(1)} MiB), ` +
        `${fmtInt(c.metrics.requests)} metric Export requests (${fmtInt(c.metrics.items)} metrics, ${(c.metrics.bytes / 1024 / 1024).toFixed(2)} MiB), malformed ${c.traces.malformed + c.metrics.malformed}`,
      `  ${''.padEnd(7)} gateway: ${fmtInt(served)} requests served; spans exported ${fmtInt(exported)}, dropped ${fmtInt(dropped)}, failed ${fmtInt(failed)} ` +
        `(${served > 0 ? (generated / served).toFixed(2) : 'n/a'} sampled spans/request); metric pushes exported ${fmtInt(pushesOk)}, failed ${fmtInt(pushesFailed)}, skipped ${fmtInt(pushesSkipped)}`,
    );
    exportSummary[mode] = {
      sink: c,
      gateway: {
        served,
        spansExported: exported,
        spansDropped: dropped,
        spansFailed: failed,
        pushesExported: pushesOk,
        pushesFailed,
        pushesSkipped,
      },
    };
    checks.push({
      label: `${mode}: sink received trace exports`,
      ok: c.traces.requests > 0 && c.traces.items > 0,
      detail: `${fmtInt(c.traces.requests)} requests, ${fmtInt(c.traces.items)} spans`,
    });
    checks.push({
      label: `${mode}: sink received metric exports`,
      ok: c.metrics.requests > 0 && c.metrics.items > 0,
      detail: `${fmtInt(c.metrics.requests)} requests`,
    });
    checks.push({
      label: `${mode}: every Export request parsed`,
      ok: c.traces.malformed + c.metrics.malformed === 0,
      detail: `${c.traces.malformed + c.metrics.malformed} malformed`,
    });
    // The gateway counts a batch once its export call returns; after the drain the two should agree.
    checks.push({
      label: `${mode}: sink spans = gateway exported`,
      ok: c.traces.items === exported,
      detail: `${fmtInt(c.traces.items)} received vs ${fmtInt(exported)} exported`,
    });
  }
  out.push('', ...checkLines(checks));

  if (discarded.length > 0) {
    out.push(
      '',
      `note: ${discarded.length} run(s) were measured again because other processes used the CPU during them ` +
        `(${discarded.map((r) => `${r.endpoint}/${r.mode} r${r.round + 1} ${Math.round(r.foreignDuringPercent ?? 0)}%`).join(', ')}); they are kept in the JSON as discardedRuns`,
    );
  }
  out.push(...noiseWarnings(runs));
  return { out, summary, exportSummary, checks, verdicts };
}
