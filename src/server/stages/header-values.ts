/** Request header values read as Go's net/http does (`Header.Get`, `r.Header[name]`), for the stages that echo or compare them. */
import type { IncomingMessage } from 'node:http';

/** Go's Header.Get: the first field's value ('' when absent). Node joins repeated fields with ', '. */
export function firstValue(req: IncomingMessage, name: string): string {
  const v = req.headers[name];
  if (v === undefined) return '';
  const joined = Array.isArray(v) ? v.join(', ') : v;
  return joined.includes(',') ? (req.headersDistinct[name]?.[0] ?? '') : joined;
}

/** Every field of the header, in order, as Go's `r.Header[name]`. */
export function allValues(req: IncomingMessage, name: string): string[] {
  return req.headersDistinct[name] ?? [];
}
