/** The `{param}` placeholders of a backend `url_pattern`, and how they are matched to the endpoint's parameters. */

/** A `{name}` placeholder (global: use with matchAll). */
export const PLACEHOLDER = /\{([^{}]+)\}/g;

/** KrakenD matches `{id}` and `{Id}` to the same endpoint parameter (it capitalises the first letter). */
export function paramKey(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/**
 * Every placeholder of the pattern, in the path and in its query string: lura replaces them over the
 * whole url_pattern (https://github.com/luraproject/lura/blob/master/config/config.go#L635,
 * https://github.com/luraproject/lura/blob/master/proxy/request.go#L24).
 */
export function placeholdersOf(urlPattern: string): string[] {
  return [...urlPattern.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
}
