/**
 * A stats snapshot as krakend-influx writes it (https://github.com/krakend/krakend-influx, its
 * counter/, gauge/ and histogram/ packages; docs/stats.md): `requests` (layer, name, complete,
 * error), `responses` (name, status), `router` (direction in/out), `router.response-size`,
 * `router.response-time`, `debug`, `runtime` and the GC pause histograms, every point tagged `host`.
 * Counter fields: `total` (cumulative) and `count` (increase since the previous push).
 */
import type { StatsSnapshot } from '../stats/stats-registry.js';
import type { WindowSnapshot } from '../stats/window-histogram.js';
import type { FieldValue, Point } from './line-protocol.js';

const QUANTILES: readonly (readonly [string, number])[] = [
  ['p0.1', 0.1],
  ['p0.25', 0.25],
  ['p0.5', 0.5],
  ['p0.75', 0.75],
  ['p0.9', 0.9],
  ['p0.95', 0.95],
  ['p0.99', 0.99],
];

function histogramFields(h: WindowSnapshot): Record<string, FieldValue> {
  const f: Record<string, FieldValue> = {
    max: { int: h.max },
    min: { int: h.min },
    mean: { int: h.mean },
    stddev: { int: h.stddev },
    variance: { int: h.variance },
  };
  for (const [name, q] of QUANTILES) f[name] = h.percentile(q);
  return f;
}

/**
 * A window krakend-influx leaves out (histogram/histogram.go:123): every statistic 0, which is also a
 * window with values that were all 0 (a route that only answered empty bodies writes no size point).
 */
function isEmpty(h: WindowSnapshot): boolean {
  return (
    h.max === 0 &&
    h.min === 0 &&
    h.mean === 0 &&
    h.stddev === 0 &&
    h.variance === 0 &&
    h.percentile(0.1) === 0 &&
    h.percentile(0.99) === 0
  );
}

const REQUESTS =
  /^krakend\.proxy\.(requests|latency)\.layer\.(pipe|backend)\.name\.(.+)\.complete\.(true|false)\.error\.(true|false)$/;
const RESPONSES = /^krakend\.router\.response\.(.+)\.status\.(\d{3})\.count$/;
const RESPONSE_HIST = /^krakend\.router\.response\.(.+)\.(size|time)$/;

/** Tracks cumulative counters between pushes to write the `count` deltas. */
export class DeltaTracker {
  readonly #last = new Map<string, number>();

  delta(key: string, total: number): number {
    const prev = this.#last.get(key) ?? 0;
    this.#last.set(key, total);
    return Math.max(0, total - prev);
  }
}

export function toPoints(s: StatsSnapshot, host: string, deltas: DeltaTracker): Point[] {
  const time = Math.floor(s.at / 1000);
  const points: Point[] = [];
  const push = (measurement: string, tags: Record<string, string>, fields: Record<string, FieldValue>): void => {
    if (Object.keys(fields).length > 0) points.push({ measurement, tags: { host, ...tags }, fields, time });
  };
  for (const [k, v] of s.counters) {
    let m = REQUESTS.exec(k);
    if (m !== null) {
      push(
        'requests',
        { layer: m[2] as string, name: m[3] as string, complete: m[4] as string, error: m[5] as string },
        { total: { int: v }, count: { int: deltas.delta(k, v) } },
      );
      continue;
    }
    m = RESPONSES.exec(k);
    if (m !== null)
      push(
        'responses',
        { name: m[1] as string, status: m[2] as string },
        { total: { int: v }, count: { int: deltas.delta(k, v) } },
      );
  }
  for (const [k, h] of s.histograms) {
    if (isEmpty(h)) continue;
    let m = REQUESTS.exec(k);
    if (m !== null) {
      push(
        'requests',
        { layer: m[2] as string, name: m[3] as string, complete: m[4] as string, error: m[5] as string },
        histogramFields(h),
      );
      continue;
    }
    m = RESPONSE_HIST.exec(k);
    if (m !== null) {
      push(
        m[2] === 'size' ? 'router.response-size' : 'router.response-time',
        { name: m[1] as string },
        histogramFields(h),
      );
      continue;
    }
    if (k === 'krakend.service.debug.GCStats.Pause') push('service.debug.GCStats.Pause', {}, histogramFields(h));
    if (k === 'krakend.service.runtime.MemStats.PauseNs')
      push('service.runtime.MemStats.PauseNs', {}, histogramFields(h));
  }
  const c = (k: string): number => s.counters.get(k) ?? 0;
  const g = (k: string): number => s.gauges.get(k) ?? 0;
  push(
    'router',
    { direction: 'in' },
    {
      current: { int: c('krakend.router.connected') },
      total: { int: c('krakend.router.connected-total') },
      gauge: { int: g('krakend.router.connected-gauge') },
    },
  );
  push(
    'router',
    { direction: 'out' },
    {
      current: { int: c('krakend.router.disconnected') },
      total: { int: c('krakend.router.disconnected-total') },
      gauge: { int: g('krakend.router.disconnected-gauge') },
    },
  );
  const debug: Record<string, FieldValue> = {};
  const runtime: Record<string, FieldValue> = {};
  for (const [k, v] of s.gauges) {
    if (k.startsWith('krakend.service.debug.')) debug[k.slice('krakend.service.debug.'.length)] = { int: v };
    else if (k.startsWith('krakend.service.runtime.')) runtime[k.slice('krakend.service.runtime.'.length)] = { int: v };
  }
  push('debug', {}, debug);
  push('runtime', {}, runtime);
  return points;
}
