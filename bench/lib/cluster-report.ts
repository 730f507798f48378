// The runs and the report of bench/cluster.ts: the targets and the seven kinds of run, the req/s
// table with the ratios against the floor and against telemetry off, and the scrape-cost table.

import { availableParallelism } from 'node:os';
import { medianRound } from './bench-row.js';
import type { ScrapeBatch } from './cluster-scrape.js';
import { CLOCK_TICKS_PER_SECOND } from './foreign-load.js';
import { fmtInt } from './format.js';
import type { LoadResult } from './load-result.js';
import type { LoadRunOptions } from './run-options.js';
import { maxOf, quantile } from './stats.js';
import { textTable } from './text-table.js';

export const TARGETS = [
  'floor-x1',
  'floor-x2',
  'tollgate-w1',
  'tollgate-w2',
  'tollgate-w1-prom',
  'tollgate-w2-prom',
] as const;
export type TargetName = (typeof TARGETS)[number];
export const WORKERS: Readonly<Record<TargetName, 1 | 2>> = {
  'floor-x1': 1,
  'floor-x2': 2,
  'tollgate-w1': 1,
  'tollgate-w2': 2,
  'tollgate-w1-prom': 1,
  'tollgate-w2-prom': 2,
};

/** One kind of measured run: a target, and whether the driver scrapes it during and after the load. */
export interface RunSpec {
  readonly id: string;
  readonly target: TargetName;
  readonly scraped: boolean;
  readonly label: string;
}
export const RUN_SPECS: readonly RunSpec[] = [
  { id: 'floor-x1', target: 'floor-x1', scraped: false, label: 'floor' },
  { id: 'tollgate-w1', target: 'tollgate-w1', scraped: false, label: 'tollgate, telemetry off' },
  { id: 'tollgate-w1+prom', target: 'tollgate-w1-prom', scraped: true, label: 'tollgate, prom, scraped 1/s' },
  { id: 'floor-x2', target: 'floor-x2', scraped: false, label: 'floor (node:cluster)' },
  { id: 'tollgate-w2', target: 'tollgate-w2', scraped: false, label: 'tollgate, telemetry off' },
  { id: 'tollgate-w2+prom-idle', target: 'tollgate-w2-prom', scraped: false, label: 'tollgate, prom, not scraped' },
  { id: 'tollgate-w2+prom', target: 'tollgate-w2-prom', scraped: true, label: 'tollgate, prom, scraped 1/s' },
];

export interface ClusterRun {
  readonly round: number;
  readonly id: string;
  readonly target: TargetName;
  readonly result: { readonly load: LoadResult; readonly backgroundCpuBusyPercent: number };
  readonly warmupRequests: number;
  readonly foreignDuringPercent: number | undefined;
  /** CPU of the primary (undefined for floor x1) and of each serving process, % of one core. */
  readonly primaryCpuPercent: number | undefined;
  readonly servingCpuPercent: readonly number[];
  readonly duringLoad: { readonly latenciesMs: readonly number[]; readonly failures: number } | undefined;
  readonly batch: ScrapeBatch | undefined;
}

/** What the report says about the run's settings. */
export interface ReportOptions extends LoadRunOptions {
  readonly scrapes: number;
}

const fmtRatio = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? 'n/a' : n.toFixed(2));

/** "primary / worker+worker" CPU, % of one core. */
export function cpuCell(run: ClusterRun): string {
  const serving = run.servingCpuPercent.map((p) => Math.round(p)).join('+') || 'n/a';
  return run.primaryCpuPercent === undefined ? `- / ${serving}` : `${Math.round(run.primaryCpuPercent)} / ${serving}`;
}

export interface Summary {
  readonly rps: Readonly<Record<string, number>>;
  readonly ratios: Readonly<Record<string, number>>;
  readonly scrape: Readonly<Record<string, unknown>>;
}

export function report(
  runs: readonly ClusterRun[],
  options: ReportOptions,
  generatorName: string,
): { lines: string[]; summary: Summary } {
  const of = (id: string): ClusterRun[] => runs.filter((r) => r.id === id);
  const median = (id: string): LoadResult | undefined =>
    of(id).length === 0 ? undefined : medianRound(of(id).map((r) => r.result.load));
  const rps: Record<string, number> = {};
  for (const spec of RUN_SPECS) {
    const m = median(spec.id);
    if (m !== undefined) rps[spec.id] = m.requestsPerSecond;
  }
  const ratio = (a: string, b: string): number => (rps[a] ?? Number.NaN) / (rps[b] ?? Number.NaN);
  const floorOf = (w: 1 | 2): string => (w === 1 ? 'floor-x1' : 'floor-x2');
  const offOf = (w: 1 | 2): string => (w === 1 ? 'tollgate-w1' : 'tollgate-w2');
  const rows = RUN_SPECS.map((spec) => {
    const m = median(spec.id);
    const w = WORKERS[spec.target];
    const errors = of(spec.id).reduce((n, r) => n + r.result.load.errors, 0);
    const non2xx = of(spec.id).reduce((n, r) => n + r.result.load.non2xx, 0);
    const medianRun = of(spec.id).find((r) => r.result.load === m);
    const isTollgate = spec.target.startsWith('tollgate');
    return [
      spec.id,
      String(w),
      spec.label,
      m === undefined ? 'n/a' : fmtInt(m.requestsPerSecond),
      of(spec.id)
        .map((r) => fmtInt(r.result.load.requestsPerSecond))
        .join(' / '),
      m === undefined ? '' : m.latencyMs.p50.toFixed(2),
      m === undefined ? '' : m.latencyMs.p99.toFixed(2),
      `${errors}/${non2xx}`,
      medianRun === undefined ? '' : cpuCell(medianRun),
      isTollgate ? fmtRatio(ratio(spec.id, floorOf(w))) : '',
      spec.target.endsWith('-prom') ? fmtRatio(ratio(spec.id, offOf(w))) : '',
    ];
  });
  const header = [
    'run',
    'workers',
    'what',
    'req/s',
    'per round',
    'p50 ms',
    'p99 ms',
    'err/non-2xx',
    'CPU % prim / serving',
    'vs floor',
    'vs off',
  ];
  const ratios: Record<string, number> = {
    'tollgate/floor w1': ratio('tollgate-w1', 'floor-x1'),
    'tollgate/floor w2': ratio('tollgate-w2', 'floor-x2'),
    'floor scaling x2/x1': ratio('floor-x2', 'floor-x1'),
    'tollgate scaling w2/w1': ratio('tollgate-w2', 'tollgate-w1'),
    'w1 prom scraped/off': ratio('tollgate-w1+prom', 'tollgate-w1'),
    'w2 prom not scraped/off': ratio('tollgate-w2+prom-idle', 'tollgate-w2'),
    'w2 prom scraped/off': ratio('tollgate-w2+prom', 'tollgate-w2'),
    'w2 prom scraped/not scraped': ratio('tollgate-w2+prom', 'tollgate-w2+prom-idle'),
  };
  const lines = [
    '',
    `Cluster benchmark — GET /payload (${options.payloadBytes} B), ${options.connections} connections, ${generatorName} ${options.threads} thread(s), ` +
      `${options.warmupSeconds}s warm-up + ${options.durationSeconds}s x ${options.rounds} round(s); median round shown`,
    `not pinned: on ${availableParallelism()} cores wrk, the upstream and the driver share the cores with the gateway, ` +
      'so absolute numbers are low; only ratios within this run matter',
    '',
    ...textTable(header, rows, (c) => c < 3),
    '',
    "CPU % = % of one core during the measured run: the primary (Tollgate's or the floor cluster's) / each serving process.",
    '',
    `tollgate/floor      workers 1: ${fmtRatio(ratios['tollgate/floor w1'])}   workers 2: ${fmtRatio(ratios['tollgate/floor w2'])}`,
    `scaling 2 vs 1      floor: ${fmtRatio(ratios['floor scaling x2/x1'])}   tollgate: ${fmtRatio(ratios['tollgate scaling w2/w1'])}`,
    `telemetry vs off    w1 prom scraped 1/s: ${fmtRatio(ratios['w1 prom scraped/off'])}   w2 prom not scraped: ${fmtRatio(ratios['w2 prom not scraped/off'])}   ` +
      `w2 prom scraped 1/s: ${fmtRatio(ratios['w2 prom scraped/off'])}   (w2 scraped / not scraped: ${fmtRatio(ratios['w2 prom scraped/not scraped'])})`,
  ];
  const scrape = scrapeReport(runs, options, lines);
  return { lines, summary: { rps, ratios, scrape } };
}

/** Appends the scrape-cost table: every round's batch pooled for latency, CPU per scrape per round. */
function scrapeReport(runs: readonly ClusterRun[], options: ReportOptions, lines: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const rows: string[][] = [];
  for (const id of ['tollgate-w1+prom', 'tollgate-w2+prom']) {
    const scraped = runs.filter((r) => r.id === id && r.batch !== undefined);
    const batches = scraped.map((r) => r.batch as ScrapeBatch);
    if (batches.length === 0) continue;
    const all = batches.flatMap((b) => b.latenciesMs);
    const during = scraped.flatMap((r) => r.duringLoad?.latenciesMs ?? []);
    const primary = batches.map((b) => b.primaryCpuMsPerScrape);
    const workers = batches.map((b) => b.workersCpuMsPerScrape);
    const failures =
      batches.reduce((n, b) => n + b.failures, 0) + scraped.reduce((n, r) => n + (r.duringLoad?.failures ?? 0), 0);
    const last = batches[batches.length - 1] as ScrapeBatch;
    const entry = {
      scrapes: all.length,
      medianMs: quantile(all, 0.5),
      p99Ms: quantile(all, 0.99),
      maxMs: maxOf(all),
      primaryCpuMsPerScrape: quantile(primary, 0.5),
      workersCpuMsPerScrape: quantile(workers, 0.5),
      bodyBytes: last.bodyBytes,
      samples: last.samples,
      duringLoad: { scrapes: during.length, medianMs: quantile(during, 0.5), maxMs: maxOf(during) },
      failures,
    };
    out[id] = { ...entry, perRound: batches.map(({ latenciesMs: _l, ...rest }) => rest) };
    rows.push([
      id,
      String(entry.scrapes),
      entry.medianMs.toFixed(2),
      entry.p99Ms.toFixed(2),
      entry.maxMs.toFixed(2),
      primary.map((v) => v.toFixed(2)).join(' / '),
      workers.map((v) => v.toFixed(2)).join(' / '),
      `${(entry.bodyBytes / 1024).toFixed(1)} KiB, ${entry.samples}`,
      during.length === 0
        ? 'n/a'
        : `${during.length}: ${entry.duringLoad.medianMs.toFixed(2)} / ${entry.duringLoad.maxMs.toFixed(2)}`,
      String(failures),
    ]);
  }
  lines.push(
    '',
    `Scrape cost — ${options.scrapes} sequential GET /metrics right after each scraped run (fresh loopback connection each), all rounds pooled:`,
    '',
    ...textTable(
      [
        'gateway',
        'scrapes',
        'median ms',
        'p99 ms',
        'max ms',
        'primary CPU ms/scrape',
        'workers CPU ms/scrape',
        'body, samples',
        'under load 1/s: n: median / max ms',
        'failed',
      ],
      rows,
      (c) => c < 1,
    ),
    '',
    `CPU ms/scrape (per round) = utime+stime from /proc over the batch / scrapes, ${CLOCK_TICKS_PER_SECOND} ticks/s; workers = all workers summed.`,
  );
  return out;
}
