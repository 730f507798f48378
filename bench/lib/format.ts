// Number formats shared by the reports.

export const MB = 1024 * 1024;

/** 12,345 (rounded); n/a when unknown. */
export const fmtInt = (n: number | undefined): string =>
  n === undefined ? 'n/a' : Math.round(n).toLocaleString('en-US');

/** Bytes as MB with one decimal; n/a when unknown. */
export const mb = (bytes: number | undefined): string => (bytes === undefined ? 'n/a' : (bytes / MB).toFixed(1));
