/**
 * Checks the schema cannot express: reserved paths, colliding routes, placeholders a backend uses but
 * the endpoint lacks, backends without a host, no-op endpoints with several backends, bad host URLs.
 */
import { parseEndpointPattern, paramNames } from './endpoint-pattern.js';
import { paramKey, placeholdersOf } from './url-pattern.js';
import { formatPath } from './json-path.js';
import { arrayAt, isObject, objectAt, stringAt, stringsAt, type RawObject } from './raw.js';
import type { ConfigIssue } from './issue.js';

const RESERVED = /^\/__(debug|echo|health|stats|catchall)(\/.*)?$/;

export function checkSemantics(root: RawObject, warnings: string[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const rootHosts = stringsAt(root, 'host') ?? [];
  for (const [i, h] of rootHosts.entries()) checkHost(h, ['host', i], false, issues, warnings);
  const seen = new Map<string, number>();
  const healthPath = stringAt(objectAt(objectAt(root, 'extra_config'), 'router'), 'health_path');
  const rootEncoding = stringAt(root, 'output_encoding') ?? 'json';

  arrayAt(root, 'endpoints').forEach((ep, i) => {
    if (!isObject(ep)) return;
    const path = stringAt(ep, 'endpoint');
    const at = (...rest: (string | number)[]): string => formatPath(['endpoints', i, ...rest]);
    let params: string[] = [];
    if (path !== undefined) {
      if (RESERVED.test(path) || (healthPath !== undefined && path === healthPath)) {
        issues.push({ path: at('endpoint'), message: `"${path}" is reserved for the gateway's own endpoints` });
      }
      const pattern = parseEndpointPattern(path);
      if (typeof pattern === 'string') {
        issues.push({ path: at('endpoint'), message: pattern });
      } else {
        params = paramNames(pattern);
        const method = (stringAt(ep, 'method') ?? 'GET').toUpperCase();
        const key = `${method} ${pattern.shape}`;
        const first = seen.get(key);
        if (first !== undefined) {
          issues.push({
            path: at('endpoint'),
            message: `${method} ${path} collides with endpoints[${first}] (same method and path shape)`,
          });
        } else {
          seen.set(key, i);
        }
      }
    }
    const backends = arrayAt(ep, 'backend');
    const encoding = stringAt(ep, 'output_encoding') ?? rootEncoding;
    if (encoding === 'no-op' && backends.length > 1) {
      issues.push({
        path: at('backend'),
        message: 'an endpoint with output_encoding "no-op" must have exactly 1 backend',
      });
    }
    const keys = new Set(params.map(paramKey));
    backends.forEach((be, j) => {
      if (!isObject(be)) return;
      const hosts = stringsAt(be, 'host');
      if ((hosts ?? rootHosts).length === 0) {
        issues.push({ path: at('backend', j, 'host'), message: 'no host: set "host" on the backend or at the root' });
      }
      const sanitize = be.disable_host_sanitize !== true;
      for (const [k, h] of (hosts ?? []).entries())
        checkHost(h, ['endpoints', i, 'backend', j, 'host', k], !sanitize, issues, warnings);
      const pattern = stringAt(be, 'url_pattern');
      if (pattern !== undefined) {
        if (!pattern.startsWith('/'))
          issues.push({ path: at('backend', j, 'url_pattern'), message: 'must start with "/"' });
        const jwt = isObject(objectAt(ep, 'extra_config')['auth/validator']);
        for (const name of placeholdersOf(pattern)) {
          // auth/validator fills `{JWT.<claim>}` (server/compile-jwt.ts).
          if (jwt && name.startsWith('JWT.')) continue;
          if (/^resp\d+_|\./.test(name)) {
            warnings.push(
              `${at('backend', j, 'url_pattern')}: placeholder {${name}} (sequential proxy, JWT or dynamic routing) is not supported; it is sent empty`,
            );
            continue;
          }
          if (!keys.has(paramKey(name))) {
            issues.push({
              path: at('backend', j, 'url_pattern'),
              message: `placeholder {${name}} is not a parameter of endpoint "${path ?? ''}"`,
            });
          }
        }
      }
    });
  });
  return issues;
}

function checkHost(
  host: string,
  segments: (string | number)[],
  raw: boolean,
  issues: ConfigIssue[],
  warnings: string[],
): void {
  const url = raw || /^[a-z][a-z0-9+.-]*:\/\//i.test(host) ? host : `http://${host}`;
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      warnings.push(
        `${formatPath(segments)}: "${host}": only http:// and https:// backends are supported; requests to it fail with 502`,
      );
    }
  } catch {
    issues.push({ path: formatPath(segments), message: `"${host}" is not a valid host URL` });
  }
}
