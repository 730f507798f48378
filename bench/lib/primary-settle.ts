// A cluster primary's one collection after start-up, kept out of the measured runs of --fresh
// gateways. The primary serves no request: once the workers are up it idles, and V8's memory reducer
// then collects what start-up left, three full collections about 0.6 s apart, 25-45 s into the
// process's life (seen with a GC observer in the primary: 13 + 52 + 17 ms of main thread, about
// 230 ms of CPU with the parallel marking threads). A 4 s run 18-22 s after start caught it in about
// half of the `metrics` gateway's runs and a fifth of `off`'s (8-14 µs per request that run: two runs
// of commit 7c29e25, bench/README.md), so it weighed on a ratio it has nothing to do with. It
// happens once per process, so a gateway that runs for days never pays it per request.

import { ticksToMs } from './foreign-load.js';
import { cpuTicks, nodeChildren, nodePidOf } from './otlp-bench-util.js';

/**
 * CPU ms in one second of a primary's life above which it is collecting: it idles at about 1 ms/s,
 * and hands each new connection to a worker (round-robin), 10-30 ms for a load run's 50; the
 * collection's seconds measured 90-160 ms.
 */
const BURST_MS_PER_SECOND = 60;
/** The memory reducer's three collections span about 1.5 s; the run starts after the last. */
const AFTER_BURST_MS = 2_500;
/** Start-up's own CPU (module loading, forking) is not the collection being waited for. */
const START_UP_MS = 6_000;

/**
 * The cluster primary of a gateway's process tree (past its `timeout` and `taskset` wrappers);
 * undefined for a gateway of one process.
 */
export function clusterPrimary(root: number): number | undefined {
  const node = nodePidOf(root);
  return node !== undefined && nodeChildren(node).length > 0 ? node : undefined;
}

function cpuMs(pid: number): number | undefined {
  const t = cpuTicks(pid);
  return t === undefined ? undefined : ticksToMs(t);
}

/**
 * Watches a primary second by second from its start (`startedAt`, ms since the epoch): `state` is
 * `settled` once it has collected and `AFTER_BURST_MS` more passed, `timedOut` once it is `maxAgeMs`
 * old without that, `waiting` before.
 */
export class PrimarySettle {
  readonly #pid: number;
  readonly #startedAt: number;
  readonly #maxAgeMs: number;
  #last: number | undefined;
  #burstAt: number | undefined;
  readonly #timer: NodeJS.Timeout;

  constructor(pid: number, startedAt: number, maxAgeMs: number) {
    this.#pid = pid;
    this.#startedAt = startedAt;
    this.#maxAgeMs = maxAgeMs;
    this.#last = cpuMs(pid);
    this.#timer = setInterval(() => this.#sample(), 1000);
    this.#timer.unref();
  }

  #sample(): void {
    const now = cpuMs(this.#pid);
    const last = this.#last;
    this.#last = now;
    if (now === undefined || last === undefined || this.#burstAt !== undefined) return;
    if (Date.now() - this.#startedAt > START_UP_MS && now - last >= BURST_MS_PER_SECOND) this.#burstAt = Date.now();
  }

  /** Whether the primary has collected and the run may start; `timedOut` when it is old enough anyway. */
  get state(): 'waiting' | 'settled' | 'timedOut' {
    if (this.#burstAt !== undefined && Date.now() - this.#burstAt >= AFTER_BURST_MS) return 'settled';
    if (Date.now() - this.#startedAt >= this.#maxAgeMs) return 'timedOut';
    return 'waiting';
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
