/**
 * Bounded batching in front of a span exporter: a queue of at most `maxQueue` spans, batches of
 * `maxBatch` sent every `delayMs` (or sooner when a batch is full), one export in flight at a time.
 * When the collector is down or slow the queue fills and new spans are dropped and counted — memory
 * stays flat and nothing waits on the collector. Retryable failures are retried with backoff
 * (exporters/retry.ts) while the batch keeps its place.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { withRetry } from '../exporters/retry.js';
/** What the batcher hands encoded spans to (an OTLP exporter with Tollgate's span encoding). */
export interface EncodedSpanExporter {
  export(spans: Buffer[], resultCallback: (result: ExportResult) => void): void;
  shutdown(): Promise<void>;
}
import type { CounterCell } from '../store/cells.js';

export interface BatcherOptions {
  readonly maxQueue: number;
  readonly maxBatch: number;
  readonly delayMs: number;
  readonly exportTimeoutMs: number;
}

export const DEFAULT_BATCHER: BatcherOptions = { maxQueue: 2048, maxBatch: 512, delayMs: 5_000, exportTimeoutMs: 30_000 };

export interface BatcherStats {
  readonly exported: CounterCell;
  readonly dropped: CounterCell;
  readonly failed: CounterCell;
}

export class SpanBatcher {
  readonly #exporter: EncodedSpanExporter;
  readonly #options: BatcherOptions;
  readonly #stats: BatcherStats;
  #queue: Buffer[] = [];
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #closed = false;

  constructor(exporter: EncodedSpanExporter, stats: BatcherStats, options: BatcherOptions = DEFAULT_BATCHER) {
    this.#exporter = exporter;
    this.#stats = stats;
    this.#options = options;
  }

  start(): void {
    this.#timer = setInterval(() => this.#flushOne(), this.#options.delayMs);
    this.#timer.unref();
  }

  get queued(): number {
    return this.#queue.length;
  }

  add(spans: readonly Buffer[]): void {
    if (this.#closed || this.#queue.length + spans.length > this.#options.maxQueue) {
      this.#stats.dropped.add(spans.length);
      return;
    }
    for (const s of spans) this.#queue.push(s);
    if (this.#queue.length >= this.#options.maxBatch && this.#inFlight === undefined) this.#flushOne();
  }

  #flushOne(): void {
    if (this.#inFlight !== undefined || this.#queue.length === 0) return;
    const batch = this.#queue.splice(0, this.#options.maxBatch);
    this.#inFlight = new Promise<void>((resolve) => {
      let settled = false;
      const done = (ok: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        (ok ? this.#stats.exported : this.#stats.failed).add(batch.length);
        this.#inFlight = undefined;
        resolve();
        if (!this.#closed && this.#queue.length >= this.#options.maxBatch) this.#flushOne();
      };
      const timer = setTimeout(() => done(false), this.#options.exportTimeoutMs);
      timer.unref();
      const attempt = (cb: (r: ExportResult) => void): void => {
        try {
          this.#exporter.export(batch, cb);
        } catch (error) {
          cb({ code: ExportResultCode.FAILED, error: error as Error });
        }
      };
      withRetry(attempt, Date.now() + this.#options.exportTimeoutMs, (result) => done(result.code === ExportResultCode.SUCCESS));
    });
  }

  /** Sends what is queued, within `deadlineMs`; what is left then is dropped (and counted). */
  async close(deadlineMs: number): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    const until = Date.now() + deadlineMs;
    while ((this.#queue.length > 0 || this.#inFlight !== undefined) && Date.now() < until) {
      this.#flushOne();
      const pending = this.#inFlight;
      if (pending !== undefined) await Promise.race([pending, new Promise((r) => setTimeout(r, Math.max(1, until - Date.now())))]);
    }
    this.#closed = true;
    if (this.#queue.length > 0) {
      this.#stats.dropped.add(this.#queue.length);
      this.#queue = [];
    }
    await Promise.race([this.#exporter.shutdown().catch(() => undefined), new Promise((r) => setTimeout(r, 1_000))]);
  }
}
