/**
 * The metrics of KrakenD's extended-metrics component (`krakend.*` keys as krakend-metrics registers
 * them, https://github.com/krakend/krakend-metrics, listed in docs/stats.md): counters, integer and
 * float gauges, and window histograms, registered under their full key. `/__stats` and
 * the Influx push both read it, so they never disagree.
 */
import {
  mergeWindows,
  WindowHistogram,
  windowSnapshot,
  type RawWindow,
  type WindowSnapshot,
} from './window-histogram.js';

export class StatCounter {
  value = 0;
}

export class StatGauge {
  value = 0;
  constructor(readonly float = false) {}
}

export type StatMetric = StatCounter | StatGauge | WindowHistogram;

export interface StatsSnapshot {
  readonly at: number;
  readonly counters: ReadonlyMap<string, number>;
  readonly gauges: ReadonlyMap<string, number>;
  readonly histograms: ReadonlyMap<string, WindowSnapshot>;
}

/** A snapshot in structured-clone form (what cluster workers send the primary). */
export interface RawStats {
  readonly at: number;
  readonly counters: ReadonlyMap<string, number>;
  readonly gauges: ReadonlyMap<string, number>;
  readonly histograms: ReadonlyMap<string, RawWindow>;
}

export function statsFromRaw(raw: RawStats): StatsSnapshot {
  return {
    at: raw.at,
    counters: raw.counters,
    gauges: raw.gauges,
    histograms: new Map([...raw.histograms].map(([k, w]) => [k, windowSnapshot(w)])),
  };
}

/** Gauges that are instants (the end of the last collection, epoch ns): several processes' is the newest. */
const INSTANT_GAUGES: ReadonlySet<string> = new Set([
  'krakend.service.runtime.MemStats.LastGC',
  'krakend.service.debug.GCStats.LastGC',
]);

/**
 * Several processes' stats as one: counters and gauges add up (they are counts and amounts; instants
 * take the newest), windows merge.
 */
export function mergeRawStats(parts: readonly RawStats[], at: number): RawStats {
  const counters = new Map<string, number>();
  const gauges = new Map<string, number>();
  const windows = new Map<string, RawWindow[]>();
  for (const p of parts) {
    for (const [k, v] of p.counters) counters.set(k, (counters.get(k) ?? 0) + v);
    for (const [k, v] of p.gauges) {
      const prev = gauges.get(k);
      gauges.set(k, prev === undefined ? v : INSTANT_GAUGES.has(k) ? Math.max(prev, v) : prev + v);
    }
    for (const [k, w] of p.histograms) windows.set(k, [...(windows.get(k) ?? []), w]);
  }
  return { at, counters, gauges, histograms: new Map([...windows].map(([k, list]) => [k, mergeWindows(list)])) };
}

export class StatsRegistry {
  readonly #metrics = new Map<string, StatMetric>();

  counter(key: string): StatCounter {
    return this.#get(key, () => new StatCounter()) as StatCounter;
  }

  gauge(key: string, float = false): StatGauge {
    return this.#get(key, () => new StatGauge(float)) as StatGauge;
  }

  histogram(key: string): WindowHistogram {
    return this.#get(key, () => new WindowHistogram()) as WindowHistogram;
  }

  #get(key: string, make: () => StatMetric): StatMetric {
    let m = this.#metrics.get(key);
    if (m === undefined) {
      m = make();
      this.#metrics.set(key, m);
    }
    return m;
  }

  entries(): IterableIterator<[string, StatMetric]> {
    return this.#metrics.entries();
  }

  snapshot(now = Date.now()): StatsSnapshot {
    return statsFromRaw(this.raw(now));
  }

  raw(now = Date.now()): RawStats {
    const counters = new Map<string, number>();
    const gauges = new Map<string, number>();
    const histograms = new Map<string, RawWindow>();
    for (const [k, m] of this.#metrics) {
      if (m instanceof StatCounter) counters.set(k, m.value);
      else if (m instanceof StatGauge) gauges.set(k, m.value);
      else histograms.set(k, m.raw());
    }
    return { at: now, counters, gauges, histograms };
  }

  clearHistograms(): void {
    for (const m of this.#metrics.values()) if (m instanceof WindowHistogram) m.clear();
  }
}
