/**
 * Real KrakenD files carry settings Tollgate does not implement (plugins, lua, rate limits, auth…).
 * This pass finds every one of them and sorts it:
 *
 * - `unenforced`: it would protect, validate or transform traffic (krakend-catalogue.ts), or it is an
 *   unknown name one typo away from such a setting. Running without it would open or change an endpoint,
 *   so the loader refuses the file unless the operator opts out.
 * - `ignored`: a KrakenD setting that only describes, reports or tunes: a warning.
 * - `unknown`: neither KrakenD's nor Tollgate's: a warning with the closest known name, an error with
 *   `check --lint`.
 */
import { formatPath, type PathSegment } from './json-path.js';
import {
  KRAKEND_KEYS,
  KRAKEND_NAMESPACE_KEYS,
  KRAKEND_NAMESPACES,
  LEGACY_ENFORCING,
  type KnownSetting,
} from './krakend-catalogue.js';
import { NAMESPACE_KEYS, NAMESPACE_SCHEMAS, isSupportedNamespace } from './namespaces.js';
import { arrayAt, isCommentKey, isObject, type RawObject } from './raw.js';
import { KNOWN_KEYS } from './schema.js';
import { closestName } from './suggest.js';

type Scope = 'root' | 'endpoint' | 'backend';

export interface Finding {
  readonly kind: 'unenforced' | 'ignored' | 'unknown';
  /** Where it is: `endpoints[0].extra_config["auth/validator"]`. */
  readonly path: string;
  /** The key or namespace as written. */
  readonly name: string;
  /** One sentence for the operator. */
  readonly message: string;
  /** The known name closest to an unknown one. */
  readonly suggestion?: string | undefined;
}

/**
 * Names Tollgate implements whose typo would silently drop a protection: refused like the KrakenD
 * settings it does not enforce.
 */
const PROTECTIVE: Readonly<Record<string, string>> = {
  'auth/api-keys': 'require a valid API key',
  allow: 'return only these fields of the backend response',
  deny: 'remove these fields from the backend response',
  enable_mtls: 'require client certificates',
  ca_certs: 'verify client certificates against these CAs',
  min_version: 'refuse older TLS versions',
  roles: 'require an API key with one of these roles',
};

const ALL_NAMESPACES = [...new Set([...Object.keys(KRAKEND_NAMESPACES), ...NAMESPACE_SCHEMAS.map((n) => n.name)])];

function knownOnes(
  o: RawObject,
  known: ReadonlySet<string>,
  catalogue: Readonly<Record<string, KnownSetting>>,
  at: PathSegment[],
  out: Finding[],
): void {
  for (const k of Object.keys(o)) {
    if (known.has(k) || isCommentKey(k)) continue;
    const path = formatPath([...at, k]);
    const entry = catalogue[k];
    if (entry !== undefined) out.push(classified(path, k, entry));
    else out.push(unknown(path, k, 'setting', closestName(k, [...known, ...Object.keys(catalogue)]), catalogue));
  }
}

function classified(path: string, name: string, entry: KnownSetting): Finding {
  return entry.enforcing
    ? { kind: 'unenforced', path, name, message: `not enforced by Tollgate: KrakenD would ${entry.would}` }
    : { kind: 'ignored', path, name, message: `not supported by Tollgate: KrakenD would ${entry.would}` };
}

function unknown(
  path: string,
  name: string,
  what: 'setting' | 'namespace',
  suggestion: string | undefined,
  catalogue: Readonly<Record<string, KnownSetting>>,
): Finding {
  if (suggestion === undefined)
    return { kind: 'unknown', path, name, message: `unknown ${what} (not a KrakenD or Tollgate ${what})` };
  const would = catalogue[suggestion]?.enforcing === true ? catalogue[suggestion]?.would : PROTECTIVE[suggestion];
  if (would !== undefined) {
    return {
      kind: 'unenforced',
      path,
      name,
      suggestion,
      message: `unknown ${what}: did you mean "${suggestion}"? (a likely typo of a setting that would ${would})`,
    };
  }
  return { kind: 'unknown', path, name, suggestion, message: `unknown ${what}: did you mean "${suggestion}"?` };
}

function namespaceFinding(ns: string, scope: Scope, path: string): Finding {
  const supported = NAMESPACE_SCHEMAS.find((s) => s.name === ns);
  if (supported !== undefined) {
    const where = Object.keys(supported.scopes).join(' and ');
    const protects = PROTECTIVE[ns];
    return protects !== undefined
      ? {
          kind: 'unenforced',
          path,
          name: ns,
          message: `has no effect at the ${scope} level (Tollgate reads it at the ${where} level): it would ${protects} here`,
        }
      : {
          kind: 'ignored',
          path,
          name: ns,
          message: `has no effect at the ${scope} level (Tollgate reads it at the ${where} level)`,
        };
  }
  const entry = KRAKEND_NAMESPACES[ns];
  if (entry !== undefined) return classified(path, ns, entry);
  const legacy = LEGACY_ENFORCING.find(([re]) => re.test(ns))?.[1];
  const current = legacy === undefined ? undefined : KRAKEND_NAMESPACES[legacy];
  if (legacy !== undefined && current !== undefined) {
    return {
      kind: 'unenforced',
      path,
      name: ns,
      message: `legacy name of "${legacy}", not enforced by Tollgate: KrakenD would ${current.would}`,
    };
  }
  return unknown(path, ns, 'namespace', closestName(ns, ALL_NAMESPACES), KRAKEND_NAMESPACES);
}

export function collectFindings(root: RawObject): Finding[] {
  const out: Finding[] = [];
  const namespaces = (o: RawObject, scope: Scope, at: PathSegment[]): void => {
    const extra = o.extra_config;
    if (!isObject(extra)) return;
    for (const [ns, value] of Object.entries(extra)) {
      if (isCommentKey(ns)) continue;
      const where = [...at, 'extra_config', ns];
      if (!isSupportedNamespace(ns, scope)) {
        out.push(namespaceFinding(ns, scope, formatPath(where)));
        continue;
      }
      const known = NAMESPACE_KEYS[ns];
      if (known !== undefined && isObject(value)) knownOnes(value, known, KRAKEND_NAMESPACE_KEYS[ns] ?? {}, where, out);
    }
  };
  knownOnes(root, KNOWN_KEYS.root, KRAKEND_KEYS.root, [], out);
  namespaces(root, 'root', []);
  // KrakenD ignores a disabled tls block as a whole, and so does Tollgate.
  if (isObject(root.tls) && root.tls.disabled !== true)
    knownOnes(root.tls, KNOWN_KEYS.tls, KRAKEND_KEYS.tls, ['tls'], out);
  arrayAt(root, 'endpoints').forEach((ep, i) => {
    if (!isObject(ep)) return;
    knownOnes(ep, KNOWN_KEYS.endpoint, KRAKEND_KEYS.endpoint, ['endpoints', i], out);
    namespaces(ep, 'endpoint', ['endpoints', i]);
    arrayAt(ep, 'backend').forEach((be, j) => {
      if (!isObject(be)) return;
      knownOnes(be, KNOWN_KEYS.backend, KRAKEND_KEYS.backend, ['endpoints', i, 'backend', j], out);
      namespaces(be, 'backend', ['endpoints', i, 'backend', j]);
    });
  });
  return out;
}

/** The start-up warnings of the findings that do not stop the file: ignored and unknown settings. */
export function findingWarnings(findings: readonly Finding[]): string[] {
  const warnings: string[] = [];
  const ignored = grouped(findings.filter((f) => f.kind === 'ignored'));
  if (ignored !== undefined)
    warnings.push(`settings not supported by Tollgate are ignored (they only describe, report or tune): ${ignored}`);
  const byName = new Map<string, Finding[]>();
  for (const f of findings.filter((x) => x.kind === 'unknown')) byName.set(f.name, [...(byName.get(f.name) ?? []), f]);
  for (const [, list] of byName) {
    const first = list[0] as Finding;
    const more = list.length > 1 ? ` (and ${list.length - 1} more place${list.length === 2 ? '' : 's'})` : '';
    warnings.push(`${first.path}${more}: ${first.message}${first.message.endsWith('?') ? '' : '.'} It is ignored.`);
  }
  return warnings;
}

/** Paths grouped by name, so a 200-endpoint file stays one readable line. */
function grouped(findings: readonly Finding[]): string | undefined {
  if (findings.length === 0) return undefined;
  const byName = new Map<string, string[]>();
  for (const f of findings) byName.set(f.name, [...(byName.get(f.name) ?? []), f.path]);
  const parts = [...byName.entries()].map(([key, where]) =>
    where.length <= 3 ? where.join(', ') : `${key} (${where.length} places: ${where.slice(0, 2).join(', ')}, …)`,
  );
  return parts.join('; ');
}
