// The report of bench/scrape-stall.ts: one row per phase, the pooled probe quantiles of the
// unscraped and scraped phases and their difference, the failures and the verdict.

import { loadavg } from 'node:os';
import { fmtInt, signed } from './format.js';
import type { LoadResult } from './load-result.js';
import { writeRunResults } from './results-file.js';
import { endpointPath, type LatencySummary, type PhaseOptions, type PhaseResult } from './stall-phase.js';
import { textTable } from './text-table.js';

/** What the report says about the run's settings (the whole options object goes to the JSON). */
export interface StallReportOptions extends PhaseOptions {
  readonly rounds: number;
  readonly workers: number;
  readonly endpoints: number;
  readonly scrapeHz: number;
  readonly maxAddedMs: number;
}

export const ms = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? 'n/a' : n.toFixed(2));
function phaseRow(phase: PhaseResult): string[] {
  const p = phase.probe;
  const extra = {
    wrk: phase.wrk,
    scrapes: phase.scrapes,
    foreign: phase.foreignCpuPercent,
    overlap: phase.slowDuringScrape,
  };
  const scrape = (name: string): string => {
    const s = extra.scrapes?.find((x) => x.name === name);
    return s === undefined ? '-' : `${ms(s.latency.p50)}/${ms(s.latency.p99)}`;
  };
  return [
    `r${phase.round + 1} ${phase.scraped ? 'scraped' : 'unscraped'}`,
    fmtInt(p.n),
    ms(p.p50),
    ms(p.p99),
    ms(p.p999),
    ms(p.max),
    String(p.slow['>5ms'] ?? 0),
    String(p.slow['>10ms'] ?? 0),
    extra.overlap === undefined ? '-' : `${extra.overlap.overlapping}/${extra.overlap.slow}`,
    phase.scrapeBusyPercent === undefined ? '-' : `${phase.scrapeBusyPercent.toFixed(0)}%`,
    String(p.missedTicks),
    extra.wrk === undefined ? 'n/a' : fmtInt(extra.wrk.requestsPerSecond),
    extra.wrk === undefined ? 'n/a' : ms(extra.wrk.latencyMs.p99),
    scrape('prometheus'),
    scrape('kong'),
    phase.gatewayCpu === undefined
      ? 'n/a'
      : `${phase.gatewayCpu.primary.toFixed(0)}% / ${phase.gatewayCpu.workers.toFixed(0)}%`,
    extra.foreign === undefined ? 'n/a' : `${extra.foreign.toFixed(0)}%`,
  ];
}

const HEADER = [
  'phase',
  'probes',
  'p50 ms',
  'p99 ms',
  'p99.9 ms',
  'max ms',
  '>5ms',
  '>10ms',
  'slow∩scrape',
  'scrape busy',
  'missed',
  'wrk req/s',
  'wrk p99',
  'prom scrape p50/p99',
  'kong scrape p50/p99',
  'CPU prim/workers',
  'foreign CPU',
];

export interface Summary {
  readonly pooled: { readonly unscraped: LatencySummary; readonly scraped: LatencySummary };
  readonly addedPooled: { readonly p50: number; readonly p99: number; readonly p999: number; readonly max: number };
  readonly addedP999ByRound: number[];
  readonly maxAddedP999: number;
}

export interface ReportInput {
  readonly options: StallReportOptions;
  readonly startedAt: Date;
  readonly loadTool: string;
  readonly loadBefore: number[];
  readonly sizes: Record<string, number>;
  readonly warmResult: LoadResult;
  readonly phases: readonly PhaseResult[];
  /** Every probe of all rounds' phases of one kind. */
  readonly pooled: { readonly unscraped: LatencySummary; readonly scraped: LatencySummary };
  readonly collectTimeouts: number | undefined;
}

function summarizePhases(input: ReportInput): Summary {
  const { phases, options } = input;
  const { unscraped, scraped } = input.pooled;
  const addedP999ByRound = Array.from({ length: options.rounds }, (_, r) => {
    const a = phases.find((p) => p.round === r && !p.scraped);
    const b = phases.find((p) => p.round === r && p.scraped);
    return a === undefined || b === undefined ? Number.NaN : b.probe.p999 - a.probe.p999;
  });
  return {
    pooled: { unscraped, scraped },
    addedPooled: {
      p50: scraped.p50 - unscraped.p50,
      p99: scraped.p99 - unscraped.p99,
      p999: scraped.p999 - unscraped.p999,
      max: scraped.max - unscraped.max,
    },
    addedP999ByRound,
    maxAddedP999: Math.max(...addedP999ByRound),
  };
}

export async function report(input: ReportInput): Promise<void> {
  const { options, phases } = input;
  const summary = summarizePhases(input);
  const out: string[] = [
    '',
    `Scrape stall — workers ${options.workers}, ${options.endpoints} endpoints; /metrics ${((input.sizes['metricsBytes'] ?? 0) / 1024).toFixed(0)} KB ` +
      `(${input.sizes['metricsSamples']} samples), Kong ${((input.sizes['kongBytes'] ?? 0) / 1024).toFixed(0)} KB (${input.sizes['kongSamples']} samples); ` +
      `probe GET ${endpointPath(0)} every ${options.intervalMs} ms on one connection; scraped phase: both listeners ${options.scrapeHz}×/s; background ${input.loadTool}`,
    '',
  ];
  const rows = phases.map(phaseRow);
  out.push(...textTable(HEADER, rows), '');
  const { unscraped, scraped } = summary.pooled;
  out.push(
    `all rounds pooled: unscraped p50 ${ms(unscraped.p50)} p99 ${ms(unscraped.p99)} p99.9 ${ms(unscraped.p999)} max ${ms(unscraped.max)} ms; ` +
      `scraped p50 ${ms(scraped.p50)} p99 ${ms(scraped.p99)} p99.9 ${ms(scraped.p999)} max ${ms(scraped.max)} ms`,
    `added by scraping: p50 ${signed(summary.addedPooled.p50, 2)} p99 ${signed(summary.addedPooled.p99, 2)} p99.9 ${signed(summary.addedPooled.p999, 2)} max ${signed(summary.addedPooled.max, 2)} ms; ` +
      `per round p99.9 ${summary.addedP999ByRound.map((n) => signed(n, 2)).join(', ')} ms`,
  );
  const slowTotals = (s: boolean, k: string): number =>
    phases.filter((p) => p.scraped === s).reduce((n, p) => n + (p.probe.slow[k] ?? 0), 0);
  out.push(
    `probes > 5 ms: unscraped ${slowTotals(false, '>5ms')}, scraped ${slowTotals(true, '>5ms')}; > 10 ms: unscraped ${slowTotals(false, '>10ms')}, scraped ${slowTotals(true, '>10ms')} (of ${fmtInt(unscraped.n)} / ${fmtInt(scraped.n)} probes)`,
  );
  const failures: string[] = [];
  for (const p of phases) {
    const name = `round ${p.round + 1} ${p.scraped ? 'scraped' : 'unscraped'}`;
    if (p.probe.errors > 0) failures.push(`${name}: ${p.probe.errors} probe errors (${p.probe.lastError ?? ''})`);
    if (p.wrk === undefined) failures.push(`${name}: wrk failed: ${p.wrkError ?? ''}`);
    else if (p.wrk.errors > 0 || p.wrk.non2xx > 0)
      failures.push(`${name}: wrk errors ${p.wrk.errors}, non-2xx ${p.wrk.non2xx}`);
    for (const s of p.scrapes ?? [])
      if (s.errors > 0) failures.push(`${name}: ${s.errors} ${s.name} scrapes failed (${s.lastError ?? ''})`);
  }
  if ((input.collectTimeouts ?? 0) > 0)
    out.push(
      `warning: tollgate_cluster_collect_timeouts_total ${input.collectTimeouts}: a worker missed the 1 s collection deadline`,
    );
  const noisy = phases.filter((p) => (p.foreignCpuPercent ?? 0) > 10);
  if (noisy.length > 0)
    out.push(
      `warning: other processes used the CPU during ${noisy.length} of ${phases.length} phases (up to ${Math.max(...noisy.map((p) => p.foreignCpuPercent ?? 0)).toFixed(0)}%); tails are noisy — rerun on a quiet machine`,
    );
  const over = summary.maxAddedP999 > options.maxAddedMs;
  if (over)
    failures.push(
      `scraping added ${summary.maxAddedP999.toFixed(2)} ms to the probe p99.9 (limit ${options.maxAddedMs} ms)`,
    );
  out.push(
    '',
    `verdict: max added p99.9 ${signed(summary.maxAddedP999, 2)} ms (limit ${options.maxAddedMs} ms): ${over ? 'STALLS' : 'no stall above the limit'}`,
  );
  const file = await writeResults(input, summary, failures);
  out.push(
    failures.length === 0 ? 'result: PASS' : `result: FAIL — ${failures.join('; ')}`,
    `results written to ${file}`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
  if (failures.length > 0) process.exitCode = 1;
}

async function writeResults(input: ReportInput, summary: Summary, failures: readonly string[]): Promise<string> {
  const environment = { load: input.loadTool, loadAverageBefore: input.loadBefore, loadAverageAfter: loadavg() };
  const data = {
    exposition: input.sizes,
    warmup: input.warmResult,
    phases: input.phases,
    summary,
    collectTimeouts: input.collectTimeouts,
    failures,
  };
  return writeRunResults('scrape-stall', input.startedAt, input.options, environment, data);
}
