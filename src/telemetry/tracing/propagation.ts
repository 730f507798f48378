/**
 * Trace context propagation with OpenTelemetry's propagators: W3C `traceparent`/`tracestate` and
 * baggage by default; B3 (single or multi header) and Jaeger when `propagators` in the config or
 * `OTEL_PROPAGATORS` ask for them (the config wins). `none` disables propagation.
 */
import {
  ROOT_CONTEXT,
  defaultTextMapGetter,
  defaultTextMapSetter,
  trace,
  TraceFlags,
  type Context,
  type SpanContext,
  type TextMapPropagator,
} from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import { JaegerPropagator } from '@opentelemetry/propagator-jaeger';
import type { IncomingHttpHeaders } from 'node:http';

export const KNOWN_PROPAGATORS = ['tracecontext', 'baggage', 'b3', 'b3multi', 'jaeger', 'none'] as const;
export type PropagatorName = (typeof KNOWN_PROPAGATORS)[number];

function one(name: PropagatorName): TextMapPropagator | undefined {
  switch (name) {
    case 'tracecontext':
      return new W3CTraceContextPropagator();
    case 'baggage':
      return new W3CBaggagePropagator();
    case 'b3':
      return new B3Propagator({ injectEncoding: B3InjectEncoding.SINGLE_HEADER });
    case 'b3multi':
      return new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER });
    case 'jaeger':
      return new JaegerPropagator();
    default:
      return undefined;
  }
}

/**
 * Names from the settings (the config's, else `OTEL_PROPAGATORS`: config/environment.ts), else the
 * W3C default. Unknown names are ignored.
 */
export function propagatorNames(configured: readonly string[] | undefined): PropagatorName[] {
  const raw = configured ?? ['tracecontext', 'baggage'];
  const names = raw
    .map((n) => n.trim().toLowerCase())
    .filter((n): n is PropagatorName => (KNOWN_PROPAGATORS as readonly string[]).includes(n));
  return names.includes('none') ? [] : [...new Set(names)];
}

export class Propagation {
  readonly #propagator: TextMapPropagator | undefined;
  /**
   * The headers the propagators read, when that list is complete (Jaeger also reads `uberctx-*`
   * baggage headers, so with it every request goes through the propagators).
   */
  readonly #fields: readonly string[] | undefined;
  /** Only W3C trace context (and baggage): a context without baggage is one `traceparent` header. */
  readonly #w3cOnly: boolean;
  /** The headers `inject` may write (lower case). */
  readonly injectedFields: ReadonlySet<string>;

  constructor(names: readonly PropagatorName[]) {
    const list = names.map(one).filter((p): p is TextMapPropagator => p !== undefined);
    this.#propagator = list.length === 0 ? undefined : new CompositePropagator({ propagators: list });
    this.#fields = names.includes('jaeger') ? undefined : this.#propagator?.fields();
    this.#w3cOnly = names.includes('tracecontext') && names.every((n) => n === 'tracecontext' || n === 'baggage');
    this.injectedFields = new Set((this.#propagator?.fields() ?? []).map((f) => f.toLowerCase()));
  }

  /** The remote parent carried by the request headers, with its baggage, if any. */
  extract(headers: IncomingHttpHeaders): Context | undefined {
    if (this.#propagator === undefined) return undefined;
    // Most requests carry no trace headers at all: they need no trip through the propagators.
    if (this.#fields !== undefined && this.#fields.every((f) => headers[f] === undefined)) return undefined;
    const ctx = this.#propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
    return ctx === ROOT_CONTEXT ? undefined : ctx;
  }

  /** Writes the context headers for `span` (under `parent`, to keep its baggage) into `headers`. */
  inject(parent: Context | undefined, span: SpanContext, headers: Record<string, string | string[]>): void {
    if (this.#propagator === undefined) return;
    if (parent === undefined && this.#w3cOnly) {
      // What W3CTraceContextPropagator writes for a valid span context (our ids always are), without
      // the context objects it needs to get there; baggage only ever comes from a parent.
      headers['traceparent'] = `00-${span.traceId}-${span.spanId}-0${Number(span.traceFlags || 0).toString(16)}`;
      const state = span.traceState?.serialize();
      if (state !== undefined && state !== '') headers['tracestate'] = state;
      return;
    }
    this.#propagator.inject(trace.setSpanContext(parent ?? ROOT_CONTEXT, span), headers, defaultTextMapSetter);
  }
}

export function remoteSpanContext(ctx: Context | undefined): SpanContext | undefined {
  if (ctx === undefined) return undefined;
  const sc = trace.getSpanContext(ctx);
  return sc !== undefined && trace.isSpanContextValid(sc) ? sc : undefined;
}

export { TraceFlags };
