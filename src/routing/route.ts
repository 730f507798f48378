/**
 * The compiled route model: one Route per endpoint, built once from the frozen config at start-up
 * (server/compile-routes.ts) and read by everything downstream — the router returns it, the request
 * stages run its auth and handler, the telemetry views, tracer and dashboard bind their cells from
 * the list of routes. The endpoint pattern is parsed once and the OpenTelemetry layers in force are
 * resolved once, here, instead of in every consumer.
 *
 * Generic over what it carries for the layers above routing/ (backends' targets and health, proxy's
 * handler and calls), so routing/ imports nothing from them: see backends/backend-route.ts.
 */
import type { EndpointPattern } from '../config/endpoint-pattern.js';
import type { EndpointAuth } from '../config/namespaces/api-keys.js';
import type { Attributes, BackendLayer, OtelSettings, ProxyLayer } from '../config/namespaces/opentelemetry.js';
import type { BackendConfig, EndpointConfig } from '../config/types.js';

/** The OpenTelemetry layers of one endpoint: the endpoint's overrides applied over the service's. */
export interface RouteOtel {
  /** In `skip_paths` (as written or in KrakenD's `/:param` form): no metrics and no spans. */
  readonly skipped: boolean;
  /** The endpoint's `proxy` layer if it has one, else the service's. */
  readonly proxy: ProxyLayer;
  /** Global-layer static attributes: the service's, then the endpoint's. */
  readonly globalMetricsStatic: Attributes;
  readonly globalTracesStatic: Attributes;
}

export interface Route<Backend = unknown, Handler = unknown> {
  /** Position in `endpoints`: the record's `route`, the index every view binds by. */
  readonly id: number;
  readonly config: EndpointConfig;
  readonly method: string;
  readonly pattern: EndpointPattern;
  /** Undefined without `telemetry/opentelemetry`. */
  readonly otel: RouteOtel | undefined;
  /** `auth/api-keys` at the endpoint: a key is required (with one of these roles when listed). */
  readonly auth: EndpointAuth | undefined;
  readonly handler: Handler;
  /** In `backend` order (a record's `backends[i]` belongs to `backends[i]`). */
  readonly backends: readonly Backend[];
}

export function resolveRouteOtel(
  otel: OtelSettings | undefined,
  endpoint: EndpointConfig,
  pattern: EndpointPattern,
): RouteOtel | undefined {
  if (otel === undefined) return undefined;
  const own = endpoint.otel;
  return {
    skipped: otel.skipPaths.has(endpoint.path) || otel.skipPaths.has(pattern.normalized),
    proxy: own?.proxy ?? otel.proxy,
    globalMetricsStatic: [...otel.global.metricsStatic, ...(own?.globalMetricsStatic ?? [])],
    globalTracesStatic: [...otel.global.tracesStatic, ...(own?.globalTracesStatic ?? [])],
  };
}

/** The backend layer in force for one backend: its own `backend` override, else the service's. */
export function resolveBackendOtel(otel: OtelSettings | undefined, backend: BackendConfig): BackendLayer | undefined {
  return otel === undefined ? undefined : (backend.otel ?? otel.backend);
}
