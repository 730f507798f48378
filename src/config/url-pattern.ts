/** The `{param}` placeholders of a backend `url_pattern`, and how they are matched to the endpoint's parameters. */

/** A `{name}` placeholder (global: use with matchAll). */
export const PLACEHOLDER = /\{([^{}]+)\}/g;

/** KrakenD matches `{id}` and `{Id}` to the same endpoint parameter (it capitalises the first letter). */
export function paramKey(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

export function placeholdersOf(urlPattern: string): string[] {
  const q = urlPattern.indexOf('?');
  const pathPart = q === -1 ? urlPattern : urlPattern.slice(0, q);
  return [...pathPart.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
}
