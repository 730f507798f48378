/**
 * Query forwarding: nothing unless listed in `input_query_strings` (`*` for all), after the query the
 * url_pattern itself carries.
 */
import type { ForwardRule } from '../config/types.js';

export function forwardedQuery(rawQuery: string, rule: ForwardRule): string {
  if (rawQuery === '') return '';
  if (rule === '*') return rawQuery;
  if (rule.size === 0) return '';
  const kept: string[] = [];
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawKey = eq === -1 ? pair : pair.slice(0, eq);
    let key: string;
    try {
      key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
    } catch {
      continue;
    }
    if (rule.has(key)) kept.push(pair);
  }
  return kept.join('&');
}

export function joinQuery(a: string, b: string): string {
  if (a === '') return b;
  if (b === '') return a;
  return `${a}&${b}`;
}
