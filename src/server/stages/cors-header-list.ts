/**
 * Whether a preflight's `Access-Control-Request-Headers` asks only for allowed headers, as rs/cors
 * v1.11.1 decides it (`internal/sortedset.go:60`, SortedSet.Accepts). The Fetch standard sends the names
 * lower-cased, sorted and unique, so the names must appear in that order (a name out of order, repeated
 * or in capitals is refused); at most one space or tab around each, at most 16 empty elements, and a
 * comma is looked for only within the longest allowed name's length (a longer name is refused).
 */

const MAX_OWS = 1;
const MAX_EMPTY = 16;

export class CorsHeaderList {
  /** Allowed name → its position in sorted order. */
  readonly #positions: ReadonlyMap<string, number>;
  readonly #maxLen: number;

  /** `sorted`: the allowed names, lower-cased, sorted and unique. */
  constructor(sorted: readonly string[]) {
    this.#positions = new Map(sorted.map((n, i) => [n, i]));
    this.#maxLen = sorted.reduce((m, n) => Math.max(m, n.length), 0);
  }

  /** `values`: every `Access-Control-Request-Headers` field of the request, in order. */
  accepts(values: readonly string[]): boolean {
    const window = MAX_OWS + this.#maxLen + MAX_OWS + 1;
    let last = -1;
    let empty = 0;
    for (const value of values) {
      let s = value;
      for (;;) {
        const end = Math.min(s.length, window);
        const comma = s.slice(0, end).indexOf(',');
        const raw = comma === -1 ? s : s.slice(0, comma);
        s = comma === -1 ? '' : s.slice(comma + 1);
        const name = trimOws(raw);
        if (name === undefined) return false;
        if (name === '') {
          if (++empty > MAX_EMPTY) return false;
          if (comma === -1) break;
          continue;
        }
        const pos = this.#positions.get(name);
        if (pos === undefined || pos <= last) return false;
        last = pos;
        if (comma === -1) break;
      }
    }
    return true;
  }
}

/**
 * rs/cors `trimOWS`: spaces and tabs off both ends, refused (undefined) once more than MAX_OWS were
 * taken from one end and something is left there (so `"  "` is an empty element, `"a  "` is refused).
 */
function trimOws(s: string): string | undefined {
  let end = s.length;
  for (let i = 0; end > 0; i++) {
    if (i > MAX_OWS) return undefined;
    if (!isOws(s.charCodeAt(end - 1))) break;
    end--;
  }
  let start = 0;
  for (let i = 0; start < end; i++) {
    if (i > MAX_OWS) return undefined;
    if (!isOws(s.charCodeAt(start))) break;
    start++;
  }
  return s.slice(start, end);
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}
