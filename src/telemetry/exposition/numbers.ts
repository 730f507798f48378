/**
 * Number formatting for expositions. Sample values use JavaScript's shortest round-trip form (what
 * both formats accept). Bucket bounds (`le`) follow client_golang's `%g`-like output (`0.01`, `1`,
 * `1.048576e+06`) in both formats, so series identities match what Prometheus 2.x stores for KrakenD.
 */

export function formatValue(v: number): string {
  if (Number.isInteger(v)) return String(v);
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Go's strconv.FormatFloat(v, 'g', -1, 64): exponent form when the exponent is < -4 or >= 6. */
export function goFloat(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Number.isNaN(v)) return 'NaN';
  if (v === 0) return '0';
  const [mantissa, e] = v.toExponential().split('e') as [string, string];
  const exp = Number(e);
  if (exp < -4 || exp >= 6) return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(v);
}
