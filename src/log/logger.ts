/** Structured JSON-lines logging (pino) on stdout; one line per event with a stable `msg`. */
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function createLogger(level: LogLevel = 'info', destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'tollgate' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

/**
 * A per-key rate limit for log lines on failure paths: a dead backend under load costs one line per
 * interval with a count of what was suppressed, not one line per request.
 */
export class RateLimitedLog {
  readonly #last = new Map<string, { at: number; suppressed: number }>();
  readonly #intervalMs: number;
  readonly #maxKeys: number;

  constructor(intervalMs = 5_000, maxKeys = 1_000) {
    this.#intervalMs = intervalMs;
    this.#maxKeys = maxKeys;
  }

  /** Calls `emit(suppressedSinceLast)` when this key may log now. */
  maybe(key: string, emit: (suppressed: number) => void): void {
    const now = Date.now();
    const entry = this.#last.get(key);
    if (entry !== undefined && now - entry.at < this.#intervalMs) {
      entry.suppressed++;
      return;
    }
    if (entry === undefined && this.#last.size >= this.#maxKeys) this.#last.clear();
    emit(entry?.suppressed ?? 0);
    this.#last.set(key, { at: now, suppressed: 0 });
  }
}
