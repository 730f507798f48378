/**
 * The compiled routes of a config as telemetry sees them (targets and layers; no pools, calls or
 * handlers), for unit tests and benches that build views without a gateway. Targets are made from
 * the backend hosts without pools (`dispatcher` is never read by a view).
 */
import type { CompiledRoute } from '../../src/backends/backend-route.js';
import type { Target } from '../../src/backends/balancer.js';
import { parseEndpointPattern, type EndpointPattern } from '../../src/config/endpoint-pattern.js';
import type { GatewayConfig } from '../../src/config/types.js';
import { resolveBackendOtel, resolveRouteOtel } from '../../src/routing/route.js';

export function fakeTarget(host: string): Target {
  const u = new URL(host);
  const port = u.port === '' ? (u.protocol === 'https:' ? 443 : 80) : Number(u.port);
  return { origin: u.origin, basePath: '', dispatcher: undefined as never, hostname: u.hostname, port };
}

export function observedRoutes(config: GatewayConfig): CompiledRoute[] {
  return config.endpoints.map((ep) => {
    const pattern = parseEndpointPattern(ep.path) as EndpointPattern;
    const backends = ep.backends.map((b) => ({
      index: b.index,
      config: b,
      targets: b.hosts.map(fakeTarget),
      health: undefined,
      otel: resolveBackendOtel(config.otel, b),
      call: undefined,
    }));
    return {
      id: ep.index,
      config: ep,
      method: ep.method,
      pattern,
      otel: resolveRouteOtel(config.otel, ep, pattern),
      auth: ep.auth,
      handler: undefined,
      backends,
    };
  });
}
