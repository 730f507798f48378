/**
 * The live dashboard's numbers, from successive snapshots of the `dashboard` families (one per
 * second): totals since start, rates and p50/p95/p99 over the last 10 s (differences of cumulative
 * histograms, interpolated inside buckets as PromQL's histogram_quantile does), per-status, per-route
 * and per-backend tables, and five minutes of chart points. Pure apart from its own history.
 */
import type { SeriesSnapshot, Snapshot } from '../store/store.js';
import { BACKENDS, HEALTH, REQUESTS } from './dashboard-view.js';
import type { SlowRequest } from './slow-log.js';

const WINDOW_S = 10;
const HISTORY_POINTS = 300;

type Hist = Extract<SeriesSnapshot, { counts: Float64Array }>;

export interface Quantiles {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
}

export interface RouteRow {
  readonly route: string;
  readonly method: string;
  readonly requests: number;
  readonly rps: number;
  /** Share of 5xx over the window (over all time when the window is empty), 0–1. */
  readonly errorRatio: number;
  /** Milliseconds over the window (over all time when it had no request). */
  readonly latency: Quantiles | null;
}

export interface BackendRow {
  readonly route: string;
  readonly backend: string;
  readonly requests: number;
  readonly errors: number;
  readonly latency: Quantiles | null;
  readonly targets: readonly { readonly target: string; readonly health: 'healthy' | 'unhealthy' | 'unchecked' }[];
}

export interface DashboardState {
  readonly at: number;
  readonly windowS: number;
  readonly totals: { readonly requests: number; readonly serverErrors: number; readonly clientErrors: number };
  readonly rps: number;
  readonly errorRatio: number;
  readonly latency: { readonly gateway: Quantiles | null; readonly upstream: Quantiles | null };
  readonly statuses: readonly { readonly status: string; readonly requests: number; readonly rps: number }[];
  readonly routes: readonly RouteRow[];
  readonly backends: readonly BackendRow[];
  readonly slow: readonly SlowRequest[];
  readonly series: {
    readonly t: readonly number[];
    readonly rps: readonly number[];
    readonly errorsPerS: readonly number[];
    readonly gatewayP50: readonly (number | null)[];
    readonly gatewayP95: readonly (number | null)[];
    readonly gatewayP99: readonly (number | null)[];
    readonly upstreamP50: readonly (number | null)[];
    readonly upstreamP95: readonly (number | null)[];
    readonly upstreamP99: readonly (number | null)[];
  };
}

/** Bucket counts (non-cumulative, last = +Inf) → the q-quantile, in the unit of `bounds`. */
export function quantile(q: number, bounds: Float64Array, counts: ArrayLike<number>): number | null {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i] as number;
  if (total <= 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i] as number;
    if (seen + c >= rank && c > 0) {
      if (i >= bounds.length) return bounds.length === 0 ? null : (bounds[bounds.length - 1] as number);
      const lower = i === 0 ? 0 : (bounds[i - 1] as number);
      const upper = bounds[i] as number;
      return lower + (upper - lower) * ((rank - seen) / c);
    }
    seen += c;
  }
  return bounds.length === 0 ? null : (bounds[bounds.length - 1] as number);
}

function quantilesMs(bounds: Float64Array, counts: ArrayLike<number>): Quantiles | null {
  const p50 = quantile(0.5, bounds, counts);
  if (p50 === null) return null;
  return {
    p50: p50 * 1000,
    p95: (quantile(0.95, bounds, counts) as number) * 1000,
    p99: (quantile(0.99, bounds, counts) as number) * 1000,
  };
}

/** What one second's snapshot holds, keyed for differences. */
interface Sample {
  readonly at: number;
  readonly bounds: Float64Array;
  readonly requests: Map<string, Hist>;
  readonly backends: Map<string, Hist>;
}

function sampleOf(snapshot: Snapshot): Sample {
  const requests = new Map<string, Hist>();
  const backends = new Map<string, Hist>();
  let bounds: Float64Array = new Float64Array(0);
  for (const f of snapshot.families) {
    if (f.name !== REQUESTS && f.name !== BACKENDS) continue;
    bounds = f.bounds;
    for (const s of f.series) if ('counts' in s) (f.name === REQUESTS ? requests : backends).set(s.labels, s);
  }
  return { at: snapshot.at, bounds, requests, backends };
}

const ZERO = new Float64Array(0);

function minus(now: Hist, before: Hist | undefined): { counts: Float64Array; count: number } {
  if (before === undefined) return { counts: now.counts, count: now.count };
  const counts = now.counts.slice();
  for (let i = 0; i < counts.length; i++)
    counts[i] = Math.max(0, (counts[i] as number) - ((before.counts[i] as number | undefined) ?? 0));
  return { counts, count: Math.max(0, now.count - before.count) };
}

function add(into: Float64Array, from: ArrayLike<number>): Float64Array {
  const out = into.length === 0 ? new Float64Array(from.length) : into;
  for (let i = 0; i < from.length; i++) out[i] = (out[i] as number) + (from[i] as number);
  return out;
}

const attr = (s: Hist, key: string): string => String(s.attributes[key] ?? '');

export class DashboardModel {
  readonly #samples: Sample[] = [];
  readonly #points: { t: number; rps: number; errorsPerS: number; gw: Quantiles | null; up: Quantiles | null }[] = [];

  /** Adds one snapshot (with the `dashboard` group) and returns the state to show. */
  update(snapshot: Snapshot, slow: readonly SlowRequest[], health: Snapshot = snapshot): DashboardState {
    const now = sampleOf(snapshot);
    const prev = this.#samples.at(-1);
    this.#samples.push(now);
    while (this.#samples.length > WINDOW_S + 1) this.#samples.shift();
    const base = this.#samples[0] as Sample;
    const spanS = Math.max(1e-3, (now.at - base.at) / 1000);
    const { bounds } = now;

    let requests = 0;
    let serverErrors = 0;
    let clientErrors = 0;
    let windowRequests = 0;
    let windowErrors = 0;
    let gwWindow = ZERO as Float64Array;
    let lastSecond = 0;
    let lastSecondErrors = 0;
    let gwLastSecond = ZERO as Float64Array;
    const statuses = new Map<string, { requests: number; window: number }>();
    const routes = new Map<
      string,
      {
        route: string;
        method: string;
        requests: number;
        window: number;
        windowErrors: number;
        errors: number;
        counts: Float64Array;
        all: Float64Array;
      }
    >();
    for (const [key, s] of now.requests) {
      const status = attr(s, 'status');
      const code = Number(status);
      const d = minus(s, base.requests.get(key));
      const d1 = minus(s, prev?.requests.get(key));
      const isServerError = code >= 500 || code === 0;
      requests += s.count;
      windowRequests += d.count;
      lastSecond += prev === undefined ? 0 : d1.count;
      if (isServerError) {
        serverErrors += s.count;
        windowErrors += d.count;
        lastSecondErrors += prev === undefined ? 0 : d1.count;
      } else if (code >= 400) clientErrors += s.count;
      gwWindow = add(gwWindow, d.counts);
      if (prev !== undefined) gwLastSecond = add(gwLastSecond, d1.counts);
      const st = statuses.get(status) ?? { requests: 0, window: 0 };
      st.requests += s.count;
      st.window += d.count;
      statuses.set(status, st);
      const rk = `${attr(s, 'method')} ${attr(s, 'route')}`;
      const r = routes.get(rk) ?? {
        route: attr(s, 'route'),
        method: attr(s, 'method'),
        requests: 0,
        window: 0,
        windowErrors: 0,
        errors: 0,
        counts: new Float64Array(0),
        all: new Float64Array(0),
      };
      r.requests += s.count;
      r.window += d.count;
      if (isServerError) {
        r.windowErrors += d.count;
        r.errors += s.count;
      }
      r.counts = add(r.counts, d.counts);
      r.all = add(r.all, s.counts);
      routes.set(rk, r);
    }

    let upWindow = ZERO as Float64Array;
    let upLastSecond = ZERO as Float64Array;
    const backends = new Map<
      string,
      {
        route: string;
        backend: string;
        requests: number;
        errors: number;
        counts: Float64Array;
        all: Float64Array;
        window: number;
      }
    >();
    for (const [key, s] of now.backends) {
      const d = minus(s, base.backends.get(key));
      upWindow = add(upWindow, d.counts);
      if (prev !== undefined) upLastSecond = add(upLastSecond, minus(s, prev.backends.get(key)).counts);
      const bk = `${attr(s, 'route')}\u0000${attr(s, 'backend')}`;
      const b = backends.get(bk) ?? {
        route: attr(s, 'route'),
        backend: attr(s, 'backend'),
        requests: 0,
        errors: 0,
        counts: new Float64Array(0),
        all: new Float64Array(0),
        window: 0,
      };
      b.requests += s.count;
      if (attr(s, 'outcome') === 'error') b.errors += s.count;
      b.counts = add(b.counts, d.counts);
      b.all = add(b.all, s.counts);
      b.window += d.count;
      backends.set(bk, b);
    }
    const targets = new Map<string, { target: string; health: 'healthy' | 'unhealthy' | 'unchecked' }[]>();
    for (const f of health.families) {
      if (f.name !== HEALTH) continue;
      for (const s of f.series) {
        if ('counts' in s) continue;
        const bk = `${String(s.attributes.route ?? '')}\u0000${String(s.attributes.backend ?? '')}`;
        const list = targets.get(bk) ?? [];
        list.push({
          target: String(s.attributes.target ?? ''),
          health: s.value > 0 ? 'healthy' : s.value === 0 ? 'unhealthy' : 'unchecked',
        });
        targets.set(bk, list);
      }
    }

    // Backends with health checks show even before their first request.
    for (const k of targets.keys()) {
      if (backends.has(k)) continue;
      const [route = '', backend = ''] = k.split('\u0000');
      backends.set(k, {
        route,
        backend,
        requests: 0,
        errors: 0,
        counts: new Float64Array(0),
        all: new Float64Array(0),
        window: 0,
      });
    }
    const gateway = quantilesMs(bounds, gwWindow);
    const upstream = quantilesMs(bounds, upWindow);
    if (prev !== undefined) {
      const dt = Math.max(1e-3, (now.at - prev.at) / 1000);
      this.#points.push({
        t: now.at,
        rps: lastSecond / dt,
        errorsPerS: lastSecondErrors / dt,
        gw: quantilesMs(bounds, gwLastSecond),
        up: quantilesMs(bounds, upLastSecond),
      });
      while (this.#points.length > HISTORY_POINTS) this.#points.shift();
    }
    const pts = this.#points;
    const pick = (f: (p: (typeof pts)[number]) => number | null): (number | null)[] => pts.map(f);
    return {
      at: now.at,
      windowS: Math.round(spanS),
      totals: { requests, serverErrors, clientErrors },
      rps: windowRequests / spanS,
      errorRatio: windowRequests === 0 ? 0 : windowErrors / windowRequests,
      latency: { gateway, upstream },
      statuses: [...statuses]
        .map(([status, v]) => ({ status, requests: v.requests, rps: v.window / spanS }))
        .sort((a, b) => a.status.localeCompare(b.status)),
      routes: [...routes.values()]
        .map((r) => ({
          route: r.route,
          method: r.method,
          requests: r.requests,
          rps: r.window / spanS,
          errorRatio: r.window > 0 ? r.windowErrors / r.window : r.requests > 0 ? r.errors / r.requests : 0,
          latency: quantilesMs(bounds, r.window > 0 ? r.counts : r.all),
        }))
        .sort((a, b) => b.requests - a.requests),
      backends: [...backends.entries()].map(([k, b]) => ({
        route: b.route,
        backend: b.backend,
        requests: b.requests,
        errors: b.errors,
        latency: quantilesMs(bounds, b.window > 0 ? b.counts : b.all),
        targets: targets.get(k) ?? [],
      })),
      slow,
      series: {
        t: pts.map((p) => p.t / 1000),
        rps: pts.map((p) => p.rps),
        errorsPerS: pts.map((p) => p.errorsPerS),
        gatewayP50: pick((p) => p.gw?.p50 ?? null),
        gatewayP95: pick((p) => p.gw?.p95 ?? null),
        gatewayP99: pick((p) => p.gw?.p99 ?? null),
        upstreamP50: pick((p) => p.up?.p50 ?? null),
        upstreamP95: pick((p) => p.up?.p95 ?? null),
        upstreamP99: pick((p) => p.up?.p99 ?? null),
      },
    };
  }
}
