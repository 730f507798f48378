/**
 * Real KrakenD files carry settings Tollgate does not implement (plugins, lua, rate limits, auth…).
 * They must still load: this pass collects every ignored key and namespace, so start-up prints one
 * warning listing them all instead of failing or staying silent.
 */
import { formatPath, type PathSegment } from './json-path.js';
import { NAMESPACE_KEYS, isSupportedNamespace } from './namespaces.js';
import { arrayAt, isCommentKey, isObject, type RawObject } from './raw.js';
import { KNOWN_KEYS } from './schema.js';

type Scope = 'root' | 'endpoint' | 'backend';

export function collectIgnored(root: RawObject): string[] {
  const out: string[] = [];
  const keys = (o: RawObject, known: ReadonlySet<string>, at: PathSegment[]): void => {
    for (const k of Object.keys(o)) {
      if (!known.has(k) && !isCommentKey(k)) out.push(formatPath([...at, k]));
    }
  };
  const namespaces = (o: RawObject, scope: Scope, at: PathSegment[]): void => {
    const extra = o.extra_config;
    if (!isObject(extra)) return;
    for (const [ns, value] of Object.entries(extra)) {
      if (isCommentKey(ns)) continue;
      const where = [...at, 'extra_config', ns];
      if (!isSupportedNamespace(ns, scope)) {
        out.push(formatPath(where));
        continue;
      }
      const known = NAMESPACE_KEYS[ns];
      if (known !== undefined && isObject(value)) keys(value, known, where);
    }
  };
  keys(root, KNOWN_KEYS.root, []);
  namespaces(root, 'root', []);
  if (isObject(root.tls)) keys(root.tls, KNOWN_KEYS.tls, ['tls']);
  arrayAt(root, 'endpoints').forEach((ep, i) => {
    if (!isObject(ep)) return;
    keys(ep, KNOWN_KEYS.endpoint, ['endpoints', i]);
    namespaces(ep, 'endpoint', ['endpoints', i]);
    arrayAt(ep, 'backend').forEach((be, j) => {
      if (!isObject(be)) return;
      keys(be, KNOWN_KEYS.backend, ['endpoints', i, 'backend', j]);
      namespaces(be, 'backend', ['endpoints', i, 'backend', j]);
    });
  });
  return out;
}

/** One line for the log: the ignored settings, grouped by key so a 200-endpoint file stays readable. */
export function ignoredWarning(paths: readonly string[]): string | undefined {
  if (paths.length === 0) return undefined;
  const byName = new Map<string, string[]>();
  for (const p of paths) {
    const name = /(?:\["([^"]+)"\]|\.?([A-Za-z_][\w-]*))$/.exec(p);
    const key = (name?.[1] ?? name?.[2] ?? p).toString();
    const list = byName.get(key) ?? [];
    list.push(p);
    byName.set(key, list);
  }
  const parts = [...byName.entries()].map(([key, where]) =>
    where.length <= 3 ? where.join(', ') : `${key} (${where.length} places: ${where.slice(0, 2).join(', ')}, …)`,
  );
  return `settings not supported by Tollgate are ignored: ${parts.join('; ')}`;
}
