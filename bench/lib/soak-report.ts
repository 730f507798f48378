// The report of bench/soak.ts: the table of samples, RSS and heap growth after minute 1, the series
// that appeared or went, error counts (only the deliberate /dead requests may fail) and the spans
// exported, with the failures they imply.

import { loadavg } from 'node:os';
import { fmtInt, MB, mb, signed } from './format.js';
import type { LoadResult } from './load-result.js';
import { sumSamples } from './otlp-bench-util.js';
import type { OtlpSinkCounts } from './otlp-sink.js';
import { writeRunResults } from './results-file.js';
import {
  BASELINE_SECONDS,
  orUndefined,
  seriesKeys,
  type LuaCounts,
  type Sample,
  type SampleContext,
} from './soak-sampler.js';
import { textTable } from './text-table.js';

/** What the report says about the run's settings (the whole options object goes to the JSON). */
export interface SoakReportOptions {
  readonly minutes: number;
  readonly workers: number;
  readonly deadEvery: number;
  readonly maxGrowthMb: number;
}

const signedMb = (bytes: number): string => `${signed(bytes / MB)} MB`;

function sampleTable(samples: readonly Sample[]): string[] {
  const header = [
    't (s)',
    'RSS MB',
    'heap MB',
    '/metrics series',
    'kong series',
    'stats keys',
    'scrape ms',
    'served',
    'wrk responses',
    'spans exported',
    'dropped',
    'failed',
    'sink spans',
    'dash 5xx',
    'foreign CPU',
  ];
  const rows = samples.map((s) => [
    s.t.toFixed(0),
    mb(s.rssBytes),
    mb(s.heapUsedBytes),
    fmtInt(s.metricsSeries),
    fmtInt(s.kongSeries),
    fmtInt(s.statsKeys),
    s.metricsScrapeMs === undefined ? 'n/a' : s.metricsScrapeMs.toFixed(1),
    fmtInt(s.served),
    fmtInt(s.wrkResponses),
    fmtInt(s.spansExported),
    fmtInt(s.spansDropped),
    fmtInt(s.spansFailed),
    fmtInt(s.sinkSpans),
    fmtInt(s.dashboardServerErrors),
    s.foreignCpuPercent === undefined ? 'n/a' : `${s.foreignCpuPercent.toFixed(0)}%`,
  ]);
  return textTable(header, rows);
}

/** Series present in only one of two expositions, at most `limit` of each. */
function seriesDiff(
  before: string | undefined,
  after: string | undefined,
  limit = 10,
): { added: string[]; removed: string[] } {
  if (before === undefined || after === undefined) return { added: [], removed: [] };
  const a = new Set(seriesKeys(before));
  const b = new Set(seriesKeys(after));
  return {
    added: [...b].filter((k) => !a.has(k)).slice(0, limit),
    removed: [...a].filter((k) => !b.has(k)).slice(0, limit),
  };
}

interface Growth {
  readonly from: Sample;
  readonly to: Sample;
  readonly rssBytes: number | undefined;
  readonly rssPeakBytes: number | undefined;
  readonly heapBytes: number | undefined;
}

function growthAfterBaseline(samples: readonly Sample[]): Growth | undefined {
  const from = samples.find((s) => s.t >= BASELINE_SECONDS && s.rssBytes !== undefined);
  const to = [...samples].reverse().find((s) => s.rssBytes !== undefined);
  if (from === undefined || to === undefined || to === from) return undefined;
  const later = samples.filter((s) => s.t >= from.t && s.rssBytes !== undefined).map((s) => s.rssBytes as number);
  return {
    from,
    to,
    rssBytes: (to.rssBytes as number) - (from.rssBytes as number),
    rssPeakBytes: later.length === 0 ? undefined : Math.max(...later),
    heapBytes:
      from.heapUsedBytes === undefined || to.heapUsedBytes === undefined
        ? undefined
        : to.heapUsedBytes - from.heapUsedBytes,
  };
}

/** Requests per route from the gateway's own http_server_duration_count: total and 2xx. */
function routeCounts(metrics: string | undefined, route: string): { total: number; ok: number } {
  const text = metrics ?? '';
  const must = `http_route="${route}"`;
  return {
    total: sumSamples(text, 'http_server_duration_count', [must]).sum,
    ok: sumSamples(text, 'http_server_duration_count', [must, 'http_response_status_code="2']).sum,
  };
}

export interface ReportInput {
  readonly options: SoakReportOptions;
  readonly startedAt: Date;
  readonly loadTool: string;
  readonly loadBefore: number[];
  readonly samples: readonly Sample[];
  readonly ctx: SampleContext;
  readonly outcome: { ok: true; load: LoadResult; lua: LuaCounts | undefined } | { ok: false; error: string };
  readonly diedDuringSoak: boolean;
  readonly stderrTail: string;
  readonly deadStillDead: boolean;
  readonly sinkCounts: OtlpSinkCounts | undefined;
  readonly foreignWholePercent: number | undefined;
}

/** Series counts at the baseline and at the end, per exposition, with the failures they imply. */
function seriesReport(input: ReportInput, out: string[], failures: string[]): Record<string, unknown> {
  const { samples, ctx } = input;
  const base = samples.find((s) => s.t >= BASELINE_SECONDS);
  const last = samples[samples.length - 1];
  const result: Record<string, unknown> = {};
  const checks = [
    {
      name: '/metrics series',
      pick: (s: Sample) => s.metricsSeries,
      diff: () => seriesDiff(ctx.baseline?.metrics, ctx.last.metrics),
    },
    {
      name: 'Kong series',
      pick: (s: Sample) => s.kongSeries,
      diff: () => seriesDiff(ctx.baseline?.kong, ctx.last.kong),
    },
    { name: '/__stats keys', pick: (s: Sample) => s.statsKeys, diff: () => ({ added: [], removed: [] }) },
  ];
  for (const c of checks) {
    const first = samples.find((s) => c.pick(s) !== undefined);
    const a = base === undefined ? undefined : c.pick(base);
    const b = last === undefined ? undefined : c.pick(last);
    const grew = a !== undefined && b !== undefined && b > a;
    out.push(
      `${c.name}: first ${fmtInt(first === undefined ? undefined : c.pick(first))}, at t=${base?.t.toFixed(0) ?? '?'}s ${fmtInt(a)}, last ${fmtInt(b)}: ${a === undefined || b === undefined ? 'not measured' : grew ? 'GREW' : 'flat'}`,
    );
    const d = c.diff();
    for (const k of d.added) out.push(`  + ${k}`);
    for (const k of d.removed) out.push(`  - ${k}`);
    result[c.name] = {
      first: first === undefined ? undefined : c.pick(first),
      baseline: a,
      last: b,
      added: d.added,
      removed: d.removed,
    };
    if (a === undefined || b === undefined) failures.push(`${c.name}: not measured at minute 1 and at the end`);
    else if (grew) failures.push(`${c.name} grew after minute 1: ${a} -> ${b}`);
  }
  return result;
}

/** Error counts; everything but the deliberate /dead requests is unexpected. */
function errorReport(input: ReportInput, out: string[], failures: string[]): Record<string, unknown> {
  const { outcome, ctx, options } = input;
  const routes = Object.fromEntries(['/noop', '/json', '/dead'].map((r) => [r, routeCounts(ctx.last.metrics, r)]));
  const unexpectedGateway =
    (routes['/noop']?.total ?? 0) -
    (routes['/noop']?.ok ?? 0) +
    (routes['/json']?.total ?? 0) -
    (routes['/json']?.ok ?? 0);
  out.push(
    `gateway (http_server_duration_count): /noop ${fmtInt(routes['/noop']?.total)} (non-2xx ${fmtInt((routes['/noop']?.total ?? 0) - (routes['/noop']?.ok ?? 0))}), ` +
      `/json ${fmtInt(routes['/json']?.total)} (non-2xx ${fmtInt((routes['/json']?.total ?? 0) - (routes['/json']?.ok ?? 0))}), /dead ${fmtInt(routes['/dead']?.total)} (2xx ${fmtInt(routes['/dead']?.ok)})`,
  );
  if (unexpectedGateway > 0)
    failures.push(`${unexpectedGateway} non-2xx responses on /noop and /json (gateway's count)`);
  if ((routes['/dead']?.ok ?? 0) > 0) failures.push('/dead answered 2xx: something listened on the dead port');
  if (options.deadEvery > 0 && (routes['/dead']?.total ?? 0) === 0)
    failures.push('no /dead request was counted by the gateway');
  if (!input.deadStillDead) failures.push('the dead backend port accepted connections at the end');
  let wrkFigures: Record<string, unknown> = {};
  if (outcome.ok) {
    const { load, lua } = outcome;
    // A /dead request still in flight when wrk stopped was sent but never answered: at most one per connection.
    const unexpectedWrk = lua === undefined ? load.non2xx : Math.max(0, load.non2xx - lua.dead);
    out.push(
      `load (wrk): ${fmtInt(load.requests)} requests in ${load.durationSeconds.toFixed(1)} s = ${fmtInt(load.requestsPerSecond)} req/s; p50 ${load.latencyMs.p50.toFixed(2)} ms, p99 ${load.latencyMs.p99.toFixed(2)} ms, max ${load.latencyMs.max.toFixed(2)} ms; ` +
        `socket errors ${load.errors}, non-2xx ${fmtInt(load.non2xx)} (/dead sent ${fmtInt(lua?.dead)}; unexpected ${fmtInt(unexpectedWrk)})`,
    );
    if (load.errors > 0) failures.push(`wrk: ${load.errors} socket errors (connect/read/write/timeout)`);
    if (unexpectedWrk > 0) failures.push(`wrk: ${unexpectedWrk} more non-2xx responses than /dead requests`);
    if (lua === undefined)
      out.push('warning: the wrk script did not report its counts; the /dead share of the non-2xx is unknown');
    wrkFigures = { load, lua, unexpectedNon2xx: unexpectedWrk };
  } else {
    out.push(`load: failed: ${outcome.error}`);
    failures.push('the load generator failed');
  }
  const scrapeLines = [...ctx.scrapes.byListener].map(
    ([name, c]) => `${name} ${c.scrapes - c.failures}/${c.scrapes} ok (max ${c.maxMs.toFixed(0)} ms)`,
  );
  out.push(`scrapes: ${scrapeLines.join(', ')}`);
  for (const [name, c] of ctx.scrapes.byListener)
    if (c.failures > 0) failures.push(`${c.failures} ${name} scrapes failed (${c.lastError ?? ''})`);
  return {
    routes,
    unexpectedGatewayNon2xx: unexpectedGateway,
    ...wrkFigures,
    scrapes: Object.fromEntries(ctx.scrapes.byListener),
  };
}

function telemetryReport(input: ReportInput, out: string[], failures: string[]): Record<string, unknown> {
  const m = input.ctx.last.metrics ?? '';
  const one = (name: string, must: readonly string[] = []): number | undefined =>
    orUndefined(sumSamples(m, name, must));
  const spans = {
    exported: one('tollgate_telemetry_spans_total', ['outcome="exported"']),
    dropped: one('tollgate_telemetry_spans_total', ['outcome="dropped"']),
    failed: one('tollgate_telemetry_spans_total', ['outcome="failed"']),
  };
  const pushes = {
    failed: one('tollgate_telemetry_metric_pushes_total', ['outcome="failed"']),
    skipped: one('tollgate_telemetry_metric_pushes_total', ['outcome="skipped"']),
  };
  const restarts = one('tollgate_cluster_worker_restarts_total');
  const collectTimeouts = one('tollgate_cluster_collect_timeouts_total');
  const sink = input.sinkCounts;
  out.push(
    `spans: exported ${fmtInt(spans.exported)}, dropped ${fmtInt(spans.dropped)}, failed ${fmtInt(spans.failed)}; sink received ${fmtInt(sink?.traces.items)} spans in ${fmtInt(sink?.traces.requests)} exports, ` +
      `${fmtInt(sink?.metrics.requests)} metric pushes; metric pushes failed ${fmtInt(pushes.failed)}, skipped ${fmtInt(pushes.skipped)}; worker restarts ${fmtInt(restarts)}, collect timeouts ${fmtInt(collectTimeouts)}`,
  );
  if ((spans.exported ?? 0) === 0) failures.push('no span was exported to the live sink');
  if ((spans.dropped ?? 0) > 0 || (spans.failed ?? 0) > 0)
    failures.push(`spans dropped ${spans.dropped ?? 0}, failed ${spans.failed ?? 0} with a live sink`);
  if ((pushes.failed ?? 0) > 0) failures.push(`${pushes.failed} OTLP metric pushes failed with a live sink`);
  if ((sink?.metrics.requests ?? 0) === 0) failures.push('the sink received no OTLP metric push');
  if ((restarts ?? 0) > 0) failures.push(`${restarts} worker restart(s): a worker died`);
  if ((collectTimeouts ?? 0) > 0) out.push(`warning: ${collectTimeouts} worker collections missed the 1 s deadline`);
  return { spans, pushes, restarts, collectTimeouts, sink };
}

export async function report(input: ReportInput): Promise<void> {
  const { options, samples } = input;
  const out: string[] = [
    '',
    `Soak — ${options.minutes} min, workers ${options.workers}, every telemetry feature on (Prometheus, OTLP to a live sink at trace_sample_rate 0.1, /__stats, Kong, dashboard); ${input.loadTool}; /dead every ${options.deadEvery}`,
    '',
  ];
  out.push(...sampleTable(samples), '');
  const failures: string[] = [];
  const growth = growthAfterBaseline(samples);
  if (growth?.rssBytes === undefined) {
    out.push('RSS growth after minute 1: not enough samples');
    failures.push('not enough RSS samples after minute 1');
  } else {
    const ok = growth.rssBytes <= options.maxGrowthMb * MB;
    out.push(
      `RSS (primary + workers) after minute 1: ${mb(growth.from.rssBytes)} MB at t=${growth.from.t.toFixed(0)}s -> ${mb(growth.to.rssBytes)} MB at t=${growth.to.t.toFixed(0)}s = ${signedMb(growth.rssBytes)} ` +
        `(peak ${mb(growth.rssPeakBytes)} MB; limit +${options.maxGrowthMb} MB): ${ok ? 'flat' : 'GROWING'}`,
      `heap used after minute 1: ${mb(growth.from.heapUsedBytes)} MB -> ${mb(growth.to.heapUsedBytes)} MB = ${growth.heapBytes === undefined ? 'n/a' : signedMb(growth.heapBytes)}`,
    );
    if (!ok)
      failures.push(
        `RSS grew by ${(growth.rssBytes / MB).toFixed(1)} MB after minute 1 (limit ${options.maxGrowthMb} MB)`,
      );
  }
  const series = seriesReport(input, out, failures);
  const errors = errorReport(input, out, failures);
  const telemetry = telemetryReport(input, out, failures);
  if (input.diedDuringSoak)
    failures.push(`the gateway exited during the soak: ${input.stderrTail.split('\n').slice(-3).join(' | ')}`);
  out.push(
    `background: load average ${input.loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} after; foreign CPU over the soak ${input.foreignWholePercent ?? 'n/a'}%`,
  );

  const environment = {
    load: input.loadTool,
    loadAverageBefore: input.loadBefore,
    loadAverageAfter: loadavg(),
    foreignCpuPercent: input.foreignWholePercent,
  };
  const file = await writeRunResults('soak', input.startedAt, options, environment, {
    samples,
    growth,
    series,
    errors,
    telemetry,
    failures,
  });
  out.push(
    '',
    failures.length === 0
      ? 'result: PASS (flat, no growing series, no unexpected error)'
      : `result: FAIL — ${failures.join('; ')}`,
    `results written to ${file}`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
  if (failures.length > 0) process.exitCode = 1;
}
