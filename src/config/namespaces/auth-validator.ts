/**
 * `auth/validator` (krakend-jose's JWT validator): its schema at the endpoint (and the root's shared
 * cache), the cross-field checks KrakenD makes when it builds the validator, and the settings read
 * from it. Field names, defaults and rules are krakend-jose's: `jws.go` (SignatureConfig,
 * GetSignatureConfig), `jose.go` (NewValidator), `jwk.go` (SecretProvider) and `gin/jose.go`
 * (TokenSignatureValidator) of github.com/krakend/krakend-jose.
 *
 * Where KrakenD would log and answer 401 to every request of the endpoint (an `http://` JWK URL
 * without `disable_jwk_security`, `jws.go:86`) or exit (`cache` with `jwk_local_path`, an unreadable
 * key file or CA, `gin/jose.go:93`), Tollgate refuses the file at start, every problem with its path.
 */
import { readFileSync } from 'node:fs';
import { DURATION_PATTERN, parseDuration } from '../duration.js';
import { formatPath, type PathSegment } from '../json-path.js';
import type { ConfigIssue } from '../issue.js';
import { arrayAt, isObject, objectAt, stringAt, stringsAt, type RawObject } from '../raw.js';

export const AUTH_VALIDATOR = 'auth/validator';

/** krakend-jose `jose.go:410` supportedAlgorithms. */
export const JWT_ALGORITHMS = [
  'EdDSA',
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** krakend-jose `jwk_client.go:56` TokenIDGetterFactory. */
export const KEY_IDENTIFY_STRATEGIES = ['kid', 'x5t', 'x5t#S256', 'kid_x5t'] as const;
export type KeyIdentifyStrategy = (typeof KEY_IDENTIFY_STRATEGIES)[number];

const duration = { type: 'string', pattern: DURATION_PATTERN } as const;
const strings = { type: 'array', items: { type: 'string' } } as const;

/** The endpoint's validator: krakend-schema v2.13 `auth/validator.json`, the keys Tollgate reads. */
export const AUTH_VALIDATOR_ENDPOINT_SCHEMA = {
  type: 'object',
  required: ['alg'],
  properties: {
    alg: { type: 'string', enum: JWT_ALGORITHMS },
    jwk_url: { type: 'string' },
    jwk_local_path: { type: 'string' },
    disable_jwk_security: { type: 'boolean' },
    jwk_local_ca: { type: 'string' },
    jwk_fingerprints: strings,
    cache: { type: 'boolean' },
    cache_duration: { type: 'integer', minimum: 0, maximum: 4_294_967_295 },
    failed_jwk_key_cooldown: duration,
    key_identify_strategy: { type: 'string', enum: KEY_IDENTIFY_STRATEGIES },
    audience: strings,
    issuer: { type: 'string' },
    leeway: duration,
    auth_header_name: { type: 'string' },
    cookie_key: { type: 'string' },
    roles: strings,
    roles_key: { type: 'string' },
    roles_key_is_nested: { type: 'boolean' },
    scopes: strings,
    scopes_key: { type: 'string' },
    scopes_matcher: { type: 'string', enum: ['any', 'all'] },
    propagate_claims: {
      type: 'array',
      items: { type: 'array', minItems: 2, maxItems: 2, items: { type: 'string' } },
    },
    propagate_claims_preserve_array: { type: 'boolean' },
    operation_debug: { type: 'boolean' },
  },
} as const;

/**
 * The root's shared JWK cache (krakend-schema `auth/jose.json`, krakend-jose `key_cacher.go:32`).
 * Tollgate already shares one key cache between the endpoints that read the same JWK set.
 */
export const AUTH_VALIDATOR_ROOT_SCHEMA = {
  type: 'object',
  properties: { shared_cache_duration: { type: 'integer', minimum: 0 } },
} as const;

export const AUTH_VALIDATOR_KEYS: ReadonlySet<string> = new Set([
  ...Object.keys(AUTH_VALIDATOR_ENDPOINT_SCHEMA.properties),
  ...Object.keys(AUTH_VALIDATOR_ROOT_SCHEMA.properties),
]);

/** Where the keys come from: a JWK set fetched over HTTP(S), or a local JWK set file. */
export type JwkOrigin =
  | {
      readonly kind: 'url';
      readonly url: string;
      /** `disable_jwk_security`: plain http:// allowed and the server certificate not verified (`jwk.go:161`). */
      readonly insecure: boolean;
      /** `jwk_local_ca`: PEM added to the system CAs. */
      readonly localCa: string | undefined;
      /** `jwk_fingerprints`: SHA-256 of the public key (SPKI DER) one certificate of the chain must have. */
      readonly fingerprints: readonly Buffer[];
    }
  | { readonly kind: 'file'; readonly path: string; readonly jwks: unknown };

export interface JwtValidatorSettings {
  readonly alg: JwtAlgorithm;
  readonly origin: JwkOrigin;
  /** `cache` × `cache_duration` (900 s when 0): 0 when keys are fetched for every request, as KrakenD. */
  readonly cacheMs: number;
  /** `failed_jwk_key_cooldown` (ignored under 1 s, `jwk_client.go:94`); 0: off. */
  readonly cooldownMs: number;
  readonly strategy: KeyIdentifyStrategy;
  /** Every one must be in the token's `aud` (go-jose's Expected.Audience). */
  readonly audience: readonly string[];
  readonly issuer: string | undefined;
  /** At least 1 s (go-auth0 NewValidatorWithLeeway); an unparsable value is 1 s. */
  readonly leewaySec: number;
  /** Lower case; `Authorization` by default. */
  readonly authHeader: string;
  /** `access_token` by default (`gin/jose.go:251`): the cookie is always read when the header has no token. */
  readonly cookieKey: string;
  readonly roles: readonly string[];
  readonly rolesKey: string;
  /** `roles_key_is_nested` with a dotted key not starting with `http` (`gin/jose.go:99`). */
  readonly rolesNested: boolean;
  /** Empty when `scopes` or `scopes_key` is missing: no scope check (`gin/jose.go:109`). */
  readonly scopes: readonly string[];
  readonly scopesKey: string;
  readonly scopesAll: boolean;
  readonly propagate: readonly (readonly [claim: string, header: string])[];
  readonly preserveArrays: boolean;
  readonly operationDebug: boolean;
}

/** RFC 9110 §5.1 field name. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const DEFAULT_CACHE_S = 900;

/** Cross-field checks of every `auth/validator` (schema-valid file): each problem with its path. */
export function checkAuthValidator(root: RawObject): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  arrayAt(root, 'endpoints').forEach((ep, i) => {
    if (!isObject(ep)) return;
    const raw = objectAt(ep, 'extra_config')[AUTH_VALIDATOR];
    if (isObject(raw)) checkOne(raw, ['endpoints', i, 'extra_config', AUTH_VALIDATOR], issues);
  });
  return issues;
}

function checkOne(raw: RawObject, at: PathSegment[], issues: ConfigIssue[]): void {
  const issue = (key: string | undefined, message: string): void => {
    issues.push({ path: formatPath(key === undefined ? at : [...at, key]), message });
  };
  const url = stringAt(raw, 'jwk_url') ?? '';
  const local = stringAt(raw, 'jwk_local_path') ?? '';
  if (url === '' && local === '') issue(undefined, 'needs jwk_url or jwk_local_path');
  // jws.go:86 checks the URL even when the keys come from a file.
  if (!url.startsWith('https://') && raw.disable_jwk_security !== true)
    issue(
      url === '' ? 'jwk_local_path' : 'jwk_url',
      url === ''
        ? 'needs "disable_jwk_security": true (KrakenD refuses a validator without an https:// jwk_url otherwise)'
        : 'must be an https:// URL (set "disable_jwk_security": true to allow http://)',
    );
  if (url !== '' && local === '' && !isHttpUrl(url)) issue('jwk_url', `"${url}" is not an http(s) URL`);
  if (local !== '') {
    if (raw.cache === true) issue('cache', 'cannot be used with jwk_local_path (jwk.go:61)');
    const problem = jwksFileProblem(local);
    if (problem !== undefined) issue('jwk_local_path', problem);
  }
  const ca = stringAt(raw, 'jwk_local_ca');
  const caProblem = ca === undefined ? undefined : readProblem(ca);
  if (caProblem !== undefined) issue('jwk_local_ca', caProblem);
  (stringsAt(raw, 'jwk_fingerprints') ?? []).forEach((f, k) => {
    if (decodeFingerprint(f) === undefined)
      issues.push({ path: formatPath([...at, 'jwk_fingerprints', k]), message: 'must be URL-safe base64 (padded)' });
  });
  const header = stringAt(raw, 'auth_header_name');
  if (header !== undefined && header !== '' && !TOKEN.test(header)) issue('auth_header_name', 'is not a header name');
  arrayAt(raw, 'propagate_claims').forEach((pair, k) => {
    const to = Array.isArray(pair) ? pair[1] : undefined;
    if (typeof to === 'string' && !TOKEN.test(to))
      issues.push({ path: formatPath([...at, 'propagate_claims', k, 1]), message: `"${to}" is not a header name` });
  });
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

function readProblem(file: string): string | undefined {
  try {
    readFileSync(file);
    return undefined;
  } catch (err) {
    return `cannot read "${file}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
  }
}

function jwksFileProblem(file: string): string | undefined {
  const unreadable = readProblem(file);
  if (unreadable !== undefined) return unreadable;
  try {
    const v: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return isObject(v) && Array.isArray(v.keys) ? undefined : `"${file}" is not a JWK set ({"keys": [...]})`;
  } catch {
    return `"${file}" is not JSON`;
  }
}

/** Go's base64.URLEncoding (padded), as krakend-jose `jwk.go:203` DecodeFingerprints reads it. */
function decodeFingerprint(f: string): Buffer | undefined {
  if (!/^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}==|[A-Za-z0-9_-]{3}=)?$/.test(f)) return undefined;
  return Buffer.from(f, 'base64url');
}

/** The settings of one endpoint's validator; `raw` has passed the schema and checkAuthValidator. */
export function parseAuthValidator(raw: RawObject): JwtValidatorSettings {
  // `||` where KrakenD treats an empty string as unset (jws.go:83, gin/jose.go:250 and 263).
  const rolesKey = stringAt(raw, 'roles_key') || 'roles';
  const scopes = stringsAt(raw, 'scopes') ?? [];
  const scopesKey = stringAt(raw, 'scopes_key') ?? '';
  const cooldownMs = parseDuration(stringAt(raw, 'failed_jwk_key_cooldown') ?? '') ?? 0;
  const cacheS =
    typeof raw.cache_duration === 'number' && raw.cache_duration > 0 ? raw.cache_duration : DEFAULT_CACHE_S;
  const leewayMs = parseDuration(stringAt(raw, 'leeway') ?? '') ?? 0;
  return {
    alg: raw.alg as JwtAlgorithm,
    origin: parseOrigin(raw),
    cacheMs: raw.cache === true ? cacheS * 1000 : 0,
    cooldownMs: cooldownMs >= 1000 ? cooldownMs : 0,
    strategy: (stringAt(raw, 'key_identify_strategy') as KeyIdentifyStrategy | undefined) ?? 'kid',
    audience: stringsAt(raw, 'audience') ?? [],
    issuer: stringAt(raw, 'issuer') || undefined,
    leewaySec: Math.max(1, leewayMs / 1000),
    authHeader: (stringAt(raw, 'auth_header_name') || 'Authorization').toLowerCase(),
    cookieKey: stringAt(raw, 'cookie_key') || 'access_token',
    roles: stringsAt(raw, 'roles') ?? [],
    rolesKey,
    rolesNested: raw.roles_key_is_nested === true && rolesKey.includes('.') && !rolesKey.startsWith('http'),
    scopes: scopes.length > 0 && scopesKey !== '' ? scopes : [],
    scopesKey,
    scopesAll: raw.scopes_matcher === 'all',
    propagate: arrayAt(raw, 'propagate_claims')
      .filter((p): p is [string, string] => Array.isArray(p) && p.length === 2)
      .map(([claim, header]) => [claim, header] as const),
    preserveArrays: raw.propagate_claims_preserve_array === true,
    operationDebug: raw.operation_debug === true,
  };
}

function parseOrigin(raw: RawObject): JwkOrigin {
  const local = stringAt(raw, 'jwk_local_path') ?? '';
  if (local !== '') return { kind: 'file', path: local, jwks: JSON.parse(readFileSync(local, 'utf8')) as unknown };
  const ca = stringAt(raw, 'jwk_local_ca');
  return {
    kind: 'url',
    url: stringAt(raw, 'jwk_url') ?? '',
    insecure: raw.disable_jwk_security === true,
    localCa: ca === undefined ? undefined : readFileSync(ca, 'utf8'),
    fingerprints: (stringsAt(raw, 'jwk_fingerprints') ?? []).map((f) => decodeFingerprint(f) ?? Buffer.alloc(0)),
  };
}

/** Header names that carry a token or a claim (`auth_header_name`, `propagate_claims`): to redact. */
export function authValidatorSecretHeaders(
  endpoints: readonly { readonly extraConfig: Readonly<Record<string, unknown>> }[],
): string[] {
  const out = new Set<string>();
  for (const ep of endpoints) {
    const raw = ep.extraConfig[AUTH_VALIDATOR];
    if (!isObject(raw)) continue;
    const header = stringAt(raw, 'auth_header_name');
    if (header !== undefined && header !== '') out.add(header.toLowerCase());
    for (const p of arrayAt(raw, 'propagate_claims'))
      if (Array.isArray(p) && typeof p[1] === 'string') out.add(p[1].toLowerCase());
  }
  return [...out];
}
