/**
 * Secrets out of everything the gateway exports: span attributes (`url.full`, reported headers), log
 * lines and the `/__debug` output. The values of secret query parameters and headers become
 * `REDACTED`, the placeholder the OpenTelemetry semantic conventions prescribe for `url.full` and
 * `url.query` (https://opentelemetry.io/docs/specs/semconv/http/http-spans/ and
 * https://opentelemetry.io/docs/specs/semconv/attributes-registry/url/); names stay, so a reader
 * still sees that a key was sent.
 *
 * Everything is decided when the gateway starts: the names to redact (the usual credential names plus
 * the configured API key identifier) and one regular expression that tells whether a query string
 * holds any of them. A query without a candidate costs one `test()`; only the others are rewritten.
 */

export const REDACTED = 'REDACTED';

/**
 * Query parameter names whose values are credentials (compared case-insensitively): API keys, OAuth
 * tokens, passwords, and the signatures of pre-signed URLs (AWS SigV4/SigV2, Google Cloud Storage,
 * Azure SAS `sig`), which are the four names the OTel conventions list as redacted by default.
 */
const SECRET_QUERY_PARAMS: readonly string[] = [
  'api_key',
  'apikey',
  'api-key',
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'token',
  'key',
  'password',
  'passwd',
  'secret',
  'signature',
  'sig',
  'awsaccesskeyid',
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-security-token',
  'x-goog-signature',
  'x-goog-credential',
];

/** Header names (lower case) whose values are credentials. */
const SECRET_HEADERS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'x-auth-token',
  'x-amz-security-token',
];

/** Where the configured API key travels (`auth/api-keys`): a query parameter or a header. */
export interface KeyLocation {
  readonly identifier: string;
  readonly strategy: 'header' | 'query_string';
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
}

/** A parameter name as URLSearchParams reads it: `+` is a space, percent escapes decoded. */
function decodeName(raw: string): string {
  if (!raw.includes('%') && !raw.includes('+')) return raw;
  const spaced = raw.replaceAll('+', ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

export class Redactor {
  readonly #params: ReadonlySet<string>;
  readonly #headers: ReadonlySet<string>;
  /**
   * Matches a query with a parameter named like a secret, or with an encoded name (`k%65y`, which
   * URLSearchParams — and so the API key check — decodes to `key`): only those take the slow path.
   */
  readonly #candidate: RegExp;

  constructor(params: readonly string[] = SECRET_QUERY_PARAMS, headers: readonly string[] = SECRET_HEADERS) {
    this.#params = new Set(params.map((p) => p.toLowerCase()));
    this.#headers = new Set(headers.map((h) => h.toLowerCase()));
    const names = [...this.#params].map(escapeRegExp).join('|');
    this.#candidate = new RegExp(`(?:^|&)(?:${names}|[^&=]*[%+][^&=]*)(?:[=&]|$)`, 'i');
  }

  /** Whether a header (lower-case name) carries a credential. */
  isSecretHeader(name: string): boolean {
    return this.#headers.has(name);
  }

  /** A query string (without `?`) with the values of secret parameters replaced. */
  query(raw: string): string {
    if (raw === '' || !this.#candidate.test(raw)) return raw;
    const parts = raw.split('&');
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] as string;
      const eq = part.indexOf('=');
      if (eq === -1) continue;
      const name = part.slice(0, eq);
      if (this.#params.has(decodeName(name).toLowerCase())) parts[i] = `${name}=${REDACTED}`;
    }
    return parts.join('&');
  }

  /** A URL or request target (`/path?query`, `http://host/path?query#frag`) with its query redacted. */
  url(url: string): string {
    const q = url.indexOf('?');
    if (q === -1) return url;
    const hash = url.indexOf('#', q);
    const end = hash === -1 ? url.length : hash;
    const query = url.slice(q + 1, end);
    const redacted = this.query(query);
    return redacted === query ? url : url.slice(0, q + 1) + redacted + url.slice(end);
  }

  /** A header value as it may be exported: the value itself, or REDACTED for a credential header. */
  headerValue(name: string, value: string): string {
    return this.#headers.has(name) ? REDACTED : value;
  }
}

/** The redactor of a configuration: the usual names plus where its API keys travel. */
export function redactorFor(keys: KeyLocation | undefined, extraHeaders: readonly string[] = []): Redactor {
  // `extraHeaders`: auth/validator's token header and the headers its claims are propagated in.
  const headers = [...SECRET_HEADERS, ...extraHeaders];
  if (keys === undefined) return new Redactor(SECRET_QUERY_PARAMS, headers);
  const id = keys.identifier.toLowerCase();
  return keys.strategy === 'query_string'
    ? new Redactor([...SECRET_QUERY_PARAMS, id], headers)
    : new Redactor(SECRET_QUERY_PARAMS, [...headers, id]);
}
