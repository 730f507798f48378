/**
 * Query forwarding: nothing unless listed in `input_query_strings` (`*` for all), after the query the
 * url_pattern itself carries. KrakenD builds the backend query from `r.URL.Query()`
 * (https://github.com/luraproject/lura/blob/master/router/gin/endpoint.go, NewRequest), and Go's
 * url.ParseQuery drops every pair that holds a `;` (since Go 1.17) or a malformed escape
 * (https://github.com/golang/go/blob/master/src/net/url/url.go, parseQuery). So does this: a raw
 * `a=1;admin=true` never reaches a backend that splits on `;`, whatever the rule.
 */
import type { ForwardRule } from '../config/types.js';

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

export function forwardedQuery(rawQuery: string, rule: ForwardRule): string {
  if (rawQuery === '') return '';
  if (rule === '*') return rawQuery.indexOf(';') === -1 ? rawQuery : withoutSemicolonPairs(rawQuery);
  if (rule.size === 0) return '';
  let out = '';
  let start = 0;
  while (start <= rawQuery.length) {
    let end = rawQuery.indexOf('&', start);
    if (end === -1) end = rawQuery.length;
    if (end > start) {
      const pair = rawQuery.slice(start, end);
      const kept = keptPair(pair, rule);
      if (kept !== undefined) out = out === '' ? kept : `${out}&${kept}`;
    }
    start = end + 1;
  }
  return out;
}

/** A listed pair re-encoded from its decoded key and value, or undefined when Go would drop it or it is not listed. */
function keptPair(pair: string, rule: ReadonlySet<string>): string | undefined {
  if (pair.indexOf(';') !== -1) return undefined;
  const eq = pair.indexOf('=');
  const rawKey = eq === -1 ? pair : pair.slice(0, eq);
  const key = decodeKey(rawKey);
  if (key === undefined || !rule.has(key)) return undefined;
  const k = canonicalComponent(rawKey);
  const v = canonicalComponent(eq === -1 ? '' : pair.slice(eq + 1));
  if (k === undefined || v === undefined) return undefined;
  return `${k}=${v}`;
}

/** `*`: the client's query as sent, minus the pairs Go's parser refuses for their `;`. */
function withoutSemicolonPairs(rawQuery: string): string {
  let out = '';
  for (const pair of rawQuery.split('&')) {
    if (pair !== '' && pair.indexOf(';') === -1) out = out === '' ? pair : `${out}&${pair}`;
  }
  return out;
}

export function joinQuery(a: string, b: string): string {
  if (a === '') return b;
  if (b === '') return a;
  return `${a}&${b}`;
}
