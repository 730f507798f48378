/**
 * `report_headers`: headers as `http.request.header.<name>` / `http.response.header.<name>` string
 * arrays (krakend-otel writes `attribute.StringSlice` with the lower-cased name), minus `skip_headers`;
 * credentials (Authorization, Cookie, the API-key header…) as REDACTED.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { REDACTED, type Redactor } from '../../log/redact.js';
import type { SpanWriter } from './span-encoder.js';

const NONE: ReadonlySet<string> = new Set();

/** `skip` and `alsoSkip` hold lower-case names (`alsoSkip`: what the propagators wrote into a backend request). */
export function headerAttributes(
  out: SpanWriter,
  prefix: string,
  headers: IncomingHttpHeaders | OutgoingHttpHeaders | Record<string, string | string[]>,
  skip: ReadonlySet<string>,
  redact: Redactor,
  alsoSkip: ReadonlySet<string> = NONE,
): void {
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value === undefined || skip.has(lower) || alsoSkip.has(lower)) continue;
    if (redact.isSecretHeader(lower))
      out.any(`${prefix}${lower}`, Array.isArray(value) ? value.map(() => REDACTED) : [REDACTED]);
    else out.any(`${prefix}${lower}`, Array.isArray(value) ? value.map(String) : [String(value)]);
  }
}
