/**
 * A backend `url_pattern` compiled once: literal text and `{param}` slots filled per request from the
 * endpoint's parameters, in the path and in the pattern's own query string (lura replaces them over the
 * whole pattern: https://github.com/luraproject/lura/blob/master/proxy/request.go#L24). lura inserts the
 * raw value; here every value is percent-encoded again (`encodeURIComponent`), so a decoded `/` or `..`
 * cannot escape its path segment and a `&` or `=` cannot add a query parameter.
 */
import { PLACEHOLDER, paramKey } from '../config/url-pattern.js';

type Part = string | { readonly param: number };

export interface UrlTemplate {
  readonly path: readonly Part[];
  /** Query string written in the url_pattern itself, without `?`; kept on every request. */
  readonly query: readonly Part[];
  readonly placeholders: readonly string[];
}

export function compileUrlTemplate(urlPattern: string, endpointParams: readonly string[]): UrlTemplate {
  const q = urlPattern.indexOf('?');
  const keys = endpointParams.map(paramKey);
  const placeholders: string[] = [];
  const path = compilePart(q === -1 ? urlPattern : urlPattern.slice(0, q), keys, placeholders);
  const query = compilePart(q === -1 ? '' : urlPattern.slice(q + 1), keys, placeholders);
  return { path, query, placeholders };
}

function compilePart(text: string, keys: readonly string[], placeholders: string[]): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    const name = m[1] as string;
    placeholders.push(name);
    if (m.index > last) parts.push(text.slice(last, m.index));
    parts.push({ param: keys.indexOf(paramKey(name)) });
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

function render(parts: readonly Part[], params: readonly string[]): string {
  let out = '';
  for (const part of parts) {
    out += typeof part === 'string' ? part : encodeURIComponent(params[part.param] ?? '');
  }
  return out;
}

export function renderPath(t: UrlTemplate, params: readonly string[]): string {
  return render(t.path, params);
}

/** The url_pattern's own query string with its placeholders filled (without `?`). */
export function renderQuery(t: UrlTemplate, params: readonly string[]): string {
  return render(t.query, params);
}
