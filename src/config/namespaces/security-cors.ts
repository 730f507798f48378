/**
 * `security/cors` (service level): its schema and the settings read from it, with KrakenD's defaults.
 * krakend-cors reads the namespace (`cors.go:28`, ConfigGetter) and hands it to rs/cors v1.11.1
 * (`mux/cors.go:22`): no `allow_origins` or `allow_headers` means every origin and every header
 * (`mux/cors.go:31-36`); no `allow_methods` means rs/cors's GET, POST, HEAD (`cors.go:211`);
 * `max_age` is a Go duration sent in whole seconds, none for zero and `0` for a negative one
 * (`cors.go:237-242`); a preflight is answered `options_success_status`, 204 when unset (`cors.go:219`).
 */
import { DURATION_PATTERN, parseDuration } from '../duration.js';
import { isObject, stringAt, stringsAt, type RawObject } from '../raw.js';

export const SECURITY_CORS = 'security/cors';

const strings = { type: 'array', items: { type: 'string' } } as const;
/** Header names (RFC 9110 §5.1 tokens). */
const headerNames = { type: 'array', items: { type: 'string', pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" } } as const;

export const SECURITY_CORS_SCHEMA = {
  type: 'object',
  properties: {
    allow_origins: strings,
    // krakend-schema's list: rs/cors compares the request's method with these as written.
    allow_methods: {
      type: 'array',
      items: { type: 'string', enum: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] },
    },
    allow_headers: headerNames,
    expose_headers: headerNames,
    allow_credentials: { type: 'boolean' },
    allow_private_network: { type: 'boolean' },
    options_passthrough: { type: 'boolean' },
    options_success_status: { type: 'integer', minimum: 200, maximum: 599 },
    // Go's time.ParseDuration also takes a negative duration: rs/cors then sends `Access-Control-Max-Age: 0`.
    max_age: { type: 'string', pattern: DURATION_PATTERN.replace('^', '^-?') },
    debug: { type: 'boolean' },
  },
} as const;

export const SECURITY_CORS_KEYS: ReadonlySet<string> = new Set(Object.keys(SECURITY_CORS_SCHEMA.properties));

/** One `allow_origins` entry with a `*`: the text before and after its first `*` (rs/cors `utils.go:7`). */
export interface OriginWildcard {
  readonly prefix: string;
  readonly suffix: string;
}

export interface CorsSettings {
  /** `*` among the origins (or none listed): every origin, answered `Access-Control-Allow-Origin: *`. */
  readonly anyOrigin: boolean;
  /** Lower-cased origins without a `*`. */
  readonly origins: ReadonlySet<string>;
  readonly wildcards: readonly OriginWildcard[];
  /** As written: rs/cors compares them case-sensitively. */
  readonly methods: readonly string[];
  /** `*` among the headers (or none listed): every requested header is allowed. */
  readonly anyHeader: boolean;
  /** Lower-cased allowed header names, sorted (a preflight lists its names sorted: rs/cors `internal/sortedset.go`). */
  readonly headers: readonly string[];
  /** `Access-Control-Expose-Headers`, names in Go's canonical form joined by `, `; undefined when none. */
  readonly exposeHeaders: string | undefined;
  readonly allowCredentials: boolean;
  readonly allowPrivateNetwork: boolean;
  readonly optionsPassthrough: boolean;
  readonly optionsSuccessStatus: number;
  /** `Access-Control-Max-Age`, undefined when not sent. */
  readonly maxAge: string | undefined;
  readonly debug: boolean;
}

export function parseCorsSettings(raw: unknown): CorsSettings | undefined {
  if (!isObject(raw)) return undefined;
  const origins = (stringsAt(raw, 'allow_origins') ?? []).map((o) => o.toLowerCase());
  const headers = stringsAt(raw, 'allow_headers') ?? [];
  const methods = stringsAt(raw, 'allow_methods') ?? [];
  const expose = stringsAt(raw, 'expose_headers') ?? [];
  const anyOrigin = origins.length === 0 || origins.includes('*');
  return {
    anyOrigin,
    origins: new Set(anyOrigin ? [] : origins.filter((o) => !o.includes('*'))),
    wildcards: anyOrigin ? [] : origins.filter((o) => o.includes('*')).map(wildcard),
    methods: methods.length === 0 ? ['GET', 'POST', 'HEAD'] : methods,
    anyHeader: headers.length === 0 || headers.includes('*'),
    headers: [...new Set(headers.map((h) => h.toLowerCase()))].sort(),
    exposeHeaders: expose.length === 0 ? undefined : expose.map(canonicalHeaderKey).join(', '),
    allowCredentials: raw.allow_credentials === true,
    allowPrivateNetwork: raw.allow_private_network === true,
    optionsPassthrough: raw.options_passthrough === true,
    optionsSuccessStatus: typeof raw.options_success_status === 'number' ? raw.options_success_status : 204,
    maxAge: maxAgeHeader(raw),
    debug: raw.debug === true,
  };
}

function wildcard(origin: string): OriginWildcard {
  const i = origin.indexOf('*');
  return { prefix: origin.slice(0, i), suffix: origin.slice(i + 1) };
}

/** `int(d.Seconds())` of the Go duration: truncated toward zero. */
function maxAgeHeader(raw: RawObject): string | undefined {
  const text = stringAt(raw, 'max_age');
  if (text === undefined) return undefined;
  const negative = text.startsWith('-');
  const ms = parseDuration(negative ? text.slice(1) : text) ?? 0;
  const seconds = Math.trunc(ms / 1000);
  if (seconds === 0) return undefined;
  return negative ? '0' : String(seconds);
}

/** Go's http.CanonicalHeaderKey: `x-request-id` → `X-Request-Id` (names are tokens, checked by the schema). */
export function canonicalHeaderKey(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}
