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
  if (config.debugEndpoint && (path === '/__debug' || path.startsWith('/__debug/'))) return (req, res) => debug(req, res, logger);
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

function debug(req: IncomingMessage, res: ServerResponse, logger: Logger): void {
  logger.debug({ method: req.method, url: req.url, headers: req.headers }, 'debug endpoint called');
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
