/** The demo's KrakenD v3 configuration: every core feature on one screen, pointed at the demo backend. */
export function demoConfig(backendUrl: string, port: number, metricsPort: number): Record<string, unknown> {
  return {
    version: 3,
    name: 'tollgate-demo',
    port,
    listen_ip: '127.0.0.1',
    timeout: '1s',
    host: [backendUrl],
    debug_endpoint: true,
    echo_endpoint: true,
    extra_config: {
      'telemetry/opentelemetry': {
        service_name: 'tollgate-demo',
        exporters: { prometheus: [{ name: 'demo', port: metricsPort, listen_ip: '127.0.0.1', process_metrics: true, go_metrics: true }] },
      },
    },
    endpoints: [
      {
        '@comment': 'Aggregation: two backends merged, one grouped, sensitive fields denied',
        endpoint: '/users/{id}',
        backend: [
          { url_pattern: '/users/{id}', deny: ['password_hash'] },
          { url_pattern: '/users/{id}/orders', group: 'purchases', deny: ['currency'] },
        ],
      },
      { endpoint: '/catalog', backend: [{ url_pattern: '/catalog', is_collection: true, mapping: { collection: 'items' } }] },
      {
        endpoint: '/weather',
        input_query_strings: ['city'],
        backend: [{ url_pattern: '/weather', target: 'forecast' }],
      },
      { endpoint: '/slow', backend: [{ url_pattern: '/slow?ms=1500' }] },
      {
        endpoint: '/partial',
        backend: [{ url_pattern: '/users/1', allow: ['name'] }, { url_pattern: '/flaky', group: 'flaky' }],
      },
      { endpoint: '/file', output_encoding: 'no-op', input_query_strings: ['size'], backend: [{ url_pattern: '/file' }] },
    ],
  };
}

export const DEMO_PATHS = ['/users/1', '/catalog', '/weather?city=Paris', '/partial', '/slow', '/file?size=1048576', '/__health'];
