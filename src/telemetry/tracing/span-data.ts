/** The instrumentation scope of Tollgate's spans and metrics, and span contexts for propagation. */
import { TraceFlags, type SpanContext, type TraceState } from '@opentelemetry/api';

export const SCOPE = { name: 'io.krakend.krakend-otel' };

export function childOf(traceId: string, spanId: string, traceState?: TraceState): SpanContext {
  return traceState === undefined
    ? { traceId, spanId, traceFlags: TraceFlags.SAMPLED }
    : { traceId, spanId, traceFlags: TraceFlags.SAMPLED, traceState };
}
