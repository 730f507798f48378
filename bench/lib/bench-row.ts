// One row of the comparison: either measured (with every round kept for the
// JSON) or unavailable with the reason, so the table always shows every
// target and says why a number is missing.

import type { LoadResult } from './load-result.js';

/** One measured run plus how busy the machine was just before it. */
export interface RoundResult {
  readonly load: LoadResult;
  /** CPU busy % (all cores) sampled while every bench process was idle. */
  readonly backgroundCpuBusyPercent: number;
}

export interface MeasuredRow {
  readonly name: string;
  readonly description: string;
  readonly status: 'ok';
  readonly url: string;
  readonly detail?: string;
  /** The median round by req/s (the only round when --rounds 1). */
  readonly result: LoadResult;
  readonly rounds: readonly RoundResult[];
  /** Highest background CPU busy % seen before any of this target's rounds. */
  readonly maxBackgroundCpuBusyPercent: number;
  /** result.requestsPerSecond / floor's; null when the floor was not measured. */
  readonly ratioVsFloor: number | null;
}

export interface UnavailableRow {
  readonly name: string;
  readonly description: string;
  readonly status: 'unavailable';
  readonly reason: string;
}

export type BenchRow = MeasuredRow | UnavailableRow;

/**
 * The round with the median req/s (lower median for even counts). A whole
 * round is picked, rather than a per-metric median, so the reported req/s and
 * latencies come from one consistent run.
 */
export function medianRound(rounds: readonly LoadResult[]): LoadResult {
  const sorted = [...rounds].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  if (median === undefined) throw new Error('medianRound needs at least one round');
  return median;
}

/** One measured run of a benchmark that compares gateway modes per endpoint, round by round. */
export interface ModeRun<M extends string = string> {
  readonly round: number;
  readonly endpoint: string;
  readonly mode: M;
  readonly result: RoundResult;
  /** Requests completed in the warm-up, for the /metrics cross-checks. */
  readonly warmupRequests: number;
  /** Foreign CPU (% of the machine) during the measured run; undefined without /proc. */
  readonly foreignDuringPercent: number | undefined;
}
