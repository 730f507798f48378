// Parser for `wrk --latency` text output (wrk 4.x). wrk has no machine
// readable mode short of a Lua `done()` hook, and plain-text parsing keeps
// the bench free of Lua files; the format has been stable for years.
//
// Example of what is parsed:
//     Thread Stats   Avg      Stdev     Max   +/- Stdev
//       Latency   812.26us  201.53us  12.37ms   91.15%
//     Latency Distribution
//        50%  771.00us
//        90%    1.00ms
//        99%    1.46ms
//     612345 requests in 10.00s, 727.43MB read
//     Socket errors: connect 0, read 0, write 0, timeout 0
//     Non-2xx or 3xx responses: 12
//   Requests/sec:  61226.50

import type { LoadResult } from './load-result.js';

const TIME_UNITS_MS: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_UNITS: Readonly<Record<string, number>> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

/** "812.26us" -> 0.81226 (ms). */
export function parseWrkTime(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  const unit = match?.[2];
  if (match?.[1] === undefined || unit === undefined) throw new Error(`unrecognised wrk time "${text}"`);
  return Number(match[1]) * (TIME_UNITS_MS[unit] ?? Number.NaN);
}

/** "727.43MB" -> bytes (wrk uses binary multiples). */
export function parseWrkSize(text: string): number {
  const match = /^([\d.]+)([KMGT]?B)$/.exec(text.trim());
  const unit = match?.[2];
  if (match?.[1] === undefined || unit === undefined) throw new Error(`unrecognised wrk size "${text}"`);
  return Number(match[1]) * (SIZE_UNITS[unit] ?? Number.NaN);
}

function required(output: string, pattern: RegExp, what: string): RegExpExecArray {
  const match = pattern.exec(output);
  if (match === null) throw new Error(`wrk output has no ${what}:\n${output}`);
  return match;
}

function group(match: RegExpExecArray, index: number): string {
  const value = match[index];
  if (value === undefined) throw new Error(`wrk output: missing capture ${index} in "${match[0]}"`);
  return value;
}

function percentile(output: string, pct: number): number {
  const match = required(
    output,
    new RegExp(`^\\s*${pct}(?:\\.0+)?%\\s+(\\S+)\\s*$`, 'm'),
    `${pct}% latency line (was --latency passed?)`,
  );
  return parseWrkTime(group(match, 1));
}

export function parseWrkOutput(output: string): LoadResult {
  const latency = required(output, /^\s*Latency\s+(\S+)\s+\S+\s+(\S+)\s+\S+\s*$/m, 'Latency stats line');
  const totals = required(output, /^\s*(\d+) requests in ([\d.]+\w+), ([\d.]+\w+) read\s*$/m, 'totals line');
  const rps = required(output, /^Requests\/sec:\s+([\d.]+)\s*$/m, 'Requests/sec line');
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);

  const requests = Number(group(totals, 1));
  const errors = socket === null ? 0 : [1, 2, 3, 4].reduce((sum, index) => sum + Number(group(socket, index)), 0);
  return {
    tool: 'wrk',
    durationSeconds: parseWrkTime(group(totals, 2)) / 1000,
    requests,
    requestsPerSecond: Number(group(rps, 1)),
    latencyMs: {
      avg: parseWrkTime(group(latency, 1)),
      p50: percentile(output, 50),
      p90: percentile(output, 90),
      p99: percentile(output, 99),
      max: parseWrkTime(group(latency, 2)),
    },
    errors,
    non2xx: non2xx === null ? 0 : Number(group(non2xx, 1)),
    bytesPerResponse: requests === 0 ? 0 : parseWrkSize(group(totals, 3)) / requests,
  };
}
