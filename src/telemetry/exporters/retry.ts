/**
 * Retries for OTLP/gRPC exports, which the official gRPC exporter does not retry itself (its HTTP
 * sibling does, for 429/502/503/504). Only the status codes the OTLP specification calls retryable
 * are retried, with jittered exponential backoff, within the export's deadline.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';

/** CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS (OTLP spec, gRPC). */
const RETRYABLE_GRPC = new Set([1, 4, 10, 11, 14, 15]);

function isRetryable(result: ExportResult): boolean {
  if (result.code === ExportResultCode.SUCCESS) return false;
  const code = (result.error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' && RETRYABLE_GRPC.has(code);
}

export interface RetryPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly multiplier: number;
  readonly attempts: number;
}

const DEFAULT_RETRY: RetryPolicy = { initialMs: 1_000, maxMs: 5_000, multiplier: 1.5, attempts: 5 };

/** Runs `attempt` until it succeeds, fails for good, runs out of attempts or passes `deadline`. */
export function withRetry(
  attempt: (cb: (r: ExportResult) => void) => void,
  deadline: number,
  done: (r: ExportResult) => void,
  policy: RetryPolicy = DEFAULT_RETRY,
): void {
  let left = policy.attempts;
  let backoff = policy.initialMs;
  const run = (): void => {
    attempt((result) => {
      if (!isRetryable(result) || left <= 0) {
        done(result);
        return;
      }
      left--;
      // A server's Retry-After (parsed by the span transports) wins over the backoff.
      const hint = (result.error as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
      const wait =
        typeof hint === 'number' && hint >= 0 ? hint : Math.min(backoff * (0.8 + Math.random() * 0.4), policy.maxMs);
      backoff *= policy.multiplier;
      if (Date.now() + wait > deadline) {
        done(result);
        return;
      }
      setTimeout(run, wait).unref();
    });
  };
  run();
}
