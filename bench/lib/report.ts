// Human-readable rendering of the results: the comparison table and the
// headline `tollgate/floor ratio` line that the perf target is judged on.

import type { BenchRow } from './bench-row.js';
import { NOISY_BACKGROUND_PERCENT } from './cpu-quiet.js';

/** Tollgate's performance target, relative to the floor proxy. */
export const TOLLGATE_TARGET_RATIO = 0.9;

const HEADERS = ['target', 'req/s', 'p50 ms', 'p99 ms', 'errors/non-2xx', 'vs floor'] as const;

function cells(row: BenchRow): readonly string[] {
  if (row.status !== 'ok') return [row.name];
  const { result } = row;
  return [
    row.name,
    Math.round(result.requestsPerSecond).toLocaleString('en-US'),
    result.latencyMs.p50.toFixed(2),
    result.latencyMs.p99.toFixed(2),
    `${result.errors}/${result.non2xx}`,
    row.ratioVsFloor === null ? 'n/a' : `${row.ratioVsFloor.toFixed(2)}x`,
  ];
}

export function formatTable(rows: readonly BenchRow[]): string {
  const measured = rows.map(cells);
  // Every row's name counts (unavailable ones too); numbers only from measured rows.
  const widths = HEADERS.map((header, column) =>
    Math.max(
      header.length,
      ...measured.filter((r) => column === 0 || r.length > 1).map((r) => (r[column] ?? '').length),
    ),
  );
  const line = (values: readonly string[]): string =>
    values
      // Left-align the name column, right-align the numbers.
      .map((value, column) => (column === 0 ? value.padEnd(widths[column] ?? 0) : value.padStart(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  const out = [line(HEADERS), line(widths.map((width) => '-'.repeat(width)))];
  rows.forEach((row, index) => {
    if (row.status === 'ok') out.push(line(measured[index] ?? []));
    else out.push(`${row.name.padEnd(widths[0] ?? 0)}  unavailable: ${row.reason}`);
  });
  return out.join('\n');
}

export function tollgateFloorRatio(rows: readonly BenchRow[]): number | null {
  const tollgate = rows.find((row) => row.name === 'tollgate');
  return tollgate?.status === 'ok' ? tollgate.ratioVsFloor : null;
}

/** The headline line, always printed, e.g. `tollgate/floor ratio: 0.93`. */
export function formatRatioLine(rows: readonly BenchRow[]): string {
  const ratio = tollgateFloorRatio(rows);
  if (ratio !== null) {
    const verdict = ratio >= TOLLGATE_TARGET_RATIO ? 'meets' : 'below';
    return `tollgate/floor ratio: ${ratio.toFixed(2)}  (${verdict} the ${TOLLGATE_TARGET_RATIO.toFixed(2)} target)`;
  }
  const tollgate = rows.find((row) => row.name === 'tollgate');
  const floor = rows.find((row) => row.name === 'floor');
  const why =
    tollgate === undefined
      ? 'tollgate not selected'
      : tollgate.status !== 'ok'
        ? `tollgate unavailable: ${tollgate.reason}`
        : floor?.status !== 'ok'
          ? 'floor not measured'
          : 'unknown';
  return `tollgate/floor ratio: n/a  (${why})`;
}

/** A warning when foreign CPU load was present before any measurement, else undefined. */
export function formatNoiseWarning(rows: readonly BenchRow[]): string | undefined {
  const noisy = rows.flatMap((row) =>
    row.status === 'ok' && row.maxBackgroundCpuBusyPercent > NOISY_BACKGROUND_PERCENT
      ? [`${row.name} ${Math.round(row.maxBackgroundCpuBusyPercent)}%`]
      : [],
  );
  if (noisy.length === 0) return undefined;
  return (
    `warning: the machine was busy before some measurements (background CPU: ${noisy.join(', ')}); ` +
    'numbers are noisy — rerun on a quiet machine, ideally with --rounds 3'
  );
}
