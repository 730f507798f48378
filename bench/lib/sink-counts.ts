// What every OTLP sink child counts per signal, and its side of the IPC
// protocol: { type: 'counts' } is answered with { type: 'counts', counts } in
// the OtlpSinkCounts shape (SIGUSR2 prints the same as one JSON line on stderr).

import type { OtlpServiceCounts, OtlpSinkCounts } from './otlp-sink.js';

export type MutableCounts = { -readonly [K in keyof OtlpServiceCounts]: OtlpServiceCounts[K] };

export interface SinkCounters {
  readonly traces: MutableCounts;
  readonly metrics: MutableCounts;
}

const zero = (): MutableCounts => ({ requests: 0, bytes: 0, items: 0, malformed: 0 });
const snapshot = (c: MutableCounts): OtlpServiceCounts => ({ ...c });

/** Counters for both signals, reported to the parent when it asks. */
export function sinkCounters(): SinkCounters {
  const counters = { traces: zero(), metrics: zero() };
  const counts = (): OtlpSinkCounts => ({ traces: snapshot(counters.traces), metrics: snapshot(counters.metrics) });
  process.on('message', (message: unknown) => {
    if (typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'counts')
      process.send?.({ type: 'counts', counts: counts() });
  });
  process.on('SIGUSR2', () => {
    process.stderr.write(`${JSON.stringify(counts())}\n`);
  });
  return counters;
}
