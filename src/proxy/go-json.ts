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
  /** The keys in Go's order; undefined when `keys` already is. */
  readonly sorted: readonly string[] | undefined;
  /** Go's order cannot be an object's own order: JS lists integer-like keys first (`"10"` < `"9"` in Go). */
  readonly exotic: boolean;
}

const INDEX = /^(?:0|[1-9]\d{0,9})$/;

/** An array index, which JS enumerates before every other key whatever the insertion order. */
function isIndex(k: string): boolean {
  return INDEX.test(k) && Number(k) < 4294967295;
}

/** Keys from JSON.parse are internalised strings: `===` compares pointers. */
function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function shapeOf(keys: string[]): Shape {
  let inOrder = true;
  for (let i = 1; i < keys.length; i++) {
    if (!goLess(keys[i - 1] as string, keys[i] as string)) {
      inOrder = false;
      break;
    }
  }
  if (inOrder) return { keys, sorted: undefined, exotic: false };
  const sorted = [...keys].sort(compare);
  const indexes = sorted.filter(isIndex).sort((x, y) => Number(x) - Number(y));
  const jsOrder = [...indexes, ...sorted.filter((k) => !isIndex(k))];
  return { keys, sorted, exotic: indexes.length > 0 && !sameKeys(jsOrder, sorted) };
}

/** Shapes a writer remembers; objects with more keys than `MAX_SHAPE_KEYS` are sorted every time. */
const SHAPES = 64;
const MAX_SHAPE_KEYS = 256;

/**
 * `json.Marshal` of Go for one endpoint's responses. A backend answers with the same shapes request
 * after request, so each shape's Go order is found once and remembered (a bounded set, replaced in
 * turn): per object the work is then `Object.keys`, pointer comparisons, and a copy in order when the
 * backend's order is not Go's.
 */
export class GoJsonWriter {
  readonly #shapes: Shape[] = [];
  #next = 0;
  /** Whether some object of the value in progress needs the slow path. */
  #exotic = false;

  /** `json.Marshal(value)` of Go: `JSON.stringify` with object keys in Go's order and Go's HTML escaping. */
  write(value: unknown): string {
    this.#exotic = false;
    const sorted = this.#sortDeep(value);
    return goEscape(this.#exotic ? write(value) : (JSON.stringify(sorted) ?? 'null'));
  }

  #shape(keys: string[]): Shape {
    const n = keys.length;
    for (const sh of this.#shapes) {
      if (sh.keys.length === n && sh.keys[0] === keys[0] && sh.keys[n - 1] === keys[n - 1] && sameKeys(sh.keys, keys))
        return sh;
    }
    const shape = shapeOf(keys);
    if (n <= MAX_SHAPE_KEYS) {
      this.#shapes[this.#next] = shape;
      this.#next = (this.#next + 1) % SHAPES;
    }
    return shape;
  }

  /**
   * `value` with every object's keys in Go's order: the same reference for any subtree already in that
   * order (no copy), a copy only along the paths that are not.
   */
  #sortDeep(value: unknown): unknown {
    if (typeof value !== 'object' || value === null) return value;
    if (Array.isArray(value)) {
      let out: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i];
        const s = this.#sortDeep(v);
        if (s !== v) (out ??= value.slice())[i] = s;
      }
      return out ?? value;
    }
    if (!isMap(value)) return value;
    const keys = Object.keys(value);
    if (keys.length < 2) {
      if (keys.length === 0) return value;
      const k = keys[0] as string;
      const v = value[k];
      const s = this.#sortDeep(v);
      return s === v ? value : { [k]: s };
    }
    const shape = this.#shape(keys);
    if (shape.exotic) this.#exotic = true;
    if (shape.sorted !== undefined) {
      const out: Record<string, unknown> = {};
      for (const k of shape.sorted) out[k] = this.#sortDeep(value[k]);
      return out;
    }
    let copy: Record<string, unknown> | undefined;
    for (const k of keys) {
      const v = value[k];
      const s = this.#sortDeep(v);
      if (s !== v) (copy ??= { ...value })[k] = s;
    }
    return copy ?? value;
  }
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

/** `json.Marshal(value)` of Go, for a value written once (the request path keeps a `GoJsonWriter`). */
export function goJson(value: unknown): string {
  return new GoJsonWriter().write(value);
}
