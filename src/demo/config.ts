/** The demo's KrakenD v3 configuration: every core feature on one screen, pointed at the demo backend. */

/** The ports `tollgate demo` listens on, all on 127.0.0.1. */
export interface DemoPorts {
  /** The gateway (KrakenD's default, 8080). */
  readonly gateway: number;
  /** Prometheus `/metrics` of `telemetry/opentelemetry`. */
  readonly metrics: number;
  /** KrakenD's `/__stats` (`telemetry/metrics`, KrakenD's default 8090). */
  readonly stats: number;
  /** The live dashboard (`telemetry/dashboard`, Tollgate's default 8091). */
  readonly dashboard: number;
  /** Kong's status listener with `/metrics` (`telemetry/kong-prometheus`, Kong's documented 8100). */
  readonly kong: number;
}

/**
 * Defaults chosen so the demo runs next to a local monitoring stack: Prometheus 9090, Pushgateway
 * 9091, Alertmanager 9093, node_exporter 9100 and Grafana 3000 are left alone. The metrics port is
 * 9464, the OpenTelemetry Prometheus exporter's default
 * (https://github.com/prometheus/prometheus/wiki/Default-port-allocations); KrakenD's own examples use
 * 9090, which a Prometheus on the same machine already holds.
 */
export const DEMO_DEFAULT_PORTS: DemoPorts = { gateway: 8080, metrics: 9464, stats: 8090, dashboard: 8091, kong: 8100 };

/** The demo's one API key; the `/private` endpoint needs it in the `apikey` header (or `?apikey=`). */
const DEMO_API_KEY = 'demo-key';

const at = (port: number): string => `127.0.0.1:${port}`;

function telemetry(ports: DemoPorts): Record<string, unknown> {
  return {
    'telemetry/opentelemetry': {
      service_name: 'tollgate-demo',
      exporters: {
        prometheus: [
          { name: 'demo', port: ports.metrics, listen_ip: '127.0.0.1', process_metrics: true, go_metrics: true },
        ],
      },
    },
    // A 10 s window instead of KrakenD's 60 s so /__stats percentiles follow a few curls.
    'telemetry/metrics': { collection_time: '10s', listen_address: at(ports.stats) },
    'telemetry/dashboard': { listen_address: at(ports.dashboard) },
    'telemetry/kong-prometheus': {
      listen_address: at(ports.kong),
      status_code_metrics: true,
      latency_metrics: true,
      bandwidth_metrics: true,
      upstream_health_metrics: true,
      per_consumer: true,
    },
    'auth/api-keys': { strategy: 'header', identifier: 'apikey', keys: [{ key: DEMO_API_KEY, consumer: 'demo-user' }] },
  };
}

/** Active probes of the demo backend, in KrakenD's duration strings (Kong's seconds work too). */
const HEALTHCHECK = {
  active: {
    http_path: '/catalog',
    interval: '5s',
    timeout: '1s',
    healthy: { successes: 1 },
    unhealthy: { http_failures: 2, tcp_failures: 1, timeouts: 2 },
  },
};

export function demoConfig(backendUrl: string, ports: DemoPorts): Record<string, unknown> {
  return {
    version: 3,
    name: 'tollgate-demo',
    port: ports.gateway,
    listen_ip: '127.0.0.1',
    timeout: '1s',
    host: [backendUrl],
    debug_endpoint: true,
    echo_endpoint: true,
    extra_config: telemetry(ports),
    endpoints: [
      {
        '@comment': 'Aggregation: two backends merged, one grouped, sensitive fields denied',
        endpoint: '/users/{id}',
        backend: [
          { url_pattern: '/users/{id}', deny: ['password_hash'], extra_config: { 'backend/healthcheck': HEALTHCHECK } },
          { url_pattern: '/users/{id}/orders', group: 'purchases', deny: ['currency'] },
        ],
      },
      {
        endpoint: '/catalog',
        backend: [{ url_pattern: '/catalog', is_collection: true, mapping: { collection: 'items' } }],
      },
      {
        endpoint: '/weather',
        input_query_strings: ['city'],
        backend: [{ url_pattern: '/weather', target: 'forecast' }],
      },
      { endpoint: '/slow', backend: [{ url_pattern: '/slow?ms=1500' }] },
      {
        endpoint: '/partial',
        backend: [
          { url_pattern: '/users/1', allow: ['name'] },
          { url_pattern: '/flaky', group: 'flaky' },
        ],
      },
      {
        endpoint: '/file',
        output_encoding: 'no-op',
        input_query_strings: ['size'],
        backend: [{ url_pattern: '/file' }],
      },
      {
        '@comment': 'Needs the demo API key; the consumer shows up in Kong metrics and on the dashboard',
        endpoint: '/private',
        extra_config: { 'auth/api-keys': {} },
        backend: [{ url_pattern: '/users/2', allow: ['name', 'city'] }],
      },
    ],
  };
}

/** What the demo suggests trying, as curl argument lists (the base URL is prepended to the path). */
export const DEMO_REQUESTS: readonly { readonly path: string; readonly curl: string; readonly note?: string }[] = [
  { path: '/users/1', curl: '-i' },
  { path: '/catalog', curl: '-i' },
  { path: '/weather?city=Paris', curl: '-i' },
  { path: '/partial', curl: '-i', note: 'every third call: X-Krakend-Completed: false' },
  { path: '/slow', curl: '-i', note: 'the 1 s endpoint timeout' },
  // A streamed 1 MiB download: print what came back instead of the bytes.
  {
    path: '/file?size=1048576',
    curl: "-sS -o /dev/null -w '%{http_code} %{size_download} bytes in %{time_total}s\\n'",
    note: 'no-op streaming',
  },
  { path: '/private', curl: '-i', note: '401 without a key' },
  { path: '/private', curl: `-i -H 'apikey: ${DEMO_API_KEY}'` },
  { path: '/__health', curl: '-i' },
];
