/**
 * Stage: an endpoint with `auth/api-keys` requires a known key (401 with the challenge otherwise)
 * and, when it lists roles, a consumer with one of them (403). The consumer goes into the record.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiKeyAuth, AuthRefusal } from '../../auth/api-keys.js';
import type { EndpointAuth } from '../../config/namespaces/api-keys.js';
import { TollgateError } from '../../errors/catalogue.js';
import { sendError } from '../../http/respond.js';
import type { RequestRecord } from '../../telemetry/record.js';

/** An endpoint requires a key but no keys are configured: every request is refused. */
const NO_KEYS: AuthRefusal = { ok: false, status: 401 };

/** Answers 401 or 403 (returns true) unless the request carries an acceptable key. */
export function refuseUnauthorized(
  apiKeys: ApiKeyAuth | undefined,
  auth: EndpointAuth,
  req: IncomingMessage,
  res: ServerResponse,
  rawQuery: string,
  rec: RequestRecord,
): boolean {
  const result = apiKeys?.check(req, rawQuery, auth) ?? NO_KEYS;
  if (result.ok) {
    rec.consumer = result.consumer;
    return false;
  }
  const code = result.status === 401 ? 'TG_ERR_UNAUTHORIZED' : 'TG_ERR_FORBIDDEN';
  sendError(
    res,
    new TollgateError(code, result.message),
    result.challenge === undefined ? undefined : { 'www-authenticate': result.challenge },
  );
  return true;
}
