/**
 * Stage: the gateway's own endpoints (KrakenD's reserved paths): `/__health` (or router.health_path),
 * `/__debug/*` and `/__echo/*` when enabled. They answer before routing and never reach a backend.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayConfig } from '../../config/types.js';
import { authValidatorSecretHeaders } from '../../config/namespaces/auth-validator.js';
import type { Logger } from '../../log/logger.js';
import { REDACTED, redactorFor, type Redactor } from '../../log/redact.js';
import { readBounded } from '../../proxy/read-body.js';
import { TollgateError } from '../../errors/catalogue.js';
import { sendError, sendJson, sendText } from '../../http/respond.js';

const ECHO_BODY_LIMIT = 64 * 1024;

export class Builtins {
  readonly #healthPath: string | undefined;
  readonly #debug: boolean;
  readonly #echo: boolean;
  /** `tollgate.json_router_errors`: the health endpoint's 405 as JSON, as the router's (unmatched.ts). */
  readonly #jsonErrors: boolean;
  readonly #logger: Logger;
  /** Secret query parameters and headers of this config, decided once. */
  readonly #redact: Redactor;

  constructor(config: GatewayConfig, logger: Logger) {
    this.#healthPath = config.healthPath;
    this.#jsonErrors = config.router.jsonErrors;
    this.#debug = config.debugEndpoint;
    this.#echo = config.echoEndpoint;
    this.#logger = logger;
    this.#redact = redactorFor(config.apiKeys, authValidatorSecretHeaders(config.endpoints));
  }

  /** Answers the request when `path` is a built-in endpoint (returns true); otherwise leaves it to routing. */
  answer(req: IncomingMessage, res: ServerResponse, path: string, rawQuery: string): boolean {
    if (!path.startsWith('/__') && path !== this.#healthPath) return false;
    if (this.#healthPath !== undefined && path === this.#healthPath) health(req, res, this.#jsonErrors);
    else if (this.#debug && (path === '/__debug' || path.startsWith('/__debug/')))
      debug(req, res, path, rawQuery, this.#logger, this.#redact);
    else if (this.#echo && (path === '/__echo' || path.startsWith('/__echo/'))) echo(req, res, path, rawQuery);
    else return false;
    return true;
  }
}

/** KrakenD registers the health endpoint as a GET route, so other methods get gin's 405 (unmatched.ts). */
function health(req: IncomingMessage, res: ServerResponse, jsonErrors: boolean): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const allow = { allow: 'GET, HEAD' };
    if (jsonErrors) sendError(res, new TollgateError('TG_ERR_METHOD_NOT_ALLOWED'), allow);
    else sendText(res, 405, '405 method not allowed', allow);
    return;
  }
  sendJson(res, 200, { agents: {}, now: new Date().toISOString(), status: 'ok' });
}

/**
 * Logs the request as KrakenD's debug endpoint does, without its credentials (secrets never reach a
 * log): the values of secret query parameters (the API key identifier among them) and of credential
 * headers (Authorization, Cookie, the API key header…) are REDACTED.
 */
function debug(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  rawQuery: string,
  logger: Logger,
  redact: Redactor,
): void {
  const headers: Record<string, string | string[] | undefined> = {};
  for (const [name, value] of Object.entries(req.headers))
    headers[name] = redact.isSecretHeader(name) ? REDACTED : value;
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
    (err: unknown) =>
      sendError(
        res,
        err instanceof TollgateError ? err : new TollgateError('TG_ERR_BAD_REQUEST', undefined, { cause: err }),
      ),
  );
}
