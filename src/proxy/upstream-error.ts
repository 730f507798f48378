/**
 * Maps what can go wrong on the way to a backend to the catalogue: the endpoint deadline, the client
 * leaving, and undici's transport errors. The original error is kept as `cause`.
 */
import { TollgateError } from '../errors/catalogue.js';
import { Outcome } from '../telemetry/record.js';

/** Abort reasons the gateway uses itself, so a rejection can be told apart from a transport error. */
export const DEADLINE = new TollgateError('TG_ERR_BACKEND_TIMEOUT');
export const CLIENT_GONE = new TollgateError('TG_ERR_CLIENT_ABORTED');

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

export function classifyUpstreamError(err: unknown, reason: TollgateError | undefined): TollgateError {
  if (reason === DEADLINE || err === DEADLINE)
    return new TollgateError('TG_ERR_BACKEND_TIMEOUT', undefined, { cause: DEADLINE });
  if (reason === CLIENT_GONE || err === CLIENT_GONE)
    return new TollgateError('TG_ERR_CLIENT_ABORTED', undefined, { cause: err });
  if (err instanceof TollgateError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && TIMEOUT_CODES.has(code))
    return new TollgateError('TG_ERR_BACKEND_TIMEOUT', undefined, { cause: err });
  return new TollgateError('TG_ERR_BACKEND_UNAVAILABLE', undefined, { cause: err });
}

/** Short machine-readable cause for logs: `ECONNREFUSED`, `UND_ERR_SOCKET`… */
/** The record's view of a failure: canceled (client left), timed out (also a failure), or failed. */
export function outcomeOf(err: TollgateError): Outcome {
  if (err.code === 'TG_ERR_CLIENT_ABORTED') return Outcome.Canceled;
  if (err.code === 'TG_ERR_BACKEND_TIMEOUT') return Outcome.TimedOut;
  return Outcome.Failed;
}

export function causeCode(err: TollgateError): string {
  if (err.cause === DEADLINE) return 'deadline';
  const c = err.cause as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = c?.code ?? c?.cause?.code;
  return typeof code === 'string' ? code : c instanceof Error ? c.name : 'unknown';
}
