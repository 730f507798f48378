/**
 * The gateway's own endpoints (KrakenD's reserved paths): `/__health` (or router.health_path),
 * `/__debug/*` and `/__echo/*` when enabled. They answer before routing and never reach a backend.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayConfig } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import { REDACTED, redactorFor, type Redactor } from '../log/redact.js';
import { readBounded } from '../proxy/read-body.js';
import { TollgateError } from '../errors/catalogue.js';
import { sendError, sendJson } from './respond.js';

const ECHO_BODY_LIMIT = 64 * 1024;

export type Builtin = (req: IncomingMessage, res: ServerResponse, path: string, rawQuery: string) => void;

export function builtinFor(config: GatewayConfig, path: string, logger: Logger): Builtin | undefined {
  if (config.healthPath !== undefined && path === config.healthPath) return health;
  if (config.debugEndpoint && (path === '/__debug' || path.startsWith('/__debug/'))) return (req, res, p, q) => debug(req, res, p, q, logger, redactorOf(config));
  if (config.echoEndpoint && (path === '/__echo' || path.startsWith('/__echo/'))) return echo;
  return undefined;
}

function health(req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendError(res, new TollgateError('TG_ERR_METHOD_NOT_ALLOWED'), { allow: 'GET, HEAD' });
    return;
  }
  sendJson(res, 200, { agents: {}, now: new Date().toISOString(), status: 'ok' });
}

/** One redactor per (frozen) configuration, made on the first debug call rather than per request. */
const redactors = new WeakMap<GatewayConfig, Redactor>();

function redactorOf(config: GatewayConfig): Redactor {
  let r = redactors.get(config);
  if (r === undefined) {
    r = redactorFor(config.apiKeys);
    redactors.set(config, r);
  }
  return r;
}

/**
 * Logs the request as KrakenD's debug endpoint does, without its credentials (secrets never reach a
 * log): the values of secret query parameters (the API key identifier among them) and of credential
 * headers (Authorization, Cookie, the API key header…) are REDACTED.
 */
function debug(req: IncomingMessage, res: ServerResponse, path: string, rawQuery: string, logger: Logger, redact: Redactor): void {
  const headers: Record<string, string | string[] | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) headers[name] = redact.isSecretHeader(name) ? REDACTED : value;
  logger.debug({ method: req.method, path, query: redact.query(rawQuery), headers }, 'debug endpoint called');
  req.resume();
  sendJson(res, 200, { message: 'pong' });
}

function echo(req: IncomingMessage, res: ServerResponse, path: string, rawQuery: string): void {
  readBounded(req, ECHO_BODY_LIMIT, 'TG_ERR_BODY_TOO_LARGE').then(
    (body) => {
      const query: Record<string, string[]> = {};
      for (const [k, v] of new URLSearchParams(rawQuery)) (query[k] ??= []).push(v);
      sendJson(res, 200, {
        uri: req.url,
        path,
        query,
        method: req.method,
        headers: req.headers,
        body: body.toString('utf8'),
      });
    },
    (err: unknown) => sendError(res, err instanceof TollgateError ? err : new TollgateError('TG_ERR_BAD_REQUEST', undefined, { cause: err })),
  );
}
