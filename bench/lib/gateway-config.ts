// Pieces of the KrakenD v3 configs the benchmarks give Tollgate: the two endpoints most of them
// load, and the telemetry blocks with every flag on, each on its own loopback port.

/** `host` of a backend on a loopback port. */
export const loopbackHost = (port: number): string[] => [`http://127.0.0.1:${port}`];

/** GET /noop (output_encoding no-op: bytes streamed through) and GET /json (decoded and re-encoded), one backend each. */
export function noopAndJsonEndpoints(upstreamPort: number): Record<string, unknown>[] {
  const host = loopbackHost(upstreamPort);
  return [
    {
      endpoint: '/noop',
      method: 'GET',
      output_encoding: 'no-op',
      backend: [{ host, url_pattern: '/payload', encoding: 'no-op' }],
    },
    {
      endpoint: '/json',
      method: 'GET',
      output_encoding: 'json',
      backend: [{ host, url_pattern: '/json', encoding: 'json' }],
    },
  ];
}

/**
 * A gateway with GET /noop and GET /json (noopAndJsonEndpoints), a 3 s timeout and, unless `otel`
 * is undefined, `telemetry/opentelemetry` set to `otel`.
 */
export function noopAndJsonGateway(
  name: string,
  port: number,
  upstreamPort: number,
  otel: Record<string, unknown> | undefined,
): { port: number } & Record<string, unknown> {
  return {
    version: 3,
    name,
    port,
    timeout: '3s',
    ...(otel === undefined ? {} : { extra_config: { 'telemetry/opentelemetry': otel } }),
    endpoints: noopAndJsonEndpoints(upstreamPort),
  };
}

/** A `telemetry/opentelemetry` Prometheus exporter on a loopback port, with or without the process and runtime collectors. */
export function prometheusExporter(
  name: string,
  port: number,
  processMetrics: boolean,
  goMetrics: boolean,
): Record<string, unknown> {
  return { name, port, listen_ip: '127.0.0.1', process_metrics: processMetrics, go_metrics: goMetrics };
}

/** `telemetry/kong-prometheus` with every flag on and its status listener on `port`. */
export function kongAllFlags(port: number): Record<string, unknown> {
  return {
    status_code_metrics: true,
    latency_metrics: true,
    bandwidth_metrics: true,
    upstream_health_metrics: true,
    per_consumer: true,
    listen_address: `127.0.0.1:${port}`,
  };
}

/** A `telemetry/opentelemetry` OTLP/gRPC exporter of metrics and traces, pushing metrics every `periodSeconds`. */
export function otlpGrpcExporter(name: string, port: number, periodSeconds: number): Record<string, unknown> {
  return {
    name,
    host: '127.0.0.1',
    port,
    use_http: false,
    disable_metrics: false,
    disable_traces: false,
    custom_metric_reporting_period: periodSeconds,
  };
}
