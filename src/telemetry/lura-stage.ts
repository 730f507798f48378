/**
 * What lura's proxy stages return for a backend, read back from the record: krakend-otel's stage spans
 * (krakend-otel/lura/proxy_tracer.go:66-85) write `http.response.status_code` from it: 500 with
 * `error` or `canceled` when the stage returned an error, else the response's `Metadata.StatusCode`,
 * which lura fills only for no-op backends (proxy/http_response.go:63-72) and for failures turned
 * into data by `return_error_details` (proxy/http.go:121-130); a decoded response carries 0. The spans
 * and the read-payload metrics both ask it whether lura read a backend's body.
 */
import type { BackendConfig } from '../config/types.js';
import { isTollgateError } from '../errors/catalogue.js';
import type { BackendRecord } from './record.js';

/** What a backend's stage needs from its config to read its result as lura would have it. */
export interface StageShape {
  /** `encoding: no-op`: lura's NoOpHTTPResponseParser copies the status into the response metadata. */
  readonly noop: boolean;
  /** `backend/http.return_error_details`: a failed status becomes a response, not an error. */
  readonly details: boolean;
  /** Whether lura reads the body of a failed status (`return_error_code` or `return_error_details`). */
  readonly readsFailedBody: boolean;
}

/** A backend's stage shape, from its config. */
export function stageShapeOf(config: BackendConfig): StageShape {
  const errorReturn = config.errorReturn;
  return {
    noop: config.encoding === 'no-op',
    details: errorReturn.detailsName !== undefined,
    readsFailedBody: errorReturn.code || errorReturn.detailsName !== undefined,
  };
}

/** A status other than 200/201 on a backend with `return_error_details`: a response carrying that status. */
function detailsResponse(shape: StageShape, br: BackendRecord): boolean {
  return shape.details && isTollgateError(br.error) && br.error.code === 'TG_ERR_BACKEND_STATUS';
}

/** Whether the stage returned an error (lura: `nil, err`), and not a response. */
export function stageFailed(shape: StageShape, br: BackendRecord): boolean {
  return (br.stageError || br.stageCanceled) && !detailsResponse(shape, br);
}

/** `http.response.status_code` of the backend stage span. */
export function stageStatus(shape: StageShape, br: BackendRecord): number {
  if (stageFailed(shape, br)) return 500;
  return shape.noop || detailsResponse(shape, br) ? br.status : 0;
}

/**
 * Whether lura reads the response body, so the client span has a read span: always for no-op (the
 * router copies it), for 200 and 201, and for the statuses the error-returning handlers read
 * (transport/http/client/status.go:69-75 and newHTTPResponseError); the default handler leaves the
 * body of any other status unread.
 */
export function bodyRead(shape: StageShape, br: BackendRecord): boolean {
  return shape.noop || br.status === 200 || br.status === 201 || shape.readsFailedBody;
}
