/**
 * Pushes the extended-metrics snapshot to InfluxDB every `ttl`, as krakend-influx does
 * (https://github.com/krakend/krakend-influx/blob/HEAD/influxdb.go; docs/stats.md): the 1.x write API
 * (`/write?db=…&precision=s`, basic auth) or 2.x (`/api/v2/write?org=…&bucket=…&precision=s`,
 * token). A failed batch is kept in a bounded buffer (`buffer_size` batches, newest win) and sent
 * again, merged, after the next success. Failures cost one rate-limited log line; the password or
 * token never appears in a log.
 */
import { hostname } from 'node:os';
import { request } from 'undici';
import { RateLimitedLog, type Logger } from '../../log/logger.js';
import type { StatsSource } from '../stats/stats-server.js';
import type { CounterCell } from '../store/cells.js';
import { withDeadline } from '../../util/with-deadline.js';
import { toLine } from './line-protocol.js';
import type { InfluxSettings } from '../../config/namespaces/influx.js';
import { DeltaTracker, toPoints } from './points.js';

const TIMEOUT_MS = 10_000;

export interface InfluxStats {
  readonly written: CounterCell;
  readonly failed: CounterCell;
  readonly dropped: CounterCell;
}

export class InfluxPusher {
  readonly #settings: InfluxSettings;
  readonly #metrics: StatsSource;
  readonly #logger: Logger;
  readonly #stats: InfluxStats;
  readonly #host = hostname();
  readonly #deltas = new DeltaTracker();
  readonly #errors = new RateLimitedLog(30_000);
  readonly #url: string;
  readonly #auth: string | undefined;
  #buffer: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;

  constructor(settings: InfluxSettings, metrics: StatsSource, logger: Logger, stats: InfluxStats) {
    this.#settings = settings;
    this.#metrics = metrics;
    this.#logger = logger;
    this.#stats = stats;
    if (settings.v2 !== undefined) {
      const q = new URLSearchParams({ org: settings.v2.org, bucket: settings.v2.bucket, precision: 's' });
      this.#url = `${settings.address}/api/v2/write?${q.toString()}`;
      this.#auth = `Token ${settings.v2.token}`;
    } else {
      this.#url = `${settings.address}/write?${new URLSearchParams({ db: settings.db, precision: 's' }).toString()}`;
      this.#auth =
        settings.username === undefined
          ? undefined
          : `Basic ${Buffer.from(`${settings.username}:${settings.password ?? ''}`).toString('base64')}`;
    }
  }

  start(): void {
    this.#timer = setInterval(() => {
      this.push().catch(() => undefined);
    }, this.#settings.ttlMs);
    this.#timer.unref();
  }

  /** Buffered batches waiting for InfluxDB to come back. */
  get buffered(): number {
    return this.#buffer.length;
  }

  /** One push of the latest collected snapshot (skipped while the previous push is in flight). */
  push(): Promise<void> {
    if (this.#inFlight !== undefined) return this.#inFlight;
    // Never rejects: a read that fails (throws or rejects) is a log line, and the next period reads again.
    this.#inFlight = Promise.resolve()
      .then(() => this.#metrics.latest())
      .then((snap) => {
        if (snap === undefined || (snap.counters.size === 0 && snap.gauges.size === 0)) return;
        return this.#send(toPoints(snap, this.#host, this.#deltas).map(toLine).join('\n'));
      })
      .catch((err: unknown) => this.#fail('cannot read the metrics', err instanceof Error ? err.message : String(err)))
      .finally(() => (this.#inFlight = undefined));
    return this.#inFlight;
  }

  async #send(batch: string): Promise<void> {
    if (await this.#write(batch)) {
      this.#stats.written.add(1);
      if (this.#buffer.length > 0) {
        const pending = this.#buffer;
        this.#buffer = [];
        if (await this.#write(pending.join('\n'))) this.#stats.written.add(pending.length);
        else this.#keep(pending);
      }
      return;
    }
    this.#stats.failed.add(1);
    this.#keep([batch]);
  }

  #keep(batches: readonly string[]): void {
    this.#buffer.push(...batches);
    const excess = this.#buffer.length - this.#settings.bufferSize;
    if (excess > 0) {
      this.#buffer.splice(0, excess);
      this.#stats.dropped.add(excess);
    }
  }

  async #write(body: string): Promise<boolean> {
    try {
      const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
      if (this.#auth !== undefined) headers.authorization = this.#auth;
      const r = await request(this.#url, {
        method: 'POST',
        body,
        headers,
        headersTimeout: TIMEOUT_MS,
        bodyTimeout: TIMEOUT_MS,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      const text = await r.body.text();
      if (r.statusCode >= 200 && r.statusCode < 300) return true;
      this.#fail(`InfluxDB answered ${r.statusCode}`, text.slice(0, 200));
      return false;
    } catch (err) {
      this.#fail('cannot reach InfluxDB', (err as Error).message);
      return false;
    }
  }

  #fail(reason: string, detail: string): void {
    this.#errors.maybe(reason, (suppressed) =>
      this.#logger.warn(
        { address: this.#settings.address, reason, detail, suppressed, buffered: this.#buffer.length },
        "Couldn't write to InfluxDB",
      ),
    );
  }

  async close(deadlineMs: number): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    // One deadline for both steps: an InfluxDB that never answers must not get it twice.
    const until = Date.now() + deadlineMs;
    await withDeadline(this.#inFlight ?? Promise.resolve(), until);
    await withDeadline(
      (this.#metrics.endWindow?.() ?? Promise.resolve()).then(() => this.push()),
      until,
    );
  }
}
