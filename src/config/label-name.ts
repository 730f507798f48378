/**
 * A label name from an attribute key: `http.route` → `http_route`; any char outside [a-zA-Z0-9_]
 * becomes `_` (a colon too: it is legal in metric names only), a leading digit gets `_`.
 */
export function sanitizeName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}
