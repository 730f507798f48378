/**
 * The slowest requests of the last minute, for the dashboard: a fixed number of entries, replaced
 * only by a slower request (or when they age out), so the common case costs one comparison.
 * Paths are kept without their query string (it can carry credentials).
 */
import type { RequestRecord } from '../record.js';

export interface SlowRequest {
  /** Wall-clock end of the request (ms since epoch). */
  readonly at: number;
  readonly durationMs: number;
  readonly method: string;
  readonly route: string;
  readonly path: string;
  readonly status: number;
  readonly traceId: string | undefined;
}

const SLOW_KEEP = 20;
const SLOW_WINDOW_MS = 60_000;

export class SlowLog {
  readonly #entries: SlowRequest[] = [];
  /** Duration of the fastest kept entry: a request must beat it once the log is full. */
  #floorMs = 0;

  offer(rec: RequestRecord, route: string, seconds: number, traceId: string | undefined): void {
    const ms = seconds * 1000;
    const full = this.#entries.length >= SLOW_KEEP;
    if (full && ms <= this.#floorMs) return;
    const now = Date.now();
    this.#evictOld(now);
    const entry: SlowRequest = {
      at: now,
      durationMs: ms,
      method: rec.method,
      route,
      path: rec.path.length > 200 ? `${rec.path.slice(0, 200)}…` : rec.path,
      status: rec.status,
      traceId,
    };
    if (this.#entries.length >= SLOW_KEEP) {
      let min = 0;
      for (let i = 1; i < this.#entries.length; i++)
        if ((this.#entries[i] as SlowRequest).durationMs < (this.#entries[min] as SlowRequest).durationMs) min = i;
      this.#entries[min] = entry;
    } else this.#entries.push(entry);
    this.#floorMs = this.#entries.length >= SLOW_KEEP ? Math.min(...this.#entries.map((e) => e.durationMs)) : 0;
  }

  #evictOld(now: number): void {
    for (let i = this.#entries.length - 1; i >= 0; i--)
      if (now - (this.#entries[i] as SlowRequest).at > SLOW_WINDOW_MS) this.#entries.splice(i, 1);
  }

  /** The kept requests of the last minute, slowest first. */
  list(now = Date.now()): SlowRequest[] {
    this.#evictOld(now);
    this.#floorMs = this.#entries.length >= SLOW_KEEP ? Math.min(...this.#entries.map((e) => e.durationMs)) : 0;
    return [...this.#entries].sort((a, b) => b.durationMs - a.durationMs);
  }
}

/** Several workers' lists as one: the slowest of all, within the window. */
export function mergeSlow(lists: readonly (readonly SlowRequest[])[], now = Date.now()): SlowRequest[] {
  return lists
    .flat()
    .filter((e) => now - e.at <= SLOW_WINDOW_MS)
    .sort((a, b) => b.durationMs - a.durationMs)
    .slice(0, SLOW_KEEP);
}
