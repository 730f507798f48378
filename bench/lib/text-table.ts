// Plain-text tables for the reports: a header, a rule of dashes and the rows, columns two spaces
// apart, each padded to its widest cell.

/** Which columns are left-aligned (the rest are right-aligned, as numbers are). */
export type LeftAligned = (column: number, columns: number) => boolean;

export const numbersOnly: LeftAligned = () => false;
export const firstColumnLeft: LeftAligned = (c) => c === 0;

export function textTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  left: LeftAligned = numbersOnly,
): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const fmt = (cols: readonly string[]): string =>
    cols
      .map((s, c) => (left(c, cols.length) ? s.padEnd(widths[c] ?? 0) : s.padStart(widths[c] ?? 0)))
      .join('  ')
      .trimEnd();
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)];
}

/** `  ok  label   detail` / `  BAD label   detail`, labels padded to the longest. */
export function checkLines(
  checks: readonly { readonly label: string; readonly ok: boolean; readonly detail: string }[],
): string[] {
  const width = Math.max(...checks.map((c) => c.label.length));
  return checks.map((c) => `  ${c.ok ? 'ok ' : 'BAD'} ${c.label.padEnd(width)}  ${c.detail}`);
}
