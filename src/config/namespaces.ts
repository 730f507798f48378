/**
 * The extra_config namespaces Tollgate implements, with the schema of each at the scopes where it may
 * appear. Every other namespace is classified in unsupported.ts: refused when it would protect or
 * transform traffic, otherwise a warning.
 */

import { OTEL_BACKEND_SCHEMA, OTEL_ENDPOINT_SCHEMA, OTEL_KEYS, OTEL_ROOT_SCHEMA } from './namespaces/opentelemetry.js';
import { checkOtel } from './namespaces/opentelemetry-checks.js';
import type { RawObject } from './raw.js';
import { INFLUX_SCHEMA } from './namespaces/influx.js';
import { METRICS_SCHEMA } from './namespaces/metrics.js';
import { KONG_ENDPOINT_SCHEMA, KONG_ROOT_SCHEMA, checkKong } from './namespaces/kong.js';
import { API_KEYS_ENDPOINT_SCHEMA, API_KEYS_ROOT_SCHEMA } from './namespaces/api-keys.js';
import {
  AUTH_VALIDATOR,
  AUTH_VALIDATOR_ENDPOINT_SCHEMA,
  AUTH_VALIDATOR_KEYS,
  AUTH_VALIDATOR_ROOT_SCHEMA,
  checkAuthValidator,
} from './namespaces/auth-validator.js';
import { DASHBOARD_SCHEMA } from './namespaces/dashboard.js';
import { SECURITY_CORS, SECURITY_CORS_KEYS, SECURITY_CORS_SCHEMA } from './namespaces/security-cors.js';
import {
  SECURITY_HTTP,
  SECURITY_HTTP_KEYS,
  SECURITY_HTTP_SCHEMA,
  checkHttpSecurity,
} from './namespaces/security-http.js';
import {
  VALIDATION_JSON_SCHEMA,
  VALIDATION_JSON_SCHEMA_SCHEMA,
  checkJsonSchemas,
} from './namespaces/validation-json-schema.js';
import { TOLLGATE_NAMESPACE, TOLLGATE_SCHEMA } from './namespaces/tollgate.js';
import { HEALTHCHECK_SCHEMA } from './namespaces/healthcheck.js';
import {
  BACKEND_HTTP,
  BACKEND_HTTP_KEYS,
  BACKEND_HTTP_LEGACY,
  BACKEND_HTTP_SCHEMA,
} from './namespaces/backend-http.js';
import { ROUTER_KEYS, ROUTER_SCHEMA } from './namespaces/router.js';
import {
  BACKEND_HTTP_CLIENT,
  BACKEND_HTTP_CLIENT_KEYS,
  BACKEND_HTTP_CLIENT_SCHEMA,
} from './namespaces/backend-http-client.js';

import type { ConfigIssue } from './issue.js';

export interface NamespaceSchema {
  readonly name: string;
  readonly scopes: Partial<Record<'root' | 'endpoint' | 'backend', object>>;
  /** Cross-field checks over the whole (schema-valid) file. */
  readonly check?: (root: RawObject) => ConfigIssue[];
}

/** Legacy keys that KrakenD CE renames to the current namespace (krakend-ce main.go). */
export const NAMESPACE_ALIASES: Readonly<Record<string, string>> = {
  'github_com/devopsfaith/krakend-metrics': 'telemetry/metrics',
  'github_com/letgoapp/krakend-influx': 'telemetry/influx',
  'github_com/devopsfaith/krakend-opencensus': 'telemetry/opencensus',
  'github_com/devopsfaith/krakend-gelf': 'telemetry/gelf',
  'github_com/devopsfaith/krakend-gologging': 'telemetry/logging',
  'github_com/devopsfaith/krakend-logstash': 'telemetry/logstash',
  [BACKEND_HTTP_LEGACY]: BACKEND_HTTP,
  // krakend-ce cmd/krakend-ce/main.go aliases.
  'github.com/devopsfaith/krakend-jose/validator': AUTH_VALIDATOR,
  'github_com/devopsfaith/krakend-cors': SECURITY_CORS,
  'github_com/devopsfaith/krakend-httpsecure': SECURITY_HTTP,
  'github.com/devopsfaith/krakend-jsonschema': VALIDATION_JSON_SCHEMA,
};

export const NAMESPACE_SCHEMAS: readonly NamespaceSchema[] = [
  { name: 'router', scopes: { root: ROUTER_SCHEMA } },
  {
    name: 'telemetry/opentelemetry',
    scopes: { root: OTEL_ROOT_SCHEMA, endpoint: OTEL_ENDPOINT_SCHEMA, backend: OTEL_BACKEND_SCHEMA },
    check: checkOtel,
  },
  { name: 'telemetry/metrics', scopes: { root: METRICS_SCHEMA } },
  { name: 'telemetry/influx', scopes: { root: INFLUX_SCHEMA } },
  {
    name: 'telemetry/kong-prometheus',
    scopes: { root: KONG_ROOT_SCHEMA, endpoint: KONG_ENDPOINT_SCHEMA },
    check: checkKong,
  },
  { name: 'auth/api-keys', scopes: { root: API_KEYS_ROOT_SCHEMA, endpoint: API_KEYS_ENDPOINT_SCHEMA } },
  {
    name: AUTH_VALIDATOR,
    scopes: { root: AUTH_VALIDATOR_ROOT_SCHEMA, endpoint: AUTH_VALIDATOR_ENDPOINT_SCHEMA },
    check: checkAuthValidator,
  },
  { name: SECURITY_CORS, scopes: { root: SECURITY_CORS_SCHEMA } },
  { name: SECURITY_HTTP, scopes: { root: SECURITY_HTTP_SCHEMA }, check: checkHttpSecurity },
  // The value is a JSON Schema: its keys are schema keywords, so none is reported as unknown.
  { name: VALIDATION_JSON_SCHEMA, scopes: { endpoint: VALIDATION_JSON_SCHEMA_SCHEMA }, check: checkJsonSchemas },
  { name: 'backend/healthcheck', scopes: { backend: HEALTHCHECK_SCHEMA } },
  { name: BACKEND_HTTP, scopes: { backend: BACKEND_HTTP_SCHEMA } },
  { name: BACKEND_HTTP_CLIENT, scopes: { backend: BACKEND_HTTP_CLIENT_SCHEMA } },
  { name: 'telemetry/dashboard', scopes: { root: DASHBOARD_SCHEMA } },
  { name: TOLLGATE_NAMESPACE, scopes: { root: TOLLGATE_SCHEMA } },
];

/** Keys of a supported namespace that Tollgate reads (others in it are reported as ignored). */
export const NAMESPACE_KEYS: Readonly<Record<string, ReadonlySet<string>>> = {
  router: ROUTER_KEYS,
  'telemetry/opentelemetry': OTEL_KEYS,
  'telemetry/metrics': new Set(Object.keys(METRICS_SCHEMA.properties)),
  'telemetry/influx': new Set(Object.keys(INFLUX_SCHEMA.properties)),
  'backend/healthcheck': new Set(['upstream', 'active', 'passive']),
  [BACKEND_HTTP]: BACKEND_HTTP_KEYS,
  [BACKEND_HTTP_CLIENT]: BACKEND_HTTP_CLIENT_KEYS,
  'telemetry/dashboard': new Set(Object.keys(DASHBOARD_SCHEMA.properties)),
  [TOLLGATE_NAMESPACE]: new Set(Object.keys(TOLLGATE_SCHEMA.properties)),
  [AUTH_VALIDATOR]: AUTH_VALIDATOR_KEYS,
  [SECURITY_CORS]: SECURITY_CORS_KEYS,
  [SECURITY_HTTP]: SECURITY_HTTP_KEYS,
  'auth/api-keys': new Set([
    ...Object.keys(API_KEYS_ROOT_SCHEMA.properties),
    ...Object.keys(API_KEYS_ENDPOINT_SCHEMA.properties),
  ]),
  'telemetry/kong-prometheus': new Set([
    ...Object.keys(KONG_ROOT_SCHEMA.properties),
    ...Object.keys(KONG_ENDPOINT_SCHEMA.properties),
  ]),
};

export function isSupportedNamespace(name: string, scope: 'root' | 'endpoint' | 'backend'): boolean {
  return NAMESPACE_SCHEMAS.some((ns) => ns.name === name && ns.scopes[scope] !== undefined);
}
