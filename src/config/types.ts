import type { BackendLayer, EndpointOtel, OtelSettings } from './namespaces/opentelemetry.js';
import type { StatsSettings } from './namespaces/metrics.js';
import type { InfluxSettings } from './namespaces/influx.js';
import type { KongEndpoint, KongSettings } from './namespaces/kong.js';
import type { DashboardSettings } from './namespaces/dashboard.js';
import type { ApiKeySettings, EndpointAuth } from './namespaces/api-keys.js';
import type { HealthSettings } from './namespaces/healthcheck.js';
import type { BackendErrorReturn } from './namespaces/backend-http.js';
import type { RouterSettings } from './namespaces/router.js';

/**
 * The normalised, frozen configuration the gateway runs on. Built once from a KrakenD v3 file by
 * `normalizeConfig`; nothing on the request path reads the raw file.
 */

export type Encoding = 'json' | 'safejson' | 'string' | 'no-op' | 'json-collection' | 'yaml';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';

/** `*` forwards everything; otherwise a set of names (header names lower-cased). */
export type ForwardRule = '*' | ReadonlySet<string>;

export interface TlsKeyPair {
  readonly publicKey: string;
  readonly privateKey: string;
}

export interface TlsConfig {
  readonly keys: readonly TlsKeyPair[];
  readonly minVersion: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  readonly maxVersion: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  readonly enableMtls: boolean;
  readonly caCerts: readonly string[];
}

export interface BackendConfig {
  /** Position in the endpoint's `backend` array: the stable identity used by telemetry. */
  readonly index: number;
  readonly hosts: readonly string[];
  readonly urlPattern: string;
  readonly method: string;
  readonly encoding: Encoding;
  readonly group: string | undefined;
  readonly target: string | undefined;
  readonly mapping: Readonly<Record<string, string>>;
  readonly allow: readonly string[];
  readonly deny: readonly string[];
  readonly isCollection: boolean;
  /** Narrows the endpoint's rule when set (backend-level `input_headers`). */
  readonly inputHeaders: ForwardRule | undefined;
  readonly inputQueryStrings: ForwardRule | undefined;
  /** `backend/healthcheck`: health of the backend's hosts. */
  readonly health: HealthSettings | undefined;
  /** `backend/http`: a failed status as the client's status, or as `error_<name>` in the body. */
  readonly errorReturn: BackendErrorReturn;
  /** Go's client follows up to 10 redirects; `backend/http/client.no_redirect` turns it off. */
  readonly followRedirects: boolean;
  /** Backend-level `telemetry/opentelemetry` override (replaces the service's backend layer). */
  readonly otel: BackendLayer | undefined;
  readonly extraConfig: Readonly<Record<string, unknown>>;
}

export interface EndpointConfig {
  readonly index: number;
  /** The path exactly as configured, e.g. `/users/{id}`. */
  readonly path: string;
  readonly method: string;
  readonly timeoutMs: number;
  readonly outputEncoding: Encoding;
  readonly cacheTtlSeconds: number | undefined;
  readonly inputHeaders: ForwardRule;
  readonly inputQueryStrings: ForwardRule;
  readonly backends: readonly BackendConfig[];
  /** Endpoint-level `telemetry/opentelemetry` overrides. */
  readonly otel: EndpointOtel | undefined;
  /** Endpoint-level `telemetry/kong-prometheus` (route and service label values). */
  readonly kong: KongEndpoint | undefined;
  /** `auth/api-keys` at the endpoint: a key is required (with one of these roles when listed). */
  readonly auth: EndpointAuth | undefined;
  readonly extraConfig: Readonly<Record<string, unknown>>;
}

/** Milliseconds; 0 = no limit. */
export interface ServerTimeouts {
  /** From the accept (or the end of the previous response) to the end of the request headers. */
  readonly readHeaderMs: number;
  /** From the accept to the end of the whole request, body included. */
  readonly readMs: number;
  /** A keep-alive connection waiting for its next request. */
  readonly idleMs: number;
}

export interface GatewayConfig {
  readonly version: 3;
  readonly name: string;
  readonly port: number;
  /** Empty string: every interface, as KrakenD. */
  readonly listenIp: string;
  readonly timeoutMs: number;
  readonly outputEncoding: Encoding;
  readonly debugEndpoint: boolean;
  readonly echoEndpoint: boolean;
  readonly healthPath: string | undefined;
  /** `router` redirects and the `tollgate.json_router_errors` opt-in: what a request no route takes gets. */
  readonly router: RouterSettings;
  readonly tls: TlsConfig | undefined;
  /** Largest request body buffered to send to several backends (bytes). */
  readonly maxBufferedBody: number;
  /** Worker processes (root `workers`, a Tollgate extension): resolved from `"auto"` at load time. */
  readonly workers: number;
  /** Data listener timeouts (root `read_header_timeout`, `read_timeout`, `idle_timeout`), resolved: see normalize.ts. */
  readonly serverTimeouts: ServerTimeouts;
  readonly endpoints: readonly EndpointConfig[];
  /** `telemetry/opentelemetry`, when configured. */
  readonly otel: OtelSettings | undefined;
  /** `telemetry/metrics` (extended metrics, /__stats), when configured or needed by Influx. */
  readonly stats: StatsSettings | undefined;
  readonly influx: InfluxSettings | undefined;
  /** `telemetry/kong-prometheus`, when configured. */
  readonly kong: KongSettings | undefined;
  /** `telemetry/dashboard`, when configured. */
  readonly dashboard: DashboardSettings | undefined;
  readonly apiKeys: ApiKeySettings | undefined;
  readonly extraConfig: Readonly<Record<string, unknown>>;
}

export interface LoadedConfig {
  readonly config: GatewayConfig;
  /**
   * Human-readable warnings: settings running unenforced by the operator's choice (one each), ignored
   * descriptive settings, unknown names. Never fatal.
   */
  readonly warnings: readonly string[];
  readonly file: string;
}
