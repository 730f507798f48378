/**
 * A backend `url_pattern` compiled once: literal text and `{param}` slots filled per request from the
 * endpoint's parameters (values percent-encoded again, so a decoded `/` or `..` cannot escape the
 * segment on the way to the backend).
 */
import { PLACEHOLDER, paramKey } from '../config/url-pattern.js';

export interface UrlTemplate {
  readonly path: readonly (string | { readonly param: number })[];
  /** Query string written in the url_pattern itself, without `?`; kept on every request. */
  readonly query: string;
  readonly placeholders: readonly string[];
}

export function compileUrlTemplate(urlPattern: string, endpointParams: readonly string[]): UrlTemplate {
  const q = urlPattern.indexOf('?');
  const pathPart = q === -1 ? urlPattern : urlPattern.slice(0, q);
  const query = q === -1 ? '' : urlPattern.slice(q + 1);
  const keys = endpointParams.map(paramKey);
  const path: (string | { param: number })[] = [];
  const placeholders: string[] = [];
  let last = 0;
  for (const m of pathPart.matchAll(PLACEHOLDER)) {
    const name = m[1] as string;
    placeholders.push(name);
    if (m.index > last) path.push(pathPart.slice(last, m.index));
    path.push({ param: keys.indexOf(paramKey(name)) });
    last = m.index + m[0].length;
  }
  if (last < pathPart.length) path.push(pathPart.slice(last));
  return { path, query, placeholders };
}

export function renderPath(t: UrlTemplate, params: readonly string[]): string {
  let out = '';
  for (const part of t.path) {
    out += typeof part === 'string' ? part : encodeURIComponent(params[part.param] ?? '');
  }
  return out;
}
