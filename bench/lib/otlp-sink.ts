// Driver side of the OTLP/gRPC sink (otlp-sink-child.ts): starts it as a
// separate Node process, learns its port, and asks it for its counts
// (through lib/counting-sink.ts, which starts either sink).

import { startCountingSink, type OtlpSinkStart } from './counting-sink.js';

export type { OtlpServiceCounts, OtlpSink, OtlpSinkCounts, OtlpSinkStart } from './counting-sink.js';

/** Starts lib/otlp-sink-child.ts (the OTLP/gRPC sink); lib/counting-sink.ts does the talking. */
export function startOtlpSink(name: string, startTimeoutMs = 15_000): Promise<OtlpSinkStart> {
  return startCountingSink(name, 'grpc', startTimeoutMs);
}
