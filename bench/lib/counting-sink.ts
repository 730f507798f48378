// Starts an OTLP sink child — lib/otlp-sink-child.ts (gRPC) or
// lib/otlp-http-sink-child.ts (HTTP/protobuf) — as its own process and asks
// it for its counts over IPC. lib/otlp-sink.ts does the same for the gRPC
// sink only; this one takes the script, so both transports share one path.

import { startNodeServer } from './node-child.js';
import type { OtlpSinkCounts, OtlpSinkStart } from './otlp-sink.js';

export type SinkTransport = 'grpc' | 'http';

const SCRIPTS: Readonly<Record<SinkTransport, string>> = { grpc: './otlp-sink-child.ts', http: './otlp-http-sink-child.ts' };

function isCountsReply(value: unknown): value is { type: 'counts'; counts: OtlpSinkCounts } {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  const counts = record['counts'];
  return record['type'] === 'counts' && typeof counts === 'object' && counts !== null && 'traces' in counts && 'metrics' in counts;
}

export async function startCountingSink(name: string, transport: SinkTransport, startTimeoutMs = 15_000): Promise<OtlpSinkStart> {
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
