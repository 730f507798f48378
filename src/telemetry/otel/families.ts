/**
 * The metric families of krakend-otel, named as its Prometheus exporter renders them (OpenTelemetry Go
 * https://github.com/open-telemetry/opentelemetry-go/blob/exporters/prometheus/v0.47.0/exporters/prometheus/exporter.go):
 * dots and dashes become `_`, unit suffixes appended for mapped units, counters get `_total` at
 * render time. Legacy names by default, OTel semconv 1.27 names with `semantic_convention: "1.27"`.
 */
import type { Family } from '../store/family.js';
import type { MetricStore } from '../store/store.js';

/**
 * Every series of krakend-otel carries its instrumentation scope: the meter is named in
 * https://github.com/krakend/krakend-otel/blob/HEAD/state/state.go, and the Go Prometheus exporter adds
 * the scope labels (see the exporter.go link above).
 */
export const SCOPE_LABELS = [
  ['otel_scope_name', 'io.krakend.krakend-otel'],
  ['otel_scope_version', ''],
] as const;

export interface KrakendFamilies {
  readonly serverDuration: Family<'histogram'>;
  readonly serverSize: Family<'histogram'>;
  readonly proxyDuration: Family<'histogram'>;
  readonly backendDuration: Family<'histogram'>;
  readonly clientDuration: Family<'histogram'>;
  readonly clientResponseSize: Family<'histogram'>;
  /** Legacy: a counter of request Content-Length; 1.27: a histogram. */
  readonly clientRequestSize: Family<'counter'> | Family<'histogram'>;
  readonly started: Family<'counter'>;
  readonly failed: Family<'counter'>;
  readonly canceled: Family<'counter'>;
  readonly timedout: Family<'counter'>;
  readonly noContentLength: Family<'counter'>;
  readonly getConn: Family<'histogram'>;
  readonly dns: Family<'histogram'>;
  readonly tls: Family<'histogram'>;
  readonly readSize: Family<'counter'>;
  readonly readSizeHist: Family<'histogram'>;
  readonly readTime: Family<'counter'>;
  readonly readTimeHist: Family<'histogram'>;
  readonly readErrors: Family<'counter'>;
}

export function registerKrakendFamilies(
  store: MetricStore,
  semconv: 'legacy' | '1.27',
  time: readonly number[],
  size: readonly number[],
  seriesLimit: number,
): KrakendFamilies {
  const c = { constLabels: SCOPE_LABELS, seriesLimit };
  const modern = semconv === '1.27';
  // `otel` is the instrument as krakend-otel creates it ("name|unit"), for OTLP; `name` its Prometheus form.
  const o = (otel: string): { otelName: string; otelUnit: string } => {
    const [otelName, otelUnit] = otel.split('|') as [string, string | undefined];
    return { otelName, otelUnit: otelUnit ?? '' };
  };
  const th = (otel: string, name: string, help: string, unit?: string): Family<'histogram'> =>
    store.histogram('otel', { name, help, buckets: time, ...o(otel), ...(unit === undefined ? {} : { unit }), ...c });
  const sh = (otel: string, name: string, help: string, unit?: string): Family<'histogram'> =>
    store.histogram('otel', { name, help, buckets: size, ...o(otel), ...(unit === undefined ? {} : { unit }), ...c });
  const ctr = (otel: string, name: string, help: string, unit?: string): Family<'counter'> =>
    store.counter('otel', { name, help, ...o(otel), ...(unit === undefined ? {} : { unit }), ...c });
  return {
    serverDuration: modern
      ? th(
          'http.server.request.duration|s',
          'http_server_request_duration_seconds',
          'Duration of HTTP server requests.',
          'seconds',
        )
      : th(
          'http.server.duration',
          'http_server_duration',
          'Time spent serving a request at the gateway listener, in seconds.',
        ),
    serverSize: modern
      ? sh(
          'http.server.response.body.size|By',
          'http_server_response_body_size_bytes',
          'Size of HTTP server response bodies.',
          'bytes',
        )
      : sh(
          'http.server.response.size',
          'http_server_response_size',
          'Bytes written in response bodies at the gateway listener.',
        ),
    proxyDuration: th(
      'krakend.proxy.duration',
      'krakend_proxy_duration',
      'Time spent in the proxy layer of an endpoint (all backends, merging), in seconds.',
    ),
    backendDuration: th(
      'krakend.backend.duration',
      'krakend_backend_duration',
      'Time spent in the backend stage (request and response manipulation included), in seconds.',
    ),
    clientDuration: modern
      ? th(
          'http.client.request.duration|s',
          'http_client_request_duration_seconds',
          'Duration of HTTP client requests.',
          'seconds',
        )
      : th(
          'http.client.duration',
          'http_client_duration',
          'Time from sending a backend request until its response headers arrive, in seconds.',
        ),
    clientResponseSize: modern
      ? sh(
          'http.client.response.body.size|By',
          'http_client_response_body_size_bytes',
          'Size of HTTP client response bodies.',
          'bytes',
        )
      : sh(
          'http.client.response.size',
          'http_client_response_size',
          'Backend response size from its Content-Length header, in bytes.',
        ),
    clientRequestSize: modern
      ? sh(
          'http.client.request.body.size|By',
          'http_client_request_body_size_bytes',
          'Size of HTTP client request bodies.',
          'bytes',
        )
      : ctr(
          'http.client.request.size',
          'http_client_request_size',
          'Bytes sent in backend request bodies (Content-Length).',
        ),
    started: ctr('http.client.request.started.count', 'http_client_request_started_count', 'Backend requests started.'),
    failed: ctr(
      'http.client.request.failed.count',
      'http_client_request_failed_count',
      'Backend requests that failed at the transport level (timeouts included).',
    ),
    canceled: ctr(
      'http.client.request.canceled.count',
      'http_client_request_canceled_count',
      'Backend requests canceled because the client went away.',
    ),
    timedout: ctr(
      'http.client.request.timedout.count',
      'http_client_request_timedout_count',
      'Backend requests that hit the endpoint timeout.',
    ),
    noContentLength: modern
      ? ctr(
          'http.client.response.no-content-length|By',
          'http_client_response_no_content_length_bytes',
          "Client received responses that do not have 'Content-Length' value set",
          'bytes',
        )
      : ctr(
          'http.client.response.no-content-length',
          'http_client_response_no_content_length',
          'Backend responses without a Content-Length header.',
        ),
    getConn: modern
      ? th(
          'http.client.request.get-conn.duration|s',
          'http_client_request_get_conn_duration_seconds',
          'Time waiting for a backend connection from the pool, in seconds.',
          'seconds',
        )
      : th(
          'http.client.request.get-conn.duration',
          'http_client_request_get_conn_duration',
          'Time waiting for a backend connection from the pool, in seconds.',
        ),
    dns: modern
      ? th(
          'http.client.request.dns.duration|s',
          'http_client_request_dns_duration_seconds',
          'DNS resolution time of new backend connections (0 when reused), in seconds.',
          'seconds',
        )
      : th(
          'http.client.request.dns.duration',
          'http_client_request_dns_duration',
          'DNS resolution time of new backend connections (0 when reused), in seconds.',
        ),
    tls: modern
      ? th(
          'http.client.request.tls.duration|s',
          'http_client_request_tls_duration_seconds',
          'TLS handshake time of new backend connections (0 when reused), in seconds.',
          'seconds',
        )
      : th(
          'http.client.request.tls.duration',
          'http_client_request_tls_duration',
          'TLS handshake time of new backend connections (0 when reused), in seconds.',
        ),
    readSize: ctr(
      'http.client.response.read.size|b',
      'http_client_response_read_size',
      'Bytes read from backend response bodies.',
    ),
    readSizeHist: sh(
      'http.client.response.read.size-hist|b',
      'http_client_response_read_size_hist',
      'Bytes read from each backend response body.',
    ),
    readTime: ctr(
      'http.client.response.read.time|s',
      'http_client_response_read_time_seconds',
      'Time spent reading backend response bodies, in seconds.',
      'seconds',
    ),
    readTimeHist: th(
      'http.client.response.read.time-hist|s',
      'http_client_response_read_time_hist_seconds',
      'Time spent reading each backend response body, in seconds.',
      'seconds',
    ),
    readErrors: ctr(
      'http.client.response.read.errors',
      'http_client_response_read_errors',
      'Backend response bodies that ended with an error (counted by Tollgate; krakend-otel never increments it).',
    ),
  };
}
