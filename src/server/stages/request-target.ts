/**
 * Stage: the request target must be an absolute path (RFC 9112 §3.2.1, origin-form,
 * https://www.rfc-editor.org/rfc/rfc9112#section-3.2.1): an absolute URL or `*` is no request for an
 * endpoint, and a path that does not start with `/` could not be matched or forwarded safely.
 */
import type { ServerResponse } from 'node:http';
import { TollgateError } from '../../errors/catalogue.js';
import { sendError } from '../../http/respond.js';

export function refuseRequestTarget(res: ServerResponse, path: string): boolean {
  if (path.charCodeAt(0) === 47) return false;
  sendError(res, new TollgateError('TG_ERR_BAD_REQUEST', 'the request target must be an absolute path'));
  return true;
}
