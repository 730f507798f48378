/**
 * The JSON Schema of the parts of a KrakenD v3 file Tollgate runs (root, endpoints, backends, TLS and
 * the extra_config namespaces it implements). Types and ranges follow krakend-schema v2.13; keys not
 * listed here are sorted by unsupported.ts: refused when they would protect or transform traffic,
 * otherwise warnings (with a "did you mean" for unknown names), so real KrakenD files load.
 */
import { DURATION_PATTERN } from './duration.js';
import { NAMESPACE_SCHEMAS } from './namespaces.js';

const duration = { type: 'string', pattern: DURATION_PATTERN } as const;
const stringList = { type: 'array', items: { type: 'string' } } as const;
const encodings = [
  'json',
  'safejson',
  'fast-json',
  'json-collection',
  'xml',
  'rss',
  'negotiate',
  'string',
  'no-op',
  'yaml',
];
const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'CONNECT', 'TRACE'];

function extraConfig(scope: 'root' | 'endpoint' | 'backend'): object {
  const properties: Record<string, object> = {};
  for (const ns of NAMESPACE_SCHEMAS) {
    const s = ns.scopes[scope];
    if (s !== undefined) properties[ns.name] = s;
  }
  return { type: 'object', properties };
}

const backend = {
  type: 'object',
  required: ['url_pattern'],
  properties: {
    host: stringList,
    url_pattern: { type: 'string', minLength: 1 },
    method: { type: 'string', enum: methods.concat(methods.map((m) => m.toLowerCase())) },
    encoding: { type: 'string', enum: encodings },
    group: { type: 'string' },
    target: { type: 'string' },
    mapping: { type: 'object', additionalProperties: { type: 'string' } },
    allow: stringList,
    deny: stringList,
    is_collection: { type: 'boolean' },
    input_headers: stringList,
    input_query_strings: stringList,
    disable_host_sanitize: { type: 'boolean' },
    extra_config: extraConfig('backend'),
  },
} as const;

const endpoint = {
  type: 'object',
  required: ['endpoint', 'backend'],
  properties: {
    endpoint: { type: 'string', pattern: '^/[^*?&%]*(/\\*)?$' },
    method: { type: 'string', enum: methods.concat(methods.map((m) => m.toLowerCase())) },
    backend: { type: 'array', minItems: 1, items: backend },
    timeout: duration,
    cache_ttl: duration,
    output_encoding: { type: 'string', enum: encodings },
    input_headers: stringList,
    input_query_strings: stringList,
    extra_config: extraConfig('endpoint'),
  },
} as const;

const tlsVersion = { type: 'string', enum: ['SSL3.0', 'TLS10', 'TLS11', 'TLS12', 'TLS13'] } as const;

const tls = {
  type: 'object',
  properties: {
    disabled: { type: 'boolean' },
    public_key: { type: 'string' },
    private_key: { type: 'string' },
    keys: {
      type: 'array',
      items: {
        type: 'object',
        required: ['public_key', 'private_key'],
        properties: { public_key: { type: 'string' }, private_key: { type: 'string' } },
      },
    },
    min_version: tlsVersion,
    max_version: tlsVersion,
    enable_mtls: { type: 'boolean' },
    ca_certs: stringList,
  },
} as const;

export const CONFIG_SCHEMA = {
  type: 'object',
  required: ['version'],
  properties: {
    version: { const: 3 },
    name: { type: 'string' },
    port: { type: 'integer', minimum: 0, maximum: 65535 },
    listen_ip: { type: 'string' },
    host: stringList,
    timeout: duration,
    cache_ttl: duration,
    output_encoding: { type: 'string', enum: encodings },
    debug_endpoint: { type: 'boolean' },
    echo_endpoint: { type: 'boolean' },
    max_buffered_body: { type: 'integer', minimum: 0 },
    workers: { oneOf: [{ const: 'auto' }, { type: 'integer', minimum: 1, maximum: 256 }] },
    read_header_timeout: duration,
    read_timeout: duration,
    idle_timeout: duration,
    tls,
    endpoints: { type: 'array', items: endpoint },
    extra_config: extraConfig('root'),
  },
} as const;

/** Keys Tollgate reads at each level; anything else there is reported as ignored. */
export const KNOWN_KEYS = {
  root: new Set(Object.keys(CONFIG_SCHEMA.properties)),
  endpoint: new Set(Object.keys(endpoint.properties)),
  backend: new Set(Object.keys(backend.properties)),
  tls: new Set(Object.keys(tls.properties)),
} as const;
