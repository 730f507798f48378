/**
 * Node.js runtime metrics, exported when the Prometheus exporter's `go_metrics` flag is on. KrakenD
 * registers client_golang's Go collector there; Tollgate has no Go runtime, so instead of faking `go_*`
 * series it exports the honest Node.js analogs (prom-client's names where prom-client has one).
 *
 * KrakenD Go panel                    → Tollgate Node.js family (closest meaning)
 * ----------------------------------------------------------------------------------------------------
 * go_goroutines                       → nodejs_active_handles + nodejs_active_requests (units of pending
 *                                       concurrent work; JS itself runs on one thread)
 * go_threads                          → none: libuv's pool is fixed (UV_THREADPOOL_SIZE); saturation shows
 *                                       as nodejs_eventloop_lag_* / nodejs_eventloop_utilization_ratio
 * go_sched_latencies_seconds          → nodejs_eventloop_lag_seconds / _p99_seconds / _max_seconds
 * go_memstats_alloc_bytes             → nodejs_heap_size_used_bytes
 * go_memstats_heap_alloc_bytes        → nodejs_heap_size_used_bytes
 * go_memstats_heap_inuse_bytes        → nodejs_heap_size_used_bytes (per space: nodejs_heap_space_size_used_bytes)
 * go_memstats_heap_sys_bytes          → nodejs_heap_size_total_bytes
 * go_memstats_sys_bytes               → process_resident_memory_bytes (process group; V8 has no "bytes
 *                                       obtained from the OS" total)
 * go_memstats_mallocs/frees_total     → none (V8 does not count allocations)
 * (off-heap allocations, cgo)         → nodejs_external_memory_bytes, nodejs_array_buffers_bytes
 * go_gc_duration_seconds (summary)    → nodejs_gc_duration_seconds{kind} (histogram; _count = GC runs)
 * go_memstats_last_gc_time_seconds    → none
 * go_info{version}                    → nodejs_version_info{version,major,minor,patch}
 *
 * Memory gauges are refreshed by a store collector at snapshot time and need no start(). The event
 * loop and GC families need a monitor and an observer: they are created in start() and torn down in
 * close(), never in the constructor, so merely registering the families leaves nothing running. No
 * timer of our own is needed: lag and utilization are computed "since the last collection".
 */
import { constants, monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import type { EventLoopUtilization, IntervalHistogram } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import type { MetricStore } from '../store/store.js';
import type { GaugeCell, HistogramCell } from '../store/cells.js';

const GROUP = 'nodejs';

/** prom-client's buckets: GC pauses are either sub-millisecond scavenges or long mark-compacts. */
const GC_BUCKETS = [0.001, 0.01, 0.1, 1, 2, 5] as const;

/**
 * Sampling resolution of the event-loop delay monitor in ms. prom-client samples every 10 ms, but the
 * monitor is a libuv timer, so at 10 ms it wakes an idle worker 100 times a second: measured at 5.5 ms
 * of CPU per second per worker on the development VM (bench/idle-cpu.ts), more than the rest
 * of an idle gateway together. At 100 ms the lag is still sampled 10 times a second (about 150 samples
 * per 15 s scrape) and every stall of 100 ms or more is caught; a shorter stall is caught only when it
 * overlaps a due sample, and shows in `nodejs_eventloop_utilization_ratio` either way.
 */
export const LAG_RESOLUTION_MS = 100;

/**
 * process.getActiveResourcesInfo() lists one type name per referenced libuv handle, per in-flight
 * libuv request, one 'Timeout' per referenced timer and one 'Immediate' when immediates are queued.
 * Requests are the ReqWrap classes: every `*Req*` name (FSReqCallback, FSReqPromise, CloseReq,
 * GetAddrInfoReqWrap, …) plus the stream/UDP request wraps below. Everything else — sockets, servers,
 * pipes, TTYs, timers, the Immediate entry — counts as a handle, as prom-client's
 * process._getActiveHandles() based gauge counts timers as handles too.
 */
const STREAM_REQUESTS = new Set(['WriteWrap', 'ShutdownWrap', 'ConnectWrap', 'SendWrap']);
export function isRequestResource(name: string): boolean {
  return name.includes('Req') || STREAM_REQUESTS.has(name);
}

/** V8 names spaces `new_space`, `old_space`, …; prom-client labels them without the suffix. */
function spaceLabel(spaceName: string): string {
  return spaceName.endsWith('_space') ? spaceName.slice(0, -'_space'.length) : spaceName;
}

type GcKind = 'major' | 'minor' | 'incremental' | 'weakcb';

function gcKind(kind: unknown): GcKind | undefined {
  switch (kind) {
    case constants.NODE_PERFORMANCE_GC_MAJOR:
      return 'major';
    case constants.NODE_PERFORMANCE_GC_MINOR:
      return 'minor';
    case constants.NODE_PERFORMANCE_GC_INCREMENTAL:
      return 'incremental';
    case constants.NODE_PERFORMANCE_GC_WEAKCB:
      return 'weakcb';
    default:
      return undefined;
  }
}

export class NodeRuntimeMetrics {
  readonly #heapTotal: GaugeCell;
  readonly #heapUsed: GaugeCell;
  readonly #external: GaugeCell;
  readonly #arrayBuffers: GaugeCell;
  readonly #spaces = new Map<string, GaugeCell>();
  readonly #lagMean: GaugeCell;
  readonly #lagP99: GaugeCell;
  readonly #lagMax: GaugeCell;
  readonly #utilization: GaugeCell;
  readonly #gc: Record<GcKind, HistogramCell>;
  readonly #handles: GaugeCell;
  readonly #requests: GaugeCell;

  #delay: IntervalHistogram | undefined;
  #observer: PerformanceObserver | undefined;
  #lastElu: EventLoopUtilization | undefined;

  constructor(store: MetricStore) {
    // Amounts add up over cluster workers; delays and utilisation keep the worst worker.
    const gauge = (name: string, help: string, unit?: string): GaugeCell =>
      store
        .gauge(GROUP, {
          name,
          help,
          ...(unit === undefined ? {} : { unit }),
          merge: unit === 'bytes' || name.startsWith('nodejs_active_') ? 'sum' : 'max',
        })
        .bind([]);

    this.#heapTotal = gauge('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', 'bytes');
    this.#heapUsed = gauge('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', 'bytes');
    this.#external = gauge('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', 'bytes');
    this.#arrayBuffers = gauge(
      'nodejs_array_buffers_bytes',
      'Memory allocated for ArrayBuffers and SharedArrayBuffers (part of external memory) in bytes.',
      'bytes',
    );

    // The set of V8 heap spaces is fixed for the life of the isolate, so every cell is bound once here.
    const spaces = store.gauge(GROUP, {
      name: 'nodejs_heap_space_size_used_bytes',
      merge: 'sum',
      help: 'Process heap space size used from Node.js in bytes.',
      unit: 'bytes',
    });
    for (const s of getHeapSpaceStatistics())
      this.#spaces.set(s.space_name, spaces.bind([['space', spaceLabel(s.space_name)]]));

    this.#lagMean = gauge(
      'nodejs_eventloop_lag_seconds',
      'Mean event loop delay since the last collection in seconds.',
      'seconds',
    );
    this.#lagP99 = gauge(
      'nodejs_eventloop_lag_p99_seconds',
      'The 99th percentile of the recorded event loop delays.',
      'seconds',
    );
    this.#lagMax = gauge('nodejs_eventloop_lag_max_seconds', 'The maximum recorded event loop delay.', 'seconds');
    this.#utilization = gauge(
      'nodejs_eventloop_utilization_ratio',
      'Fraction of time the event loop was busy since the last collection (0 to 1).',
      'ratio',
    );

    const gc = store.histogram(GROUP, {
      name: 'nodejs_gc_duration_seconds',
      help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
      unit: 'seconds',
      buckets: GC_BUCKETS,
    });
    this.#gc = {
      major: gc.bind([['kind', 'major']]),
      minor: gc.bind([['kind', 'minor']]),
      incremental: gc.bind([['kind', 'incremental']]),
      weakcb: gc.bind([['kind', 'weakcb']]),
    };

    this.#handles = gauge('nodejs_active_handles', 'Number of active libuv handles, timers included.');
    this.#requests = gauge('nodejs_active_requests', 'Number of active libuv requests.');

    // Constant for the life of the process: set once, no collection needed.
    const [major = '', minor = '', patch = ''] = process.version.slice(1).split('.');
    store
      .gauge(GROUP, { name: 'nodejs_version_info', help: 'Node.js version info.' })
      .bind([
        ['version', process.version],
        ['major', major],
        ['minor', minor],
        ['patch', patch],
      ])
      .set(1);

    store.addCollector(GROUP, () => this.#collect());
  }

  /** Starts the event-loop delay monitor and the GC observer; idempotent. */
  start(): void {
    if (this.#delay !== undefined) return;
    // The monitor's libuv timer is unref'd by Node once enabled, so it never keeps the process alive.
    this.#delay = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
    this.#delay.enable();
    this.#lastElu = performance.eventLoopUtilization();
    this.#observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        // GC entries carry { kind, flags } in `detail` (Node >= 16); @types/node does not declare it.
        const detail = 'detail' in entry ? entry.detail : undefined;
        const kind = gcKind(
          typeof detail === 'object' && detail !== null && 'kind' in detail ? detail.kind : undefined,
        );
        if (kind !== undefined) this.#gc[kind].observe(entry.duration / 1000);
      }
    });
    this.#observer.observe({ entryTypes: ['gc'] });
  }

  /** Stops the monitor and the observer; the event-loop gauges keep their last values. Idempotent. */
  close(): void {
    this.#delay?.disable();
    this.#delay = undefined;
    this.#observer?.disconnect();
    this.#observer = undefined;
    this.#lastElu = undefined;
  }

  #collect(): void {
    const mem = process.memoryUsage();
    this.#heapTotal.set(mem.heapTotal);
    this.#heapUsed.set(mem.heapUsed);
    this.#external.set(mem.external);
    this.#arrayBuffers.set(mem.arrayBuffers);
    for (const s of getHeapSpaceStatistics()) this.#spaces.get(s.space_name)?.set(s.space_used_size);

    let handles = 0;
    let requests = 0;
    for (const name of process.getActiveResourcesInfo()) {
      if (isRequestResource(name)) requests++;
      else handles++;
    }
    this.#handles.set(handles);
    this.#requests.set(requests);

    const delay = this.#delay;
    // With no sample since the last reset (scrapes closer together than the resolution) mean is NaN:
    // keep the previous values rather than export NaN.
    if (delay !== undefined && delay.count > 0) {
      this.#lagMean.set(delay.mean / 1e9);
      this.#lagP99.set(delay.percentile(99) / 1e9);
      this.#lagMax.set(delay.max / 1e9);
      delay.reset();
    }

    if (this.#lastElu !== undefined) {
      const now = performance.eventLoopUtilization();
      const delta = performance.eventLoopUtilization(now, this.#lastElu);
      this.#lastElu = now;
      // Two collections in the same instant give 0/0; keep the previous value then.
      if (Number.isFinite(delta.utilization)) this.#utilization.set(Math.min(1, Math.max(0, delta.utilization)));
    }
  }
}
