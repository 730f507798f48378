// Starts an OTLP sink child — lib/otlp-h2-sink-child.ts (gRPC) or
// lib/otlp-http-sink-child.ts (HTTP/protobuf) — as its own process and asks
// it for its counts over IPC. The gRPC one opens wide HTTP/2 windows, as a
// collector under load does (see its header): with grpc-js's fixed 64 KiB
// windows (lib/otlp-sink-child.ts, which lib/otlp-sink.ts starts) a saturated
// gateway's exports crawl and spans are dropped for the sink's sake.

import type { TrackedChild } from './children.js';
import { startNodeServer } from './node-child.js';

export interface OtlpServiceCounts {
  /** Export calls answered. */
  readonly requests: number;
  /** Request message bytes (after gRPC decompression). */
  readonly bytes: number;
  /** Spans (trace service) or metrics (metrics service) in those requests. */
  readonly items: number;
  /** Requests whose wire format could not be walked (answered OK anyway). */
  readonly malformed: number;
}

export interface OtlpSinkCounts {
  readonly traces: OtlpServiceCounts;
  readonly metrics: OtlpServiceCounts;
}

export interface OtlpSink {
  readonly child: TrackedChild;
  readonly port: number;
  /** The sink's counts so far (an IPC round trip). */
  counts(timeoutMs?: number): Promise<OtlpSinkCounts>;
}

export type OtlpSinkStart = ({ readonly ok: true } & OtlpSink) | { readonly ok: false; readonly reason: string };

export type SinkTransport = 'grpc' | 'http';

const SCRIPTS: Readonly<Record<SinkTransport, string>> = {
  grpc: './otlp-h2-sink-child.ts',
  http: './otlp-http-sink-child.ts',
};

function isCountsReply(value: unknown): value is { type: 'counts'; counts: OtlpSinkCounts } {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  const counts = record['counts'];
  return (
    record['type'] === 'counts' &&
    typeof counts === 'object' &&
    counts !== null &&
    'traces' in counts &&
    'metrics' in counts
  );
}

export async function startCountingSink(
  name: string,
  transport: SinkTransport,
  startTimeoutMs = 15_000,
): Promise<OtlpSinkStart> {
  const started = await startNodeServer(name, SCRIPTS[transport], [], startTimeoutMs);
  if (!started.ok) return started;
  const { child, port } = started;
  const counts = (timeoutMs = 5000): Promise<OtlpSinkCounts> =>
    new Promise((resolve, reject) => {
      const onMessage = (message: unknown): void => {
        if (isCountsReply(message)) finish(undefined, message.counts);
      };
      const timer = setTimeout(() => finish(new Error(`${name}: no counts within ${timeoutMs} ms`)), timeoutMs);
      function finish(error: Error | undefined, value?: OtlpSinkCounts): void {
        clearTimeout(timer);
        child.process.off('message', onMessage);
        if (error !== undefined || value === undefined) reject(error ?? new Error(`${name}: no counts`));
        else resolve(value);
      }
      child.process.on('message', onMessage);
      if (child.process.connected !== true) finish(new Error(`${name}: not running`));
      else child.process.send({ type: 'counts' });
    });
  return { ok: true, child, port, counts };
}
