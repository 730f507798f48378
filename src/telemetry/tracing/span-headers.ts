/**
 * `report_headers`: headers as `http.request.header.<name>` / `http.response.header.<name>` string
 * arrays (krakend-otel writes `attribute.StringSlice` with the lower-cased name), minus `skip_headers`;
 * credentials (Authorization, Cookie, the API-key header…) as REDACTED.
 *
 * A request reports a dozen headers on several spans: each name's lower case, its encoded attribute
 * key and whether it is a credential are worked out the first time the name is seen and kept, and so
 * is its last value's encoded attribute, so a reported header mostly costs a map lookup, a string
 * comparison and a copy. (They are span attributes: Span field 9, never an event's.)
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { REDACTED, type Redactor } from '../../log/redact.js';
import { key, type Key, type SpanWriter } from './span-encoder.js';

const NONE: ReadonlySet<string> = new Set();

/** Header names remembered per prefix: they come from clients, so their number is capped. */
const MAX_NAMES = 512;

export interface HeaderName {
  readonly lower: string;
  /** `<prefix><lower>` encoded as the `key` field of a KeyValue. */
  readonly key: Key;
  readonly secret: boolean;
  /**
   * The last single value reported under this name and its whole attribute encoded (most values
   * repeat: host, user agent, content type…), and how often that paid off.
   */
  last: string | undefined;
  lastBytes: Buffer | undefined;
  hits: number;
  misses: number;
}

/** Values longer than this are not kept for the next request. */
const MAX_KEPT_VALUE = 256;

/** The header names of one attribute prefix, as `HeaderName`s. */
export class HeaderKeys {
  readonly #prefix: string;
  readonly #redact: Redactor;
  readonly #names = new Map<string, HeaderName>();

  constructor(prefix: string, redact: Redactor) {
    this.#prefix = prefix;
    this.#redact = redact;
  }

  get(name: string): HeaderName {
    const known = this.#names.get(name);
    if (known !== undefined) return known;
    const lower = name.toLowerCase();
    const h: HeaderName = {
      lower,
      key: key(`${this.#prefix}${lower}`),
      secret: this.#redact.isSecretHeader(lower),
      last: undefined,
      lastBytes: undefined,
      hits: 0,
      misses: 0,
    };
    if (this.#names.size < MAX_NAMES) this.#names.set(name, h);
    return h;
  }
}

/** `skip` and `alsoSkip` hold lower-case names (`alsoSkip`: what the propagators wrote into a backend request). */
export function headerAttributes(
  out: SpanWriter,
  keys: HeaderKeys,
  headers: IncomingHttpHeaders | OutgoingHttpHeaders | Record<string, string | string[]>,
  skip: ReadonlySet<string>,
  alsoSkip: ReadonlySet<string> = NONE,
): void {
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    const h = keys.get(name);
    if (skip.has(h.lower) || alsoSkip.has(h.lower)) continue;
    if (h.secret) out.strings(h.key, value, REDACTED);
    else if (typeof value !== 'string' || value.length > MAX_KEPT_VALUE) out.strings(h.key, value, undefined);
    else if (value === h.last && h.lastBytes !== undefined) {
      h.hits++;
      out.fixed(h.lastBytes);
    } else if (++h.misses > 4 * h.hits + 8 && (h.misses & 63) !== 0) {
      // A value that changes with every request (a client address, a length): keeping it costs a copy
      // for nothing; it is tried again now and then.
      out.strings(h.key, value, undefined);
    } else {
      const from = out.w.pos;
      out.strings(h.key, value, undefined);
      h.last = value;
      h.lastBytes = out.w.take(from);
    }
  }
}
