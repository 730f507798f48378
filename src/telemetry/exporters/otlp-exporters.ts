/**
 * The official OpenTelemetry OTLP exporters for one `exporters.otlp[]` entry: gRPC
 * (`@opentelemetry/exporter-*-otlp-grpc`) or HTTP/protobuf (`…-otlp-proto`, to `/v1/traces` and
 * `/v1/metrics`), with the configured headers (auth tokens) and TLS trust (`ca_cert`, a Tollgate
 * extension). They retry retryable failures with backoff themselves.
 */
import { readFileSync } from 'node:fs';
import { credentials, Metadata } from '@grpc/grpc-js';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { AggregationTemporalityPreference } from '@opentelemetry/exporter-metrics-otlp-http';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { OtlpExporterSettings } from '../otel/settings.js';
import { otlpEndpoint } from './otlp-endpoint.js';

const TIMEOUT_MS = 10_000;

function grpcOptions(s: OtlpExporterSettings): Record<string, unknown> {
  const ep = otlpEndpoint(s);
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(s.headers)) metadata.set(k, v);
  const opts: Record<string, unknown> = { url: ep.base, metadata, timeoutMillis: TIMEOUT_MS };
  if (ep.tls) opts.credentials = credentials.createSsl(s.caCert === undefined ? null : readFileSync(s.caCert));
  else opts.credentials = credentials.createInsecure();
  return opts;
}

function httpOptions(s: OtlpExporterSettings, path: string): Record<string, unknown> {
  const ep = otlpEndpoint(s);
  const opts: Record<string, unknown> = { url: `${ep.base}${path}`, headers: { ...s.headers }, timeoutMillis: TIMEOUT_MS };
  if (ep.tls && s.caCert !== undefined) opts.httpAgentOptions = { ca: readFileSync(s.caCert) };
  return opts;
}

export function createSpanExporter(s: OtlpExporterSettings): SpanExporter {
  return s.useHttp ? new ProtoTraceExporter(httpOptions(s, '/v1/traces')) : new GrpcTraceExporter(grpcOptions(s));
}

export function createMetricExporter(s: OtlpExporterSettings): PushMetricExporter {
  const temporalityPreference = AggregationTemporalityPreference.CUMULATIVE;
  return s.useHttp
    ? new ProtoMetricExporter({ ...httpOptions(s, '/v1/metrics'), temporalityPreference })
    : new GrpcMetricExporter({ ...grpcOptions(s), temporalityPreference });
}
