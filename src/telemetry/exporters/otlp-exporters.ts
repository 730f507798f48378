/**
 * The OTLP exporters of one `exporters.otlp[]` entry, gRPC or HTTP/protobuf (to `/v1/traces` and
 * `/v1/metrics`), with the configured headers (auth tokens) and TLS trust (`ca_cert`, a Tollgate
 * extension): metrics through the official OpenTelemetry exporter classes, spans through Tollgate's
 * own transports.
 */
import { readFileSync } from 'node:fs';
import { credentials, Metadata } from '@grpc/grpc-js';
import { AggregationTemporalityPreference, OTLPMetricExporterBase } from '@opentelemetry/exporter-metrics-otlp-http';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { convertLegacyOtlpGrpcOptions, createOtlpGrpcExportDelegate } from '@opentelemetry/otlp-grpc-exporter-base';
import { MetricsExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import { ExemplarMetricsSerializer } from './otlp-metrics-serializer.js';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { Attributes } from '@opentelemetry/api';
import type { EncodedSpanExporter } from '../tracing/span-batcher.js';
import { encodeAttributes } from '../tracing/span-encoder.js';
import { VERSION } from '../../version.js';
import { GrpcUnaryClient } from './grpc-unary.js';
import { OtlpGrpcSpanExporter, OtlpHttpSpanExporter } from './otlp-span-transports.js';
import type { OtlpExporterSettings } from '../../config/namespaces/opentelemetry.js';
import { otlpEndpoint } from '../../config/namespaces/opentelemetry.js';

const TIMEOUT_MS = 10_000;

function grpcOptions(s: OtlpExporterSettings): Record<string, unknown> {
  const ep = otlpEndpoint(s);
  const metadata = new Metadata();
  // `-bin` keys carry binary values (base64 in the config, as on the gRPC wire); grpc-js wants a Buffer.
  for (const [k, v] of Object.entries(s.headers))
    metadata.set(k, k.toLowerCase().endsWith('-bin') ? Buffer.from(v, 'base64') : v);
  const opts: Record<string, unknown> = { url: ep.base, metadata, timeoutMillis: TIMEOUT_MS };
  if (ep.tls) opts.credentials = credentials.createSsl(s.caCert === undefined ? null : readFileSync(s.caCert));
  else opts.credentials = credentials.createInsecure();
  return opts;
}

function httpOptions(s: OtlpExporterSettings, path: string): Record<string, unknown> {
  const ep = otlpEndpoint(s);
  const opts: Record<string, unknown> = {
    url: `${ep.base}${path}`,
    headers: { ...s.headers },
    timeoutMillis: TIMEOUT_MS,
  };
  if (ep.tls && s.caCert !== undefined) opts.httpAgentOptions = { ca: readFileSync(s.caCert) };
  return opts;
}

/**
 * The span exporter of one `exporters.otlp[]` entry: spans Tollgate encodes itself from the request
 * record (tracing/span-encoder.ts), sent as they are (otlp-span-transports.ts): building SDK span
 * objects and serializing them cost more than the request they describe, and the official delegates'
 * transport doubled what an export costs. Same endpoint, headers, TLS trust and timeout as the
 * metric exporter below.
 */
export function createSpanExporter(s: OtlpExporterSettings, resource: Attributes): EncodedSpanExporter {
  const resourceBytes = encodeAttributes(1, resource);
  const ep = otlpEndpoint(s);
  const ca = ep.tls && s.caCert !== undefined ? readFileSync(s.caCert) : undefined;
  const userAgent = `Tollgate/${VERSION}`;
  if (s.useHttp)
    return new OtlpHttpSpanExporter(
      { origin: ep.base, path: '/v1/traces', headers: s.headers, ca, timeoutMs: TIMEOUT_MS, userAgent },
      resourceBytes,
    );
  const metadata = Object.fromEntries(Object.entries(s.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return new OtlpGrpcSpanExporter(
    new GrpcUnaryClient({ origin: ep.base, ca, metadata, userAgent }),
    resourceBytes,
    TIMEOUT_MS,
  );
}

/**
 * The official metric exporter classes, built as their packages build them, but with a serializer
 * that also writes exemplars (the official one drops them).
 */
export function createMetricExporter(s: OtlpExporterSettings): PushMetricExporter {
  const config = { temporalityPreference: AggregationTemporalityPreference.CUMULATIVE };
  if (s.useHttp) {
    const options = convertLegacyHttpOptions(httpOptions(s, '/v1/metrics'), 'METRICS', 'v1/metrics', {
      'Content-Type': 'application/x-protobuf',
    });
    return new OTLPMetricExporterBase(
      createOtlpHttpExportDelegate(
        options,
        ExemplarMetricsSerializer,
        'otlp_http_metric_exporter',
        MetricsExporterMetricsHelper,
        undefined,
      ),
      config,
    );
  }
  const options = convertLegacyOtlpGrpcOptions(grpcOptions(s), 'METRICS');
  return new OTLPMetricExporterBase(
    createOtlpGrpcExportDelegate(
      options,
      ExemplarMetricsSerializer,
      'otlp_grpc_metric_exporter',
      MetricsExporterMetricsHelper,
      undefined,
      'MetricsExportService',
      '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
    ),
    config,
  );
}
