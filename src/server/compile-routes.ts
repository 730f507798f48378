/**
 * Compiles the frozen config into the route model once, at start-up (lura's proxy factory): per
 * endpoint its pattern (parsed here, once), its OpenTelemetry layers (resolved here, once), its auth
 * and handler; per backend its targets with their pools and health checker, and the call that sends
 * to it. Every dependency goes in through a constructor; nothing is patched in afterwards.
 */
import type { BackendRoute, CompiledRoute } from '../backends/backend-route.js';
import { resolveTargets, RoundRobin } from '../backends/balancer.js';
import { HealthChecker } from '../backends/health.js';
import type { PoolRegistry } from '../backends/pools.js';
import { paramNames, parseEndpointPattern } from '../config/endpoint-pattern.js';
import type { BackendConfig, EndpointConfig, GatewayConfig } from '../config/types.js';
import { TollgateError } from '../errors/catalogue.js';
import { BackendCall } from '../proxy/backend-call.js';
import type { EndpointHandler, HandlerDeps } from '../proxy/endpoint-handler.js';
import { MergeHandler } from '../proxy/merge-handler.js';
import { NoopHandler } from '../proxy/noop-handler.js';
import { resolveBackendOtel, resolveRouteOtel } from '../routing/route.js';
import type { TraceInjector } from '../telemetry/tracing/trace-injector.js';
import { jwtWiring, routeJwt, type JwtWiring } from './compile-jwt.js';
import { jsonSchemaWrap, type JsonSchemaWrap } from './compile-json-schema.js';

/** A route as the gateway runs it: backends with their calls, and the endpoint's handler. */
export type GatewayRoute = CompiledRoute<BackendCall, EndpointHandler>;

export interface RouteDeps {
  readonly pools: PoolRegistry;
  readonly userAgent: string;
  /** Trace propagation into backend requests; undefined when nothing is traced. */
  readonly injector: TraceInjector | undefined;
  readonly handler: HandlerDeps;
  /** `auth/validator`: shared key sources and the logger; made here when not given. */
  readonly jwt?: JwtWiring;
}

export function compileRoutes(config: GatewayConfig, deps: RouteDeps): GatewayRoute[] {
  const jwt = deps.jwt ?? jwtWiring(deps.userAgent);
  const schemas = jsonSchemaWrap(config, deps.handler.completion);
  return config.endpoints.map((ep) => compileRoute(config, ep, deps, jwt, schemas));
}

function compileRoute(
  config: GatewayConfig,
  ep: EndpointConfig,
  deps: RouteDeps,
  jwtParts: JwtWiring,
  schemas: JsonSchemaWrap,
): GatewayRoute {
  const pattern = parseEndpointPattern(ep.path);
  // Checked when the config was loaded (config/semantics.ts); a config built another way fails here.
  if (typeof pattern === 'string')
    throw new TollgateError('TG_ERR_CONFIG_INVALID', `endpoints[${ep.index}].endpoint: ${pattern}`);
  // auth/validator: the `{JWT.<claim>}` parameters follow the path's, and its stage wraps the handler.
  const jwt = routeJwt(ep, paramNames(pattern), jwtParts);
  const backends = ep.backends.map((b) => compileBackend(config, ep, jwt.params, b, deps));
  const calls = backends.map((b) => b.call);
  const only = calls.length === 1 ? calls[0] : undefined;
  const handler: EndpointHandler =
    ep.outputEncoding === 'no-op' && only !== undefined
      ? new NoopHandler(ep, only, deps.handler)
      : new MergeHandler(ep, calls, deps.handler, config.maxBufferedBody);
  return {
    id: ep.index,
    config: ep,
    method: ep.method,
    pattern,
    otel: resolveRouteOtel(config.otel, ep, pattern),
    auth: ep.auth,
    // validation/json-schema checks the body inside the JWT check (compile-json-schema.ts).
    handler: jwt.wrap(schemas(ep, handler)),
    backends,
  };
}

function compileBackend(
  config: GatewayConfig,
  ep: EndpointConfig,
  params: readonly string[],
  b: BackendConfig,
  deps: RouteDeps,
): BackendRoute<BackendCall> {
  const targets = resolveTargets(b.hosts, deps.pools);
  // One checker per backend (backend/healthcheck), shared by its round-robin and the views.
  const health = b.health === undefined ? undefined : new HealthChecker(b.health, targets);
  const otel = resolveBackendOtel(config.otel, b);
  const call = new BackendCall({
    endpoint: ep,
    params,
    backend: b,
    balancer: new RoundRobin(targets, health),
    userAgent: deps.userAgent,
    injector: deps.injector,
    reportHeaders: otel?.traces.reportHeaders === true,
    redirects: b.followRedirects ? (origin) => deps.pools.forRedirect(origin) : undefined,
  });
  return { index: b.index, config: b, targets, health, otel, call };
}
