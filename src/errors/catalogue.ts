/**
 * The one catalogue of Tollgate's errors. Codes are stable: they appear in logs, in error bodies and in
 * docs/errors.md (kept in sync by test/unit/errors-doc.test.ts), so renaming one is a breaking change.
 */
export interface ErrorSpec {
  /** HTTP status sent to the client when this error ends a request; 0 when it never reaches a client. */
  readonly statusCode: number;
  readonly message: string;
}

export const ERRORS = {
  TG_ERR_CONFIG_READ: { statusCode: 0, message: 'the configuration file cannot be read' },
  TG_ERR_CONFIG_SYNTAX: { statusCode: 0, message: 'the configuration file is not valid JSON or YAML' },
  TG_ERR_CONFIG_INVALID: { statusCode: 0, message: 'the configuration does not pass validation' },
  TG_ERR_CONFIG_UNENFORCED: {
    statusCode: 0,
    message:
      'the configuration has settings that would protect or transform traffic and that Tollgate does not enforce',
  },
  TG_ERR_LISTEN: { statusCode: 0, message: 'a listener could not be opened' },
  TG_ERR_ROUTE_NOT_FOUND: { statusCode: 404, message: 'no endpoint matches this path' },
  TG_ERR_METHOD_NOT_ALLOWED: { statusCode: 405, message: 'the endpoint exists but not for this method' },
  TG_ERR_UNAUTHORIZED: { statusCode: 401, message: 'a valid API key is required' },
  TG_ERR_FORBIDDEN: { statusCode: 403, message: 'the API key does not have a role this endpoint requires' },
  TG_ERR_JWT_INVALID: { statusCode: 401, message: 'the request has no valid JWT' },
  TG_ERR_JWT_FORBIDDEN: { statusCode: 403, message: 'the JWT lacks a role or scope this endpoint requires' },
  TG_ERR_JWK_FETCH: { statusCode: 0, message: 'the JWK set could not be downloaded' },
  TG_ERR_BAD_REQUEST: { statusCode: 400, message: 'the request is malformed' },
  TG_ERR_HEADERS_TOO_LARGE: { statusCode: 431, message: 'the request headers are too large' },
  TG_ERR_HTTP_VERSION: { statusCode: 505, message: 'the HTTP version is not supported' },
  TG_ERR_BODY_TOO_LARGE: { statusCode: 413, message: 'the request body is too large to be sent to several backends' },
  TG_ERR_BODY_SCHEMA: {
    statusCode: 400,
    message: 'the request body is empty, not JSON or does not match the JSON schema',
  },
  TG_ERR_BAD_HOST: { statusCode: 500, message: 'the Host is not one of security/http allowed_hosts' },
  TG_ERR_BACKEND_UNAVAILABLE: { statusCode: 502, message: 'the backend could not be reached or closed the connection' },
  TG_ERR_NO_HEALTHY_TARGET: { statusCode: 503, message: 'every target of the backend is unhealthy' },
  TG_ERR_BACKEND_TIMEOUT: { statusCode: 504, message: 'the backend did not answer within the endpoint timeout' },
  TG_ERR_BACKEND_STATUS: { statusCode: 500, message: 'the backend answered with a status other than 200 or 201' },
  TG_ERR_BACKEND_DECODE: { statusCode: 500, message: 'the backend response could not be decoded' },
  TG_ERR_ALL_BACKENDS_FAILED: { statusCode: 500, message: 'every backend of the endpoint failed' },
  TG_ERR_CLIENT_ABORTED: { statusCode: 499, message: 'the client closed the connection before the response' },
  TG_ERR_INTERNAL: { statusCode: 500, message: 'unexpected internal error' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** An error with a stable code, an HTTP status and the cause that produced it (never lost). */
export class TollgateError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? ERRORS[code].message, options);
    this.name = 'TollgateError';
    this.code = code;
    this.statusCode = ERRORS[code].statusCode;
  }
}

export function isTollgateError(err: unknown): err is TollgateError {
  return err instanceof TollgateError;
}
