/**
 * What an endpoint asks of a verified token's claims, as krakend-jose decides it (`jose.go`): roles
 * (CanAccess / CanAccessNested: one of the listed roles, in a list or a space-separated string),
 * scopes (ScopesAnyMatcher / ScopesAllMatcher, dotted keys always nested), and the text of a claim
 * sent to a backend (Claims.Get / Claims.List: how Go prints each JSON type). A claim of another
 * type than KrakenD expects never matches (where Go's type assertion would panic).
 */

export type Claims = Readonly<Record<string, unknown>>;

function isMap(v: unknown): v is Claims {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `jose.go:132` getNestedClaim: the map holding the last key of a dotted path, or undefined. */
function nestedParent(path: string, claims: Claims): { key: string; map: Claims | undefined } {
  const keys = path.split('.');
  let map: Claims = claims;
  for (const k of keys.slice(0, -1)) {
    const v = map[k];
    if (!isMap(v)) return { key: path, map: undefined };
    map = v;
  }
  return { key: keys[keys.length - 1] as string, map };
}

/** A list claim, or a space-separated string claim, as the words it holds; undefined otherwise. */
function words(v: unknown): readonly unknown[] | undefined {
  if (Array.isArray(v)) return v;
  return typeof v === 'string' ? v.split(' ') : undefined;
}

/** `jose.go:73-130`: one of `required` in the roles claim (all pass when none is required). */
export function hasRole(claims: Claims, key: string, nested: boolean, required: readonly string[]): boolean {
  if (required.length === 0) return true;
  const { key: last, map } = nested ? nestedParent(key, claims) : { key, map: claims };
  // CanAccessNested fails on a missing step; CanAccess reads the key as written.
  if (map === undefined) return false;
  const have = words(map[last]);
  return have !== undefined && required.some((r) => have.includes(r));
}

/** `jose.go:150-255`: any (or all) of `required` in the scopes claim; a dotted key is a path. */
export function hasScopes(claims: Claims, key: string, all: boolean, required: readonly string[]): boolean {
  if (required.length === 0) return true;
  const { key: last, map } = key.includes('.') ? nestedParent(key, claims) : { key, map: claims };
  if (map === undefined) return false;
  const raw = map[last];
  // An empty list falls through to the string case in Go, and fails it.
  const have = Array.isArray(raw) && raw.length === 0 ? undefined : words(raw);
  if (have === undefined) return false;
  return all ? required.every((r) => have.includes(r)) : required.some((r) => have.includes(r));
}

/** The map and key a `propagate_claims` source names (`jose.go:392`: dotted unless it starts with `http`). */
function claimAt(claims: Claims, name: string): { map: Claims | undefined; key: string } {
  if (name.includes('.') && !name.startsWith('http')) return nestedParent(name, claims);
  return { map: claims, key: name };
}

/** Formats claim values as Go prints them; `json` is Go's encoding/json (map keys sorted). */
export class ClaimText {
  readonly #json: (v: unknown) => string;

  constructor(json: (v: unknown) => string) {
    this.#json = json;
  }

  /** `jose.go:280` Claims.Get: "" when absent. */
  get(claims: Claims, name: string, nested: boolean): string {
    const { map, key } = nested ? claimAt(claims, name) : { map: claims, key: name };
    if (map === undefined || !Object.hasOwn(map, key)) return '';
    const v = map[key];
    if (typeof v === 'string') return v;
    if (typeof v === 'number') return goNumber(v);
    if (Array.isArray(v)) return v.map(goValue).join(',');
    return this.#json(v);
  }

  /** `jose.go:313` Claims.List: one value per list element; `[""]` when absent. */
  list(claims: Claims, name: string): string[] {
    const { map, key } = claimAt(claims, name);
    if (map === undefined || !Object.hasOwn(map, key)) return [''];
    const v = map[key];
    if (typeof v === 'string') return [v];
    if (typeof v === 'number') return [goNumber(v)];
    if (Array.isArray(v)) return v.map(goValue);
    return [this.#json(v)];
  }
}

/** Claims.Get of a float64: `%d` when within 1e-6 of an integer, else `%f` (6 decimals). */
function goNumber(v: number): string {
  const r = Math.round(v);
  if (Math.abs(v - r) <= 1e-6) return Number.isSafeInteger(r) ? String(r) : BigInt(r).toString();
  return v.toFixed(6);
}

/** Go's `%v` of a decoded JSON value (fmt's print.go). */
function goValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goFloatV(v);
  if (typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`;
  const keys = Object.keys(v).sort();
  return `map[${keys.map((k) => `${k}:${goValue((v as Claims)[k])}`).join(' ')}]`;
}

/** `%v` of a float64: the shortest digits, in `%e` form when the exponent is < -4 or >= 6 (strconv 'g', -1). */
function goFloatV(v: number): string {
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const [mantissa = '', exp = '0'] = v.toExponential().split('e');
  const e = Number(exp);
  if (e < -4 || e >= 6) return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return String(v);
}
