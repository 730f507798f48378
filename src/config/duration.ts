/**
 * Go-style duration strings as KrakenD accepts them (`300ms`, `2s`, `1m30s`, `1.5h`), in milliseconds.
 * Returns undefined for anything else so the caller can report the field's path.
 */
const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /(\d+(?:\.\d+)?)(ns|us|µs|μs|ms|s|m|h)/y;

export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (text.length === 0) return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const start = PART.lastIndex;
    const m = PART.exec(text);
    if (m === null || m.index !== start) return undefined;
    const unit = UNIT_MS[m[2] as string];
    if (unit === undefined) return undefined;
    total += Number(m[1]) * unit;
  }
  return total;
}

/**
 * Node timers hold at most 2^31-1 ms (~24.8 days): a longer delay is replaced by 1 ms (with a
 * TimeoutOverflowWarning), so `timeout: "999999h"` would time every request out at once and a huge
 * health-check interval would probe in a busy loop. Durations that become timers are capped here.
 */
export const MAX_TIMER_MS = 2_147_483_647;

export function timerMs(ms: number): number {
  return Math.min(ms, MAX_TIMER_MS);
}

export const DURATION_PATTERN = '^(0|([0-9]+(\\.[0-9]+)?(ns|us|µs|μs|ms|s|m|h))+)$';
