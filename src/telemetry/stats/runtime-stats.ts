/**
 * The `krakend.service.*` keys, whose Go runtime has no equivalent here: the Node.js readings whose
 * meaning matches are reported under the Go names (heap → HeapAlloc/HeapInuse/HeapSys/HeapIdle,
 * resident memory → Sys, V8 collections → NumGC/PauseTotalNs/LastGC and the pause histograms, OS
 * threads → NumThread). Go-only keys (goroutines, mallocs, mspan/mcache, cgo calls) are not emitted;
 * docs/stats.md lists the mapping. GC pauses come from a PerformanceObserver started in `start()`.
 */
import { readFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import type { StatGauge, StatsRegistry } from './stats-registry.js';
import type { WindowHistogram } from './window-histogram.js';

function threads(): number | undefined {
  try {
    const m = /^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m === null ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

export class RuntimeStats {
  readonly #gauges: Record<string, StatGauge>;
  readonly #pause: WindowHistogram;
  readonly #pauseNs: WindowHistogram;
  #observer: PerformanceObserver | undefined;
  numGc = 0;
  pauseTotalNs = 0;
  lastGcNs = 0;

  constructor(reg: StatsRegistry) {
    const mem = (k: string): StatGauge => reg.gauge(`krakend.service.runtime.MemStats.${k}`);
    this.#gauges = {
      Alloc: mem('Alloc'),
      HeapAlloc: mem('HeapAlloc'),
      HeapInuse: mem('HeapInuse'),
      HeapSys: mem('HeapSys'),
      HeapIdle: mem('HeapIdle'),
      Sys: mem('Sys'),
      NumGC: mem('NumGC'),
      PauseTotalNs: mem('PauseTotalNs'),
      LastGC: mem('LastGC'),
      NumThread: reg.gauge('krakend.service.runtime.NumThread'),
      DebugNumGC: reg.gauge('krakend.service.debug.GCStats.NumGC'),
      DebugPauseTotal: reg.gauge('krakend.service.debug.GCStats.PauseTotal'),
      DebugLastGC: reg.gauge('krakend.service.debug.GCStats.LastGC'),
    };
    this.#pause = reg.histogram('krakend.service.debug.GCStats.Pause');
    this.#pauseNs = reg.histogram('krakend.service.runtime.MemStats.PauseNs');
  }

  start(): void {
    if (this.#observer !== undefined) return;
    this.#observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const ns = Math.round(e.duration * 1e6);
        this.numGc++;
        this.pauseTotalNs += ns;
        this.lastGcNs = Math.round((performanceOrigin() + e.startTime + e.duration) * 1e6);
        this.#pause.update(ns);
        this.#pauseNs.update(ns);
      }
    });
    this.#observer.observe({ entryTypes: ['gc'] });
  }

  close(): void {
    this.#observer?.disconnect();
    this.#observer = undefined;
  }

  /** Refreshes the gauges (called on each collection tick and before a /__stats render). */
  collect(): void {
    const m = process.memoryUsage();
    const g = this.#gauges;
    (g.Alloc as StatGauge).value = m.heapUsed;
    (g.HeapAlloc as StatGauge).value = m.heapUsed;
    (g.HeapInuse as StatGauge).value = m.heapUsed;
    (g.HeapSys as StatGauge).value = m.heapTotal;
    (g.HeapIdle as StatGauge).value = m.heapTotal - m.heapUsed;
    (g.Sys as StatGauge).value = m.rss;
    (g.NumGC as StatGauge).value = this.numGc;
    (g.PauseTotalNs as StatGauge).value = this.pauseTotalNs;
    (g.LastGC as StatGauge).value = this.lastGcNs;
    (g.DebugNumGC as StatGauge).value = this.numGc;
    (g.DebugPauseTotal as StatGauge).value = this.pauseTotalNs;
    (g.DebugLastGC as StatGauge).value = this.lastGcNs;
    const t = threads();
    if (t !== undefined) (g.NumThread as StatGauge).value = t;
  }
}

/** The runtime.MemStats fields with a Node.js reading (the gauges `collect` sets), in the struct's order. */
const MEMSTATS_FIELDS = [
  'Alloc',
  'Sys',
  'HeapAlloc',
  'HeapSys',
  'HeapIdle',
  'HeapInuse',
  'LastGC',
  'PauseTotalNs',
  'NumGC',
];

/**
 * Go's expvar `memstats` object from the `krakend.service.*` gauges of a snapshot, so it is the same
 * reading as those keys in one process and their sum in a cluster. Only the fields with a Node.js
 * reading, in runtime.MemStats' field order (encoding/json writes struct fields in declaration order).
 */
export function memstatsOf(gauges: ReadonlyMap<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of MEMSTATS_FIELDS) out[f] = gauges.get(`krakend.service.runtime.MemStats.${f}`) ?? 0;
  return out;
}

function performanceOrigin(): number {
  return performance.timeOrigin;
}
