/**
 * The gateway's own endpoints (KrakenD's reserved paths): `/__health` (or router.health_path),
 * `/__debug/*` and `/__echo/*` when enabled. They answer before routing and never reach a backend.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayConfig } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import { readBounded } from '../proxy/read-body.js';
import { TollgateError } from '../errors/catalogue.js';
import { sendError, sendJson } from './respond.js';

const ECHO_BODY_LIMIT = 64 * 1024;

export type Builtin = (req: IncomingMessage, res: ServerResponse, path: string, rawQuery: string) => void;

export function builtinFor(config: GatewayConfig, path: string, logger: Logger): Builtin | undefined {
  if (config.healthPath !== undefined && path === config.healthPath) return health;
  if (config.debugEndpoint && (path === '/__debug' || path.startsWith('/__debug/'))) return (req, res, p) => debug(req, res, p, logger, config.apiKeys?.identifier.toLowerCase());
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

/** Request headers that carry credentials: logged by name only. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie']);

/**
 * Logs the request without its credentials (STYLE: secrets never reach a log): no query string (an
 * API key may travel there), and the values of credential headers and of the API key header replaced.
 */
function debug(req: IncomingMessage, res: ServerResponse, path: string, logger: Logger, keyHeader: string | undefined): void {
  const headers: Record<string, string | string[] | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) headers[name] = CREDENTIAL_HEADERS.has(name) || name === keyHeader ? '[redacted]' : value;
  logger.debug({ method: req.method, path, headers }, 'debug endpoint called');
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
