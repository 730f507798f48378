/**
 * Bounded batching in front of a span exporter: a queue of at most `maxQueue` spans, batches of
 * about `maxBatch` sent every `delayMs` (or sooner when a batch is full), one export in flight at a
 * time. When the collector is down or slow the queue fills and new spans are dropped and counted —
 * memory stays flat and nothing waits on the collector. Retryable failures are retried with backoff
 * (exporters/retry.ts) while the batch keeps its place.
 *
 * Spans arrive already encoded, a request's worth at a time, and are appended to the open batch's
 * buffer: one copy per span and no object per span, whatever the queue holds.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { withRetry } from '../exporters/retry.js';
import type { CounterCell } from '../store/cells.js';
import { DEFAULT_BATCHER, type BatcherOptions } from '../../config/environment.js';
import { withDeadline } from '../../util/with-deadline.js';
import { ProtobufWriter } from './protobuf-writer.js';

/**
 * Encoded spans (a run of `ScopeSpans.spans` fields in `buf[start, end)`) and how many they are. The
 * `HEADROOM` bytes before `start` are free, so the export request's header can be written in front of
 * the spans instead of copying them into a new buffer.
 */
export interface SpanChunk {
  readonly buf: Buffer;
  readonly start: number;
  readonly end: number;
  readonly count: number;
}

const HEADROOM = 512;
const BATCH_BUFFER = 64 * 1024;
/** Buffers of finished exports kept for the next batches (big allocations cost GC work). */
const FREE_BUFFERS = 2;

/** What the batcher hands encoded spans to (an OTLP exporter with Tollgate's span encoding). */
export interface EncodedSpanExporter {
  export(chunk: SpanChunk, resultCallback: (result: ExportResult) => void): void;
  shutdown(): Promise<void>;
}

export interface BatcherStats {
  readonly exported: CounterCell;
  readonly dropped: CounterCell;
  readonly failed: CounterCell;
}

export class SpanBatcher {
  readonly #exporter: EncodedSpanExporter;
  readonly #options: BatcherOptions;
  readonly #stats: BatcherStats;
  /** Sealed batches, oldest first, and the open one being appended to. */
  #sealed: SpanChunk[] = [];
  #free: Buffer[] = [];
  #open = this.#newOpen(BATCH_BUFFER);
  #openCount = 0;
  #queued = 0;
  #inFlightCount = 0;
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
    return this.#queued;
  }

  /** Appends `count` encoded spans (copied: `bytes` may be reused by the caller). */
  add(bytes: Uint8Array, count: number): void {
    if (this.#closed || this.#queued + count > this.#options.maxQueue) {
      this.#stats.dropped.add(count);
      return;
    }
    this.#open.raw(bytes);
    this.#openCount += count;
    this.#queued += count;
    if (this.#openCount >= this.#options.maxBatch || this.#open.pos - HEADROOM >= this.#options.maxBatchBytes) {
      this.#seal();
      if (this.#inFlight === undefined) this.#flushOne();
    }
  }

  #newOpen(size: number): ProtobufWriter {
    const w = new ProtobufWriter(0);
    const i = this.#free.findIndex((b) => b.length >= size);
    w.buf = i >= 0 ? (this.#free.splice(i, 1)[0] as Buffer) : Buffer.allocUnsafe(size);
    w.pos = HEADROOM;
    return w;
  }

  #seal(): void {
    if (this.#openCount === 0) return;
    const w = this.#open;
    this.#sealed.push({ buf: w.buf, start: HEADROOM, end: w.pos, count: this.#openCount });
    // The next batch starts in a buffer of the size the last one needed.
    this.#open = this.#newOpen(Math.max(BATCH_BUFFER, w.pos + 1024));
    this.#openCount = 0;
  }

  #flushOne(): void {
    if (this.#inFlight !== undefined) return;
    if (this.#sealed.length === 0) this.#seal();
    const batch = this.#sealed.shift();
    if (batch === undefined) return;
    this.#inFlightCount = batch.count;
    let resolve!: () => void;
    // Set before the export starts: an exporter may call back (or throw) synchronously.
    this.#inFlight = new Promise<void>((r) => (resolve = r));
    let settled = false;
    // A batch given up on by the timer may still be read by its exporter: never reuse its buffer.
    let timedOut = false;
    const done = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      (ok ? this.#stats.exported : this.#stats.failed).add(batch.count);
      this.#queued -= batch.count;
      this.#inFlightCount = 0;
      this.#inFlight = undefined;
      // The exporter is done with the bytes once it has called back: the buffer can carry a later batch.
      if (this.#free.length < FREE_BUFFERS && !timedOut) this.#free.push(batch.buf);
      resolve();
      if (!this.#closed && this.#sealed.length > 0) this.#flushOne();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      done(false);
    }, this.#options.exportTimeoutMs);
    timer.unref();
    const attempt = (cb: (r: ExportResult) => void): void => {
      try {
        this.#exporter.export(batch, cb);
      } catch (error) {
        cb({ code: ExportResultCode.FAILED, error: error as Error });
      }
    };
    withRetry(attempt, Date.now() + this.#options.exportTimeoutMs, (result) =>
      done(result.code === ExportResultCode.SUCCESS),
    );
  }

  /** Sends what is queued, within `deadlineMs`; what is left then is dropped (and counted). */
  async close(deadlineMs: number): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    const until = Date.now() + deadlineMs;
    while ((this.#queued > 0 || this.#inFlight !== undefined) && Date.now() < until) {
      this.#flushOne();
      const pending = this.#inFlight;
      if (pending !== undefined) await withDeadline(pending, until);
    }
    this.#closed = true;
    // The batch still in flight is counted when its export ends; the rest is dropped now.
    if (this.#queued > this.#inFlightCount) {
      this.#stats.dropped.add(this.#queued - this.#inFlightCount);
      this.#sealed = [];
      this.#open.pos = HEADROOM;
      this.#openCount = 0;
      this.#queued = this.#inFlightCount;
    }
    // What is left of the deadline (a stuck exporter's shutdown waits on its export), not a second more.
    await withDeadline(
      this.#exporter.shutdown().catch(() => undefined),
      until,
    );
  }
}
