/**
 * The `auth/validator` part of a compiled route (compile-routes.ts): the endpoint's validator from
 * the shared JwtValidators, the `{JWT.<claim>}` parameter names appended to the path parameters (so
 * the backends' url_pattern templates index them like any parameter), and the stage that wraps the
 * route's handler. An endpoint without a validator keeps its parameters and handler.
 */
import { Writable } from 'node:stream';
import { ClaimText } from '../auth/jwt-claims.js';
import { JwtValidators } from '../auth/jwt-validators.js';
import { AUTH_VALIDATOR, parseAuthValidator } from '../config/namespaces/auth-validator.js';
import { isObject } from '../config/raw.js';
import type { EndpointConfig } from '../config/types.js';
import { placeholdersOf } from '../config/url-pattern.js';
import { createLogger, type Logger } from '../log/logger.js';
import type { EndpointHandler } from '../proxy/endpoint-handler.js';
import { goJson } from '../proxy/go-json.js';
import { JwtStage } from './stages/auth-jwt.js';

export interface RouteJwt {
  /** The path parameters, then `JWT.<claim>` for each claim the backends' url_pattern names. */
  readonly params: readonly string[];
  readonly wrap: (handler: EndpointHandler) => EndpointHandler;
}

/** What every compiled route shares: the validators (key sources, verified tokens), the logger, the claim printer. */
export interface JwtWiring {
  readonly validators: JwtValidators;
  readonly logger: Logger;
  readonly text: ClaimText;
}

const JWT_PARAM = /^JWT\.(.+)$/;

/** The parts one compilation shares; without a logger nothing is logged (unit tests of the route model). */
export function jwtWiring(userAgent: string, logger?: Logger): JwtWiring {
  const log = logger ?? createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() }));
  return { validators: new JwtValidators({ userAgent, logger: log }), logger: log, text: new ClaimText(goJson) };
}

export function routeJwt(ep: EndpointConfig, params: readonly string[], wiring: JwtWiring): RouteJwt {
  const raw = ep.extraConfig[AUTH_VALIDATOR];
  if (!isObject(raw)) return { params, wrap: (h) => h };
  const validator = wiring.validators.forEndpoint(parseAuthValidator(raw));
  // gin/jose.go:219 reads `{{.JWT.<claim>}}` from every backend's url_pattern (path and query).
  const claims = [
    ...new Set(ep.backends.flatMap((b) => placeholdersOf(b.urlPattern).flatMap((p) => JWT_PARAM.exec(p)?.[1] ?? []))),
  ];
  return {
    params: [...params, ...claims.map((c) => `JWT.${c}`)],
    wrap: (inner) =>
      new JwtStage({
        endpoint: ep.path,
        validator,
        inner,
        paramClaims: claims,
        text: wiring.text,
        logger: wiring.logger,
      }),
  };
}
