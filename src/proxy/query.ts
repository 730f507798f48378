/**
 * Query forwarding: nothing unless listed in `input_query_strings` (`*` for all), after the query the
 * url_pattern itself carries. KrakenD builds the backend query from `r.URL.Query()`
 * (https://github.com/luraproject/lura/blob/master/router/gin/endpoint.go, NewRequest), and Go's
 * url.ParseQuery drops every pair that holds a `;` (since Go 1.17) or a malformed escape
 * (https://github.com/golang/go/blob/master/src/net/url/url.go, parseQuery). So does this: a raw
 * `a=1;admin=true` never reaches a backend that splits on `;`, whatever the rule.
 */
import type { ForwardRule } from '../config/types.js';
import { goLess } from './go-json.js';

const PERCENT = 0x25;
const PLUS = 0x2b;

/** Characters Go's url.QueryEscape leaves as they are (RFC 3986 unreserved). */
function unreserved(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d ||
    c === 0x2e ||
    c === 0x5f ||
    c === 0x7e
  );
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

const HEX = '0123456789ABCDEF';

/**
 * `QueryEscape(QueryUnescape(raw))` of Go, without building the decoded string: `+` and `%20` become
 * `+`, escapes of unreserved bytes are unescaped, everything else is `%XX` in upper case. Undefined
 * when `raw` has a malformed escape (Go drops the pair). A component that needs no change is returned
 * as it is (no allocation on the common path).
 */
function canonicalComponent(raw: string): string | undefined {
  let i = 0;
  for (; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (!unreserved(c) && c !== PLUS) break;
  }
  if (i === raw.length) return raw;
  let out = raw.slice(0, i);
  for (; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === PERCENT) {
      const hi = hexValue(raw.charCodeAt(i + 1));
      const lo = hexValue(raw.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return undefined;
      const b = (hi << 4) | lo;
      out += unreserved(b) ? String.fromCharCode(b) : b === 0x20 ? '+' : `%${HEX[hi]}${HEX[lo]}`;
      i += 2;
    } else if (unreserved(c) || c === PLUS) out += raw[i];
    else if (c < 0x80) out += `%${HEX[c >> 4]}${HEX[c & 15]}`;
    else {
      // Only a request line llhttp let through in lenient mode has these; Go sends them as UTF-8 escapes.
      const cp = raw.codePointAt(i) as number;
      out += encodeURIComponent(String.fromCodePoint(cp));
      if (cp > 0xffff) i++;
    }
  }
  return out;
}

/** Go's QueryUnescape of a key, or undefined when malformed. */
function decodeKey(raw: string): string | undefined {
  let plain = true;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === PERCENT || c === PLUS) {
      plain = false;
      break;
    }
  }
  if (plain) return raw;
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * The forwarded query as lura sends it: the client's pairs Go's parser keeps, filtered by the rule,
 * each re-escaped with `QueryEscape` and ordered by key as `url.Values.Encode` orders them (keys
 * sorted, a key's values in the client's order; lura proxy/balancing.go appends `r.Query.Encode()`).
 */
export function forwardedQuery(rawQuery: string, rule: ForwardRule): string {
  if (rawQuery === '' || (rule !== '*' && rule.size === 0)) return '';
  let kept: KeptPair[] | undefined;
  let single: KeptPair | undefined;
  let start = 0;
  while (start <= rawQuery.length) {
    let end = rawQuery.indexOf('&', start);
    if (end === -1) end = rawQuery.length;
    if (end > start) {
      const pair = keptPair(rawQuery.slice(start, end), rule);
      if (pair !== undefined) {
        if (single === undefined) single = pair;
        else (kept ??= [single]).push(pair);
      }
    }
    start = end + 1;
  }
  if (single === undefined) return '';
  if (kept === undefined) return single.text;
  // Array.prototype.sort is stable: a key's values keep the client's order, as in url.Values.
  kept.sort((a, b) => (a.key === b.key ? 0 : goLess(a.key, b.key) ? -1 : 1));
  let out = '';
  for (const p of kept) out = out === '' ? p.text : `${out}&${p.text}`;
  return out;
}

interface KeptPair {
  /** The decoded key, the order of `url.Values.Encode`. */
  readonly key: string;
  readonly text: string;
}

/** A pair re-encoded from its decoded key and value, or undefined when Go would drop it or the rule does not list it. */
function keptPair(pair: string, rule: ForwardRule): KeptPair | undefined {
  if (pair.indexOf(';') !== -1) return undefined;
  const eq = pair.indexOf('=');
  const rawKey = eq === -1 ? pair : pair.slice(0, eq);
  const key = decodeKey(rawKey);
  if (key === undefined || (rule !== '*' && !rule.has(key))) return undefined;
  const k = canonicalComponent(rawKey);
  const v = canonicalComponent(eq === -1 ? '' : pair.slice(eq + 1));
  if (k === undefined || v === undefined) return undefined;
  return { key, text: `${k}=${v}` };
}

export function joinQuery(a: string, b: string): string {
  if (a === '') return b;
  if (b === '') return a;
  return `${a}&${b}`;
}
