/**
 * Which backend statuses a merging endpoint takes, and what a failed one leaves for the client, as
 * lura's status handlers do (https://github.com/luraproject/lura/blob/master/transport/http/client/status.go).
 */
import type { BackendErrorReturn } from '../config/namespaces/backend-http.js';
import { decompress } from './decompress.js';
import type { BufferedResponse } from './exchange.js';
import type { JsonObject } from './formatter.js';
import { goStruct } from './go-json.js';

/** DefaultHTTPStatusHandler: 200 and 201 only; any other status, 2xx included, fails the backend. */
export function isSuccessStatus(status: number): boolean {
  return status === 200 || status === 201;
}

/**
 * `return_error_details`: `{"error_<name>": HTTPResponseError}`, merged as the backend's data with no
 * formatting (lura proxy/http.go returns it before the response parser). The struct's fields keep
 * their order and `omitempty`: the body as text (decompressed, as Go's transport hands it over; empty
 * when it cannot be read) and the backend's Content-Type.
 */
export async function errorDetails(
  how: BackendErrorReturn,
  r: BufferedResponse,
  maxBody: number,
): Promise<JsonObject | undefined> {
  if (how.detailsName === undefined) return undefined;
  let body = '';
  try {
    body = (await decompress(r.body, r.headers['content-encoding'], maxBody)).toString('utf8');
  } catch {
    // As newHTTPResponseError: a body that cannot be read is left out.
  }
  const type = r.headers['content-type'];
  const encoding = Array.isArray(type) ? (type[0] ?? '') : (type ?? '');
  const fields: JsonObject = { http_status_code: r.status };
  if (body !== '') fields.http_body = body;
  if (encoding !== '') fields.http_body_encoding = encoding;
  return { [`error_${how.detailsName}`]: goStruct(fields) };
}
