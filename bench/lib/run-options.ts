// The options every load-driving benchmark has in common (--duration, --warmup, --rounds,
// --connections, --threads, --payload, --timeout), parsed one way with
// each driver's own defaults.

import { intArg } from './args.js';

export interface LoadRunOptions {
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly rounds: number;
  readonly connections: number;
  /** wrk threads; 1 leaves the other core to the gateway under test. */
  readonly threads: number;
  readonly payloadBytes: number;
  readonly timeoutSeconds: number;
}

export interface LoadRunDefaults {
  readonly duration: number;
  readonly warmup: number;
  readonly rounds: number;
  readonly connections?: number;
}

/** The flags behind LoadRunOptions, for parseFlags. */
export const LOAD_RUN_FLAGS = ['duration', 'warmup', 'rounds', 'connections', 'threads', 'payload', 'timeout'] as const;

type LoadRunValues = { readonly [K in (typeof LOAD_RUN_FLAGS)[number]]?: string };

/** LoadRunOptions from the flags; threads 1, payload 1024 bytes and timeout 5 s by default everywhere. */
export function loadRunOptions(values: LoadRunValues, defaults: LoadRunDefaults): LoadRunOptions {
  return {
    durationSeconds: intArg('duration', values.duration, defaults.duration),
    warmupSeconds: intArg('warmup', values.warmup, defaults.warmup, 0),
    rounds: intArg('rounds', values.rounds, defaults.rounds),
    connections: intArg('connections', values.connections, defaults.connections ?? 50),
    threads: intArg('threads', values.threads, 1),
    payloadBytes: intArg('payload', values.payload, 1024, 0),
    timeoutSeconds: intArg('timeout', values.timeout, 5),
  };
}
