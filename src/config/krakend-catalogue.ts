/**
 * Every KrakenD CE/EE setting Tollgate does not implement, classified by what dropping it would do.
 *
 * - `enforcing`: the setting restricts, validates, authenticates or transforms traffic that a client or a
 *   backend sees. Running without it would open or change an endpoint, so `tollgate run` refuses the
 *   file unless the operator opts out (`--allow-unenforced`).
 * - `descriptive`: the setting documents, tunes or reports (logs, telemetry Tollgate has no exporter
 *   for, connection tuning). Dropping it is a warning.
 *
 * `would` completes "KrakenD would …". Names follow krakend-schema v2.13
 * (https://github.com/krakend/krakend-schema/tree/main/v2.13).
 */

export interface KnownSetting {
  readonly enforcing: boolean;
  readonly would: string;
}

const enforce = (would: string): KnownSetting => ({ enforcing: true, would });
const describe = (would: string): KnownSetting => ({ enforcing: false, would });

const PLAIN_HTTP = 'Tollgate would send a plain HTTP request to the host instead';

/** extra_config namespaces, at whatever level they appear. */
export const KRAKEND_NAMESPACES: Readonly<Record<string, KnownSetting>> = {
  'ai/llm': enforce(`turn the request into a call to an LLM vendor and shape its answer; ${PLAIN_HTTP}`),
  'ai/mcp': enforce('serve the endpoint as an MCP server and call tools on the backends'),
  'auth/basic': enforce('require HTTP Basic credentials and reject requests without valid ones'),
  // Implemented (config/namespaces/auth-validator.ts): kept so a typo of it, or its legacy name, is refused like it.
  'auth/validator': enforce(
    'validate the JWT of every request (signature, issuer, audience, roles) and reject the others',
  ),
  'auth/signer': enforce('sign the backend answer into a JWT before returning it'),
  'auth/revoker': enforce('reject JWTs that were revoked'),
  'auth/aws-sigv4': enforce('sign backend requests with AWS SigV4'),
  'auth/gcp': enforce('add a Google Cloud identity token to backend requests'),
  'auth/ntlm': enforce('authenticate backend requests with NTLM'),
  'auth/client-credentials': enforce('add an OAuth2 client-credentials token to backend requests'),
  'backend/amqp/consumer': enforce(`consume messages from an AMQP queue; ${PLAIN_HTTP}`),
  'backend/amqp/producer': enforce(`publish the request to an AMQP queue; ${PLAIN_HTTP}`),
  'backend/conditional': enforce('call this backend only when its condition holds'),
  'backend/graphql': enforce(`turn the request into a GraphQL query; ${PLAIN_HTTP}`),
  'backend/grpc': enforce(`call the backend over gRPC; ${PLAIN_HTTP}`),
  'backend/lambda': enforce(`invoke an AWS Lambda function; ${PLAIN_HTTP}`),
  'backend/pubsub/publisher': enforce(`publish the request to a pub/sub topic; ${PLAIN_HTTP}`),
  'backend/pubsub/publisher/kafka': enforce(`publish the request to Kafka; ${PLAIN_HTTP}`),
  'backend/pubsub/subscriber': enforce(`read messages from a pub/sub subscription; ${PLAIN_HTTP}`),
  'backend/pubsub/subscriber/kafka': enforce(`read messages from Kafka; ${PLAIN_HTTP}`),
  'backend/soap': enforce(`turn the request into a SOAP call; ${PLAIN_HTTP}`),
  'backend/static-filesystem': enforce(`answer from files on disk; ${PLAIN_HTTP}`),
  'governance/processors': enforce('count usage against quotas and reject requests over them'),
  'governance/quota': enforce('reject requests over the quota'),
  'modifier/body-generator': enforce('build the backend request body from a template'),
  'modifier/jmespath': enforce('reshape the response with a JMESPath query'),
  'modifier/lua-backend': enforce('run Lua scripts on the backend request and response'),
  'modifier/lua-endpoint': enforce('run Lua scripts on the incoming request'),
  'modifier/lua-proxy': enforce('run Lua scripts on the request and response'),
  'modifier/martian': enforce('modify the backend request and response (headers, query, body)'),
  'modifier/request-body-extractor': enforce('promote request body fields to headers or query strings'),
  'modifier/request-body-extractor/early': enforce('promote request body fields to headers or query strings'),
  'modifier/request-body-generator': enforce('build the request body from a template'),
  'modifier/response-body': enforce('rewrite values in the response body'),
  'modifier/response-body-generator': enforce('build the response body from a template'),
  'modifier/response-headers': enforce('add, replace or remove response headers'),
  'plugin/http-client': enforce('run a Go plugin on the backend call'),
  'plugin/http-server': enforce('run Go plugins (IP filters, JWK aggregation, rewrites…) in front of every request'),
  'plugin/middleware': enforce('run a Go middleware plugin on the request'),
  'plugin/req-resp-modifier': enforce('run Go plugins that modify the request and response'),
  proxy: enforce(
    'change how the backends are called and merged (sequential, static data, flatmap, shadow, payload limit)',
  ),
  'qos/circuit-breaker': enforce('stop calling the backend after consecutive errors'),
  'qos/circuit-breaker/http': enforce('stop calling the backend after error statuses'),
  'qos/ratelimit/proxy': enforce('limit the rate of requests sent to the backend'),
  'qos/ratelimit/router': enforce('limit the rate of requests to the endpoint and answer 429 over it'),
  'qos/ratelimit/router/redis': enforce('limit the rate of requests to the endpoint across a cluster'),
  'qos/ratelimit/service': enforce('limit the rate of requests to the whole gateway'),
  'qos/ratelimit/service/redis': enforce('limit the rate of requests to the gateway across a cluster'),
  'qos/ratelimit/tiered': enforce('limit the rate of requests per client tier'),
  'security/bot-detector': enforce('reject requests from bots by User-Agent'),
  // Implemented (config/namespaces/security-cors.ts, security-http.ts): kept so a typo of them is refused like them.
  'security/cors': enforce('answer CORS preflights and restrict which origins browsers may call from'),
  'security/http': enforce('enforce allowed hosts, HSTS, frame and content-type protections'),
  'security/policies': enforce('evaluate security policies and reject requests that fail them'),
  'server/virtualhost': enforce('serve different endpoints depending on the Host header'),
  'validation/cel': enforce('reject requests or responses that fail CEL expressions'),
  // Implemented (config/namespaces/validation-json-schema.ts): kept so a typo of it is refused like it.
  'validation/json-schema': enforce('reject request bodies that do not match the JSON Schema'),
  'validation/response-json-schema': enforce('reject backend responses that do not match the JSON Schema'),
  workflow: enforce('run a nested workflow of backend calls'),
  'documentation/openapi': describe('export OpenAPI documentation'),
  'documentation/postman': describe('export a Postman collection'),
  grpc: describe('serve gRPC (Tollgate serves HTTP only)'),
  'qos/http-cache': describe('cache backend responses in memory (Tollgate calls the backend every time)'),
  redis: describe('declare Redis connection pools'),
  'server/static-filesystem': describe('serve static files'),
  'telemetry/backend_log': describe('log backend calls'),
  'telemetry/gelf': describe('send logs to Graylog'),
  'telemetry/logging': describe('format and route its logs'),
  'telemetry/logstash': describe('log in Logstash format'),
  'telemetry/moesif': describe('send API analytics to Moesif'),
  'telemetry/newrelic': describe('send metrics and traces to New Relic'),
  'telemetry/opencensus': describe(
    'export OpenCensus metrics and traces (`tollgate migrate --from opencensus` converts them)',
  ),
  'telemetry/opentelemetry-security': describe('authenticate its OpenTelemetry exports'),
  websocket: describe('proxy WebSocket connections (Tollgate proxies plain HTTP only)'),
};

/**
 * Names of KrakenD v1 components (before the v2 namespace rename). KrakenD v2+ ignores them too, but a
 * file that still carries them meant to protect traffic: refused like their current names.
 */
export const LEGACY_ENFORCING: readonly (readonly [RegExp, string])[] = [
  [/krakend-jose\/validator/, 'auth/validator'],
  [/krakend-jose\/signer/, 'auth/signer'],
  [/krakend-ratelimit/, 'qos/ratelimit/router'],
  [/krakend-cors/, 'security/cors'],
  [/krakend-httpsecure/, 'security/http'],
  [/krakend-botdetector/, 'security/bot-detector'],
  [/krakend-lua/, 'modifier/lua-proxy'],
  [/krakend-martian/, 'modifier/martian'],
  [/krakend-cel/, 'validation/cel'],
  [/krakend-jsonschema/, 'validation/json-schema'],
  [/krakend-circuitbreaker/, 'qos/circuit-breaker'],
  [/krakend-jmespath/, 'modifier/jmespath'],
  [/krakend-flexibleconfig|lura\/proxy/, 'proxy'],
];

const tuning = describe('tune its HTTP server or client (Tollgate uses its own defaults)');

/** Plain keys KrakenD reads at each level that Tollgate does not. */
export const KRAKEND_KEYS: Readonly<
  Record<'root' | 'endpoint' | 'backend' | 'tls', Readonly<Record<string, KnownSetting>>>
> = {
  root: {
    async_agent: describe('run async agents that consume queues'),
    client_tls: describe('use these TLS settings towards backends (Tollgate verifies backends against the system CAs)'),
    plugin: describe('load Go plugins (the plugin/* namespaces that use them are refused on their own)'),
    sequential_start: describe('start async agents one after another'),
    disable_rest: describe('serve no REST endpoints'),
    dns_cache_ttl: describe('cache DNS answers for service discovery'),
    use_h2c: describe('speak HTTP/2 without TLS'),
    ...Object.fromEntries(
      [
        'dialer_fallback_delay',
        'dialer_keep_alive',
        'dialer_timeout',
        'disable_compression',
        'disable_keep_alives',
        'expect_continue_timeout',
        'idle_connection_timeout',
        'idle_timeout',
        'max_header_bytes',
        'max_idle_connections',
        'max_idle_connections_per_host',
        'max_shutdown_wait_time',
        'read_header_timeout',
        'read_timeout',
        'response_header_timeout',
        'write_timeout',
      ].map((k) => [k, tuning]),
    ),
  },
  endpoint: {
    concurrent_calls: describe('send several identical requests to each backend and keep the first answer'),
  },
  backend: {
    sd: describe('resolve the hosts by DNS SRV service discovery (Tollgate calls the hosts as listed)'),
    sd_scheme: describe('use this scheme for hosts found by service discovery'),
  },
  tls: {
    cipher_suites: enforce('accept only these TLS cipher suites'),
    curve_preferences: enforce('accept only these TLS key-exchange curves'),
    disable_system_ca_pool: describe('trust only ca_certs for client certificates (Tollgate already does)'),
  },
};

/** Keys of the namespaces Tollgate implements that it does not read, with what KrakenD would do. */
export const KRAKEND_NAMESPACE_KEYS: Readonly<Record<string, Readonly<Record<string, KnownSetting>>>> = {
  // Only `no_redirect` is implemented (config/namespaces/backend-http-client.ts).
  'backend/http/client': {
    proxy_address: enforce('call the backend through this forward proxy'),
    client_tls: enforce('call the backend with these TLS settings (client certificates, CAs, versions)'),
    send_body_on_redirect: enforce('send the request body again when following a 307 or 308 redirect'),
    enable_redirect_post: enforce('send the request body again when following a 307 or 308 redirect'),
  },
  router: {
    max_payload: enforce('reject request bodies larger than this'),
    hide_version_header: describe('hide its version header (Tollgate sends none)'),
    return_error_msg: describe('return error messages to clients'),
    error_body: describe('answer 404 and 405 with custom bodies'),
    ...Object.fromEntries(
      [
        'app_engine',
        'auto_options',
        'decompress_gzip',
        'disable_access_log',
        'disable_gzip',
        'disable_handle_method_not_allowed',
        'disable_path_decoding',
        'forwarded_by_client_ip',
        'logger_skip_paths',
        'max_multipart_memory',
        'remote_ip_headers',
        'remove_extra_slash',
        'trusted_proxies',
      ].map((k) => [k, tuning]),
    ),
  },
  // Everything else is implemented (config/namespaces/auth-validator.ts).
  'auth/validator': {
    cipher_suites: enforce('accept only these TLS cipher suites from the JWK server'),
    secret_url: enforce('decrypt the jwk_local_path file with a key from a secrets provider'),
    cypher_key: enforce('decrypt the jwk_local_path file with this key'),
  },
  // Every other key is implemented (config/namespaces/security-http.ts).
  'security/http': {
    hpkp_public_key: describe('ignore it too (unrolled/secure no longer sends Public-Key-Pins)'),
  },
  'auth/api-keys': {
    client_max_rate: enforce('limit the rate of requests of each API key'),
    hash: enforce('compare API keys by their hash (Tollgate would accept the stored hash itself as the key)'),
    salt: enforce('salt the API key hashes'),
    propagate_role: describe('send the role of the key to the backend in a header'),
  },
  'telemetry/opentelemetry': {
    exporters_override: describe("send this endpoint's telemetry to other exporters"),
  },
};
