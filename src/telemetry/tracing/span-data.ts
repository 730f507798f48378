/** The instrumentation scope of Tollgate's spans and metrics, and span contexts for propagation. */
import { TraceFlags, type SpanContext } from '@opentelemetry/api';

export const SCOPE = { name: 'io.krakend.krakend-otel' };

export function childOf(traceId: string, spanId: string): SpanContext {
  return { traceId, spanId, traceFlags: TraceFlags.SAMPLED };
}
