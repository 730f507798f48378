// What bench/soak.ts samples while it runs: the wrk Lua script's counts, the scrapes of every
// telemetry listener (failures counted, never thrown) and one sample of memory, series, spans and
// progress every --sample seconds.

import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { getText, sumSamples, treeRssBytes } from './otlp-bench-util.js';
import type { OtlpSinkCounts } from './otlp-sink.js';

/** The first sample at or after this many seconds is the baseline of every growth figure. */
export const BASELINE_SECONDS = 60;
const SCRAPE_TIMEOUT_MS = 5000;

export interface LuaCounts {
  readonly responses: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly dead: number;
}

export function parseLuaCounts(stdout: string): LuaCounts | undefined {
  const m = /^SOAK-LUA responses=(\d+) ok=(\d+) non2xx=(\d+) dead=(\d+)$/m.exec(stdout);
  if (m === null) return undefined;
  return { responses: Number(m[1]), ok: Number(m[2]), non2xx: Number(m[3]), dead: Number(m[4]) };
}

export async function readProgress(file: string): Promise<LuaCounts | undefined> {
  try {
    const [responses = 0, ok = 0, non2xx = 0, dead = 0] = (await readFile(file, 'utf8')).trim().split(' ').map(Number);
    return { responses, ok, non2xx, dead };
  } catch {
    return undefined;
  }
}

/** The identity of each sample line of an exposition: the name and label set, without value, timestamp or exemplar. */
export function seriesKeys(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const close = line.indexOf('}');
    out.push(line.includes('{') && close !== -1 ? line.slice(0, close + 1) : (line.split(' ')[0] ?? line));
  }
  return out;
}

interface ListenerCounters {
  scrapes: number;
  failures: number;
  lastError?: string;
  maxMs: number;
}

export class Scrapes {
  readonly byListener = new Map<string, ListenerCounters>();

  /** GET url; a failure is counted (and returns undefined), never thrown. */
  async get(name: string, url: string): Promise<string | undefined> {
    const c = this.byListener.get(name) ?? { scrapes: 0, failures: 0, maxMs: 0 };
    this.byListener.set(name, c);
    c.scrapes++;
    const t0 = performance.now();
    try {
      const { status, text } = await getText(url, SCRAPE_TIMEOUT_MS);
      if (status !== 200) throw new Error(`HTTP ${status}`);
      return text;
    } catch (error) {
      c.failures++;
      c.lastError = error instanceof Error ? error.message : String(error);
      return undefined;
    } finally {
      c.maxMs = Math.max(c.maxMs, performance.now() - t0);
    }
  }

  /** `pick` of the JSON body; a body that is not JSON counts as a failed scrape of `name`. */
  parse<T, R>(name: string, body: string | undefined, pick: (value: T) => R): R | undefined {
    if (body === undefined) return undefined;
    try {
      return pick(JSON.parse(body) as T);
    } catch (error) {
      const c = this.byListener.get(name);
      if (c !== undefined) {
        c.failures++;
        c.lastError = `not JSON: ${error instanceof Error ? error.message : String(error)}`;
      }
      return undefined;
    }
  }
}

export interface Sample {
  /** Seconds since the load started. */
  readonly t: number;
  readonly rssBytes: number | undefined;
  readonly heapUsedBytes: number | undefined;
  readonly metricsSeries: number | undefined;
  readonly kongSeries: number | undefined;
  readonly statsKeys: number | undefined;
  readonly metricsScrapeMs: number | undefined;
  readonly served: number | undefined;
  readonly wrkResponses: number | undefined;
  readonly spansExported: number | undefined;
  readonly spansDropped: number | undefined;
  readonly spansFailed: number | undefined;
  readonly sinkSpans: number | undefined;
  readonly dashboardRequests: number | undefined;
  readonly dashboardServerErrors: number | undefined;
  readonly foreignCpuPercent: number | undefined;
}

export interface SampleContext {
  readonly pid: number;
  readonly urls: { readonly metrics: string; readonly kong: string; readonly stats: string; readonly state: string };
  readonly scrapes: Scrapes;
  readonly progressFile: string;
  readonly sink: { counts(timeoutMs?: number): Promise<OtlpSinkCounts> };
  /** The last expositions, for the series diff at the end. */
  last: { metrics?: string; kong?: string };
  baseline?: { metrics?: string; kong?: string };
}

export const orUndefined = (s: { series: number; sum: number }): number | undefined =>
  s.series === 0 ? undefined : s.sum;

/** Scrapes the 5 s listener; on sample ticks also the 10 s ones, and returns the sample. */
export async function tick(
  ctx: SampleContext,
  t: number,
  sampleTick: boolean,
  foreign: number | undefined,
): Promise<Sample | undefined> {
  const t0 = performance.now();
  const metrics = await ctx.scrapes.get('/metrics', ctx.urls.metrics);
  const metricsScrapeMs = performance.now() - t0;
  if (metrics !== undefined) ctx.last.metrics = metrics;
  if (!sampleTick) return undefined;
  const [kong, stats, state] = await Promise.all([
    ctx.scrapes.get('kong /metrics', ctx.urls.kong),
    ctx.scrapes.get('/__stats', ctx.urls.stats),
    ctx.scrapes.get('dashboard /api/state', ctx.urls.state),
  ]);
  if (kong !== undefined) ctx.last.kong = kong;
  const statsKeys = ctx.scrapes.parse('/__stats', stats, (v: object) => Object.keys(v).length);
  const dashboard = ctx.scrapes.parse(
    'dashboard /api/state',
    state,
    (v: { totals?: { requests?: number; serverErrors?: number } }) => v,
  );
  const progress = await readProgress(ctx.progressFile);
  const sink = await ctx.sink.counts(2000).catch(() => undefined);
  const m = metrics ?? '';
  return {
    t,
    rssBytes: treeRssBytes(ctx.pid),
    heapUsedBytes: orUndefined(sumSamples(m, 'nodejs_heap_size_used_bytes')),
    metricsSeries: metrics === undefined ? undefined : seriesKeys(metrics).length,
    kongSeries: kong === undefined ? undefined : seriesKeys(kong).length,
    statsKeys,
    metricsScrapeMs: metrics === undefined ? undefined : metricsScrapeMs,
    served: orUndefined(sumSamples(m, 'http_server_duration_count')),
    wrkResponses: progress?.responses,
    spansExported: orUndefined(sumSamples(m, 'tollgate_telemetry_spans_total', ['outcome="exported"'])),
    spansDropped: orUndefined(sumSamples(m, 'tollgate_telemetry_spans_total', ['outcome="dropped"'])),
    spansFailed: orUndefined(sumSamples(m, 'tollgate_telemetry_spans_total', ['outcome="failed"'])),
    sinkSpans: sink?.traces.items,
    dashboardRequests: dashboard?.totals?.requests,
    dashboardServerErrors: dashboard?.totals?.serverErrors,
    foreignCpuPercent: foreign,
  };
}
