// Number formats shared by the reports.

export const MB = 1024 * 1024;

/** 12,345 (rounded); n/a when unknown. */
export const fmtInt = (n: number | undefined): string =>
  n === undefined ? 'n/a' : Math.round(n).toLocaleString('en-US');

/** A difference with its sign (+1.5, -0.3); n/a when unknown or not finite. */
export const signed = (n: number | undefined, digits = 1): string =>
  n === undefined || !Number.isFinite(n) ? 'n/a' : `${n >= 0 ? '+' : ''}${n.toFixed(digits)}`;

/** Bytes as MB with one decimal; n/a when unknown. */
export const mb = (bytes: number | undefined): string => (bytes === undefined ? 'n/a' : (bytes / MB).toFixed(1));
