/**
 * Maps what can go wrong on the way to a backend to the catalogue: the endpoint deadline, the client
 * leaving, and undici's transport errors. The original error is kept as `cause`.
 */
import { TollgateError } from '../errors/catalogue.js';

/** Abort reasons the gateway uses itself, so a rejection can be told apart from a transport error. */
export const DEADLINE = new TollgateError('TG_ERR_BACKEND_TIMEOUT');
export const CLIENT_GONE = new TollgateError('TG_ERR_CLIENT_ABORTED');

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

export function classifyUpstreamError(err: unknown, signal: AbortSignal | undefined): TollgateError {
  if (signal?.aborted === true) {
    const reason: unknown = signal.reason;
    if (reason === DEADLINE) return new TollgateError('TG_ERR_BACKEND_TIMEOUT', undefined, { cause: err });
    if (reason === CLIENT_GONE) return new TollgateError('TG_ERR_CLIENT_ABORTED', undefined, { cause: err });
  }
  if (err instanceof TollgateError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && TIMEOUT_CODES.has(code)) return new TollgateError('TG_ERR_BACKEND_TIMEOUT', undefined, { cause: err });
  return new TollgateError('TG_ERR_BACKEND_UNAVAILABLE', undefined, { cause: err });
}

/** Short machine-readable cause for logs: `ECONNREFUSED`, `UND_ERR_SOCKET`… */
export function causeCode(err: TollgateError): string {
  if (err.cause === DEADLINE) return 'deadline';
  const c = err.cause as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = c?.code ?? c?.cause?.code;
  return typeof code === 'string' ? code : (c instanceof Error ? c.name : 'unknown');
}
