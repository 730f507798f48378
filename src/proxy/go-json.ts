/**
 * JSON text as KrakenD writes it: Go's encoding/json marshals a `map[string]interface{}` with its keys
 * sorted by byte order, at every depth (https://pkg.go.dev/encoding/json#Marshal: "The map keys are
 * sorted"; lura renders `response.Data` that way, https://github.com/luraproject/lura/blob/master/router/gin/render.go).
 * JS objects keep insertion order, so the objects whose keys are not in Go's order are copied
 * in that order (subtrees already in order are shared, not copied) and the native `JSON.stringify`
 * writes the result: a response already in order costs one walk over its keys. JS always lists
 * integer-like keys first, in numeric order; an object whose Go order differs from that is written
 * key by key instead (rare: the slow path).
 */

/** Go's `<` on strings: UTF-8 byte order, which differs from UTF-16 order only for U+E000–U+FFFF against astral characters. */
export function goLess(a: string, b: string): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate (an astral code point, 4 UTF-8 bytes starting F0–F4) sorts after U+E000–U+FFFF (EE–EF).
    if (x >= 0xd800 && y >= 0xd800)
      return (x >= 0xe000 ? x - 0x800 : x + 0x2000) < (y >= 0xe000 ? y - 0x800 : y + 0x2000);
    return x < y;
  }
  return a.length < b.length;
}

function compare(a: string, b: string): number {
  return goLess(a, b) ? -1 : goLess(b, a) ? 1 : 0;
}

/** A Go map: a plain object (what JSON.parse builds). Anything else is written as JSON.stringify does. */
function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

/**
 * An object written with its fields in the order given, as encoding/json writes a Go struct (lura's
 * `HTTPResponseError`, for one): its null prototype tells it apart from a map.
 */
export function goStruct(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.assign(Object.create(null) as Record<string, unknown>, fields);
}

/** Whether every object in `value` already lists its keys in Go's order. */
function ordered(value: unknown): boolean {
  if (Array.isArray(value)) {
    for (const v of value) if (!ordered(v)) return false;
    return true;
  }
  if (!isMap(value)) return true;
  let prev: string | undefined;
  for (const k in value) {
    if (prev !== undefined && !goLess(prev, k)) return false;
    if (!ordered(value[k])) return false;
    prev = k;
  }
  return true;
}

/** A key list and its Go order, for the next object with the same keys in the same order. */
interface Shape {
  readonly keys: readonly string[];
  readonly sorted: readonly string[];
  /** Go's order cannot be an object's own order: JS lists integer-like keys first (`"10"` < `"9"` in Go). */
  readonly exotic: boolean;
}

/** Shapes remembered per call: enough for arrays of like objects nested in arrays of like objects. */
const SHAPES = 4;

/** One call's state: whether some object needs the slow path, and the recent shapes. */
interface Pass {
  exotic: boolean;
  readonly shapes: Shape[];
  next: number;
}

const INDEX = /^(?:0|[1-9]\d{0,9})$/;

/** An array index, which JS enumerates before every other key whatever the insertion order. */
function isIndex(k: string): boolean {
  return INDEX.test(k) && Number(k) < 4294967295;
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `keys` in Go's order, sorted once per shape and call. */
function goOrder(keys: string[], pass: Pass): readonly string[] {
  let shape = pass.shapes.find((sh) => sameKeys(keys, sh.keys));
  if (shape === undefined) {
    const sorted = [...keys].sort(compare);
    const indexes = sorted.filter(isIndex).sort((x, y) => Number(x) - Number(y));
    const jsOrder = [...indexes, ...sorted.filter((k) => !isIndex(k))];
    shape = { keys, sorted, exotic: indexes.length > 0 && !sameKeys(jsOrder, sorted) };
    pass.shapes[pass.next] = shape;
    pass.next = (pass.next + 1) % SHAPES;
  }
  if (shape.exotic) pass.exotic = true;
  return shape.sorted;
}

/**
 * `value` with every object's keys in Go's order: the same reference for any subtree already in that
 * order (no copy), a copy only along the paths that are not.
 */
function sortDeep(value: unknown, pass: Pass): unknown {
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const s = sortDeep(v, pass);
      if (s !== v) (out ??= value.slice())[i] = s;
    }
    return out ?? value;
  }
  if (!isMap(value)) return value;
  let prev: string | undefined;
  let inOrder = true;
  for (const k in value) {
    if (prev !== undefined && !goLess(prev, k)) {
      inOrder = false;
      break;
    }
    prev = k;
  }
  if (!inOrder) {
    const out: Record<string, unknown> = {};
    for (const k of goOrder(Object.keys(value), pass)) out[k] = sortDeep(value[k], pass);
    return out;
  }
  let copy: Record<string, unknown> | undefined;
  for (const k in value) {
    const v = value[k];
    const s = sortDeep(v, pass);
    if (s !== v) (copy ??= { ...value })[k] = s;
  }
  return copy ?? value;
}

/** The slow path, for objects with integer-like keys out of Go's order: written key by key. */
function write(value: unknown): string {
  if (ordered(value)) return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => write(v)).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of Object.keys(obj).sort(compare)) {
    const v = obj[k];
    // As JSON.stringify does: undefined members are left out (decoded JSON never holds any).
    if (v !== undefined) parts.push(`${JSON.stringify(k)}:${write(v)}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * Characters encoding/json escapes by default (`Marshal` sets escapeHTML; gin's `c.JSON`, which lura's
 * json render calls, uses it): `<`, `>`, `&`, U+2028 and U+2029. They can only stand inside JSON strings,
 * so replacing them in the whole text is exact.
 */
const GO_ESCAPED = /[<>&\u2028\u2029]/g;
const GO_ESCAPES: Readonly<Record<string, string>> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

function goEscape(json: string): string {
  GO_ESCAPED.lastIndex = 0;
  return GO_ESCAPED.test(json) ? json.replace(GO_ESCAPED, (c) => GO_ESCAPES[c] as string) : json;
}

/** `json.Marshal(value)` of Go: `JSON.stringify` with object keys in Go's (KrakenD's) order and Go's HTML escaping. */
export function goJson(value: unknown): string {
  const pass: Pass = { exotic: false, shapes: [], next: 0 };
  const sorted = sortDeep(value, pass);
  return goEscape(pass.exotic ? write(value) : (JSON.stringify(sorted) ?? 'null'));
}
