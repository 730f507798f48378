/**
 * Finished spans as the OTLP exporters read them (the SDK's ReadableSpan shape), made from a request
 * record after the fact: the data path only stamps times and ids, it never holds span objects.
 */
import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type HrTime, type SpanContext } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import { hrDuration, hrTime } from './time.js';

export const SCOPE = { name: 'io.krakend.krakend-otel' };

export interface SpanInput {
  readonly name: string;
  readonly kind: SpanKind;
  readonly traceId: string;
  readonly spanId: string;
  readonly parent: SpanContext | undefined;
  readonly traceState?: SpanContext['traceState'];
  readonly start: number;
  readonly end: number;
  readonly attributes: Attributes;
  readonly events?: TimedEvent[];
  readonly error?: string | undefined;
}

export function makeSpan(input: SpanInput, resource: Resource): ReadableSpan {
  const context: SpanContext = { traceId: input.traceId, spanId: input.spanId, traceFlags: TraceFlags.SAMPLED, ...(input.traceState === undefined ? {} : { traceState: input.traceState }) };
  const startTime: HrTime = hrTime(input.start);
  const endTime: HrTime = hrTime(Math.max(input.start, input.end));
  return {
    name: input.name,
    kind: input.kind,
    spanContext: () => context,
    ...(input.parent === undefined ? {} : { parentSpanContext: input.parent }),
    startTime,
    endTime,
    status: input.error === undefined ? { code: SpanStatusCode.OK } : { code: SpanStatusCode.ERROR, message: input.error },
    attributes: input.attributes,
    links: [],
    events: input.events ?? [],
    duration: hrDuration(input.start, Math.max(input.start, input.end)),
    ended: true,
    resource,
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

export function childOf(traceId: string, spanId: string): SpanContext {
  return { traceId, spanId, traceFlags: TraceFlags.SAMPLED };
}

export { SpanKind };
