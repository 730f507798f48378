/**
 * `security/http` (service level): its schema, its checks and the settings read from it. krakend-httpsecure
 * reads the namespace into unrolled/secure v1.15.0's Options (`httpsecure.go:17`, ConfigGetter), key by
 * key as listed in the schema below; `hpkp_public_key` is not read (HPKP was removed from unrolled/secure)
 * and is classified in krakend-catalogue.ts.
 */
import type { ConfigIssue } from '../issue.js';
import { formatPath } from '../json-path.js';
import { translateGoRegExp } from '../go-regexp.js';
import { isObject, objectAt, stringAt, stringsAt, type RawObject } from '../raw.js';

export const SECURITY_HTTP = 'security/http';

const headerName = { type: 'string', pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" } as const;
/** What Node accepts in a header value (it refuses to send anything else). */
const headerValue = { type: 'string', pattern: '^[\\t\\x20-\\x7e\\x80-\\xff]*$' } as const;

export const SECURITY_HTTP_SCHEMA = {
  type: 'object',
  properties: {
    allowed_hosts: { type: 'array', items: { type: 'string' } },
    allowed_hosts_are_regex: { type: 'boolean' },
    host_proxy_headers: { type: 'array', items: headerName },
    ssl_redirect: { type: 'boolean' },
    // The host part of the redirect's Location (the characters Go's httpguts.ValidHostHeader takes).
    ssl_host: { type: 'string', pattern: "^[A-Za-z0-9!$%&'()*+,\\-.:;=[\\]_~]*$" },
    ssl_proxy_headers: { type: 'object', propertyNames: headerName, additionalProperties: { type: 'string' } },
    sts_seconds: { type: 'integer' },
    sts_include_subdomains: { type: 'boolean' },
    force_sts_header: { type: 'boolean' },
    frame_deny: { type: 'boolean' },
    custom_frame_options_value: headerValue,
    content_type_nosniff: { type: 'boolean' },
    browser_xss_filter: { type: 'boolean' },
    content_security_policy: headerValue,
    referrer_policy: headerValue,
    is_development: { type: 'boolean' },
  },
} as const;

export const SECURITY_HTTP_KEYS: ReadonlySet<string> = new Set(Object.keys(SECURITY_HTTP_SCHEMA.properties));

export interface HttpSecuritySettings {
  /** Accepted hosts, lower-cased (compared case-insensitively: `strings.EqualFold`); empty: any host. */
  readonly allowedHosts: readonly string[];
  /** With `allowed_hosts_are_regex`: `^<pattern>$` each, as unrolled/secure compiles them. */
  readonly allowedHostPatterns: readonly RegExp[] | undefined;
  /** Lower-cased header names whose first non-empty value replaces the Host. */
  readonly hostProxyHeaders: readonly string[];
  readonly sslRedirect: boolean;
  readonly sslHost: string;
  /** Lower-cased header name and the exact value that marks a request as HTTPS. */
  readonly sslProxyHeaders: readonly (readonly [name: string, value: string])[];
  /** `Strict-Transport-Security` value, undefined when `sts_seconds` is 0. */
  readonly sts: string | undefined;
  readonly forceSts: boolean;
  /** The response headers every accepted request gets (STS aside), in unrolled/secure's order. */
  readonly headers: readonly (readonly [name: string, value: string])[];
  /** `content_security_policy` with `$NONCE`: the parts around each nonce (a fresh one per request). */
  readonly cspNonceParts: readonly string[] | undefined;
  readonly isDevelopment: boolean;
}

export function parseHttpSecurity(raw: unknown): HttpSecuritySettings | undefined {
  if (!isObject(raw)) return undefined;
  const hosts = stringsAt(raw, 'allowed_hosts') ?? [];
  const regex = raw.allowed_hosts_are_regex === true;
  const sts = typeof raw.sts_seconds === 'number' ? raw.sts_seconds : 0;
  const csp = stringAt(raw, 'content_security_policy') ?? '';
  const nonce = csp.includes('$NONCE');
  return {
    allowedHosts: regex ? [] : hosts.map((h) => h.toLowerCase()),
    allowedHostPatterns: regex ? hosts.map(hostPattern) : undefined,
    hostProxyHeaders: (stringsAt(raw, 'host_proxy_headers') ?? []).map((h) => h.toLowerCase()),
    sslRedirect: raw.ssl_redirect === true,
    sslHost: stringAt(raw, 'ssl_host') ?? '',
    sslProxyHeaders: Object.entries(objectAt(raw, 'ssl_proxy_headers')).flatMap(([k, v]) =>
      typeof v === 'string' ? [[k.toLowerCase(), v] as const] : [],
    ),
    sts: sts === 0 ? undefined : `max-age=${sts}${raw.sts_include_subdomains === true ? '; includeSubDomains' : ''}`,
    forceSts: raw.force_sts_header === true,
    headers: fixedHeaders(raw, nonce ? '' : csp),
    cspNonceParts: nonce ? csp.split('$NONCE') : undefined,
    isDevelopment: raw.is_development === true,
  };
}

/** unrolled/secure `secure.go:412-452`: frame options, nosniff, XSS filter, CSP, referrer policy. */
function fixedHeaders(raw: RawObject, csp: string): [string, string][] {
  const out: [string, string][] = [];
  const frame = stringAt(raw, 'custom_frame_options_value') ?? '';
  if (frame !== '') out.push(['X-Frame-Options', frame]);
  else if (raw.frame_deny === true) out.push(['X-Frame-Options', 'DENY']);
  if (raw.content_type_nosniff === true) out.push(['X-Content-Type-Options', 'nosniff']);
  if (raw.browser_xss_filter === true) out.push(['X-Xss-Protection', '1; mode=block']);
  if (csp !== '') out.push(['Content-Security-Policy', csp]);
  const referrer = stringAt(raw, 'referrer_policy') ?? '';
  if (referrer !== '') out.push(['Referrer-Policy', referrer]);
  return out;
}

function hostPattern(pattern: string): RegExp {
  const t = translateGoRegExp(pattern);
  if (!t.ok) throw new SyntaxError(t.message);
  return new RegExp(`^${t.source}$`, t.flags);
}

/** Each `allowed_hosts` entry that is no regular expression, when they are (KrakenD panics on one at start). */
export function checkHttpSecurity(root: RawObject): ConfigIssue[] {
  const raw = objectAt(objectAt(root, 'extra_config'), SECURITY_HTTP);
  if (raw.allowed_hosts_are_regex !== true) return [];
  const issues: ConfigIssue[] = [];
  (stringsAt(raw, 'allowed_hosts') ?? []).forEach((h, i) => {
    const t = translateGoRegExp(h);
    const ok = t.ok && isValid(`^${t.source}$`, t.flags);
    if (!ok)
      issues.push({
        path: formatPath(['extra_config', SECURITY_HTTP, 'allowed_hosts', i]),
        message: t.ok ? 'is not a regular expression once anchored as ^…$' : t.message,
      });
  });
  return issues;
}

function isValid(source: string, flags: string): boolean {
  try {
    new RegExp(source, flags);
    return true;
  } catch {
    return false;
  }
}
