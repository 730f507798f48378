/**
 * `tollgate migrate --from kong`: a Kong declarative file → a Tollgate configuration (KrakenD v3
 * shape) that keeps Kong's service, route and consumer names as the labels of the Kong metric
 * families (docs/kong.md), so dashboard 7424 and alerts keep working. Routes become endpoints,
 * services and upstreams their backends and health checks, the prometheus and key-auth plugins the
 * root `telemetry/kong-prometheus` and `auth/api-keys`. Whatever Kong does that Tollgate cannot is noted.
 */
import type { RawObject } from '../config/raw.js';
import { readKong } from './kong-model.js';
import { apiKeySettings, isKeyAuthed, noteUnhandledPlugins, prometheusSettings } from './kong-plugins.js';
import { routeEndpoints } from './kong-routes.js';
import { ServiceBackends } from './kong-services.js';
import { MigrationReport, type MigrationResult } from './report.js';

/** Kong's default proxy port, so clients keep their URLs. */
const KONG_PROXY_PORT = 8000;

export function migrateKong(input: unknown): MigrationResult {
  const r = new MigrationReport();
  // Shape problems are collected, not thrown, so the operator sees every one of them at once.
  const model = readKong(input, r);
  const prometheus = prometheusSettings(model.plugins, r);
  const apiKeys = apiKeySettings(model.plugins, model.consumers, r);
  noteUnhandledPlugins(model.plugins, r);
  const backends = new ServiceBackends(model, r);
  const seen = new Map<string, string>();
  const endpoints = model.routes.flatMap((route) => {
    const service = route.service;
    if (service === undefined) {
      r.note(route.at, 'has no service: not carried over (a Tollgate endpoint always proxies to a backend)');
      return [];
    }
    const backend = backends.get(service);
    if (backend === undefined) return [];
    const ctx = {
      backend,
      serviceLabel: service.name ?? service.host,
      servicePath: service.path,
      keyAuth: apiKeys !== undefined && isKeyAuthed(model.plugins, route),
      seen,
    };
    return routeEndpoints(route, ctx, r);
  });
  if (endpoints.length === 0) r.note([], 'no route could be carried over: the configuration has no endpoints');
  const extra: RawObject = {};
  if (prometheus !== undefined) extra['telemetry/kong-prometheus'] = prometheus;
  if (apiKeys !== undefined) extra['auth/api-keys'] = apiKeys;
  return r.finish({
    version: 3,
    port: KONG_PROXY_PORT,
    ...(Object.keys(extra).length > 0 ? { extra_config: extra } : {}),
    endpoints,
  });
}
