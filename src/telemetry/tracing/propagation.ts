/**
 * Trace context propagation with OpenTelemetry's propagators: W3C `traceparent`/`tracestate` and
 * baggage by default; B3 (single or multi header) and Jaeger when `propagators` in the config or
 * `OTEL_PROPAGATORS` ask for them (the config wins). `none` disables propagation. With the W3C
 * propagators only, the common cases (no trace headers, a lone canonical `traceparent`, a context
 * without baggage to write) take short ways that give the propagators' answer without their
 * context objects: every request pays for them, sampled or not.
 */
import {
  ROOT_CONTEXT,
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  trace,
  TraceFlags,
  type Context,
  type SpanContext,
  type TextMapPropagator,
  type TraceState,
} from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import { JaegerPropagator } from '@opentelemetry/propagator-jaeger';
import type { IncomingHttpHeaders } from 'node:http';
import { canonicalTraceparentFlags, INVALID } from './traceparent.js';

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

/**
 * What a request's headers carry: a remote parent (`valid`), and the context the propagators made of
 * them when it holds more than that parent (baggage; B3's debug flag), to be passed on.
 */
export class RemoteParent implements SpanContext {
  readonly isRemote = true;
  constructor(
    readonly traceId: string,
    readonly spanId: string,
    readonly traceFlags: number,
    readonly traceState: TraceState | undefined,
    /** Whether the ids are a valid span context (baggage may come without one). */
    readonly valid: boolean,
    readonly context: Context | undefined,
    /** The canonical `traceparent` it was read from, when nothing else came with it: passed on as is. */
    readonly header: string | undefined,
  ) {}
}

function fromContext(ctx: Context, keep: boolean): RemoteParent {
  const sc = trace.getSpanContext(ctx);
  const context = keep ? ctx : undefined;
  if (sc === undefined || !trace.isSpanContextValid(sc))
    return new RemoteParent('', '', 0, undefined, false, context, undefined);
  return new RemoteParent(sc.traceId, sc.spanId, sc.traceFlags, sc.traceState, true, context, undefined);
}

/** `00-<trace>-<span>-<flags>`, as W3CTraceContextPropagator writes it for a valid span context. */
function traceparent(traceId: string, spanId: string, flags: number): string {
  return `00-${traceId}-${spanId}-${flags === 1 ? '01' : flags === 0 ? '00' : `0${flags.toString(16)}`}`;
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

  /**
   * The remote parent and context carried by the request headers, if any. A lone canonical W3C
   * `traceparent` (the common case) is read by hand, without context objects; anything else goes
   * through the propagators.
   */
  parent(headers: IncomingHttpHeaders): RemoteParent | undefined {
    if (this.#propagator === undefined) return undefined;
    if (this.#w3cOnly) {
      const tp = headers.traceparent;
      if (headers.tracestate === undefined && headers.baggage === undefined) {
        if (tp === undefined) return undefined;
        if (typeof tp === 'string') {
          const flags = canonicalTraceparentFlags(tp);
          if (flags >= 0)
            return new RemoteParent(tp.slice(3, 35), tp.slice(36, 52), flags, undefined, true, undefined, tp);
          if (flags === INVALID) return undefined;
        }
      }
      const ctx = this.#propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
      if (ctx === ROOT_CONTEXT) return undefined;
      // With W3C propagators only, the context matters for injection only when it holds baggage.
      return fromContext(ctx, propagation.getBaggage(ctx) !== undefined);
    }
    const ctx = this.extract(headers);
    return ctx === undefined ? undefined : fromContext(ctx, true);
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
      headers['traceparent'] = traceparent(span.traceId, span.spanId, Number(span.traceFlags || 0));
      const state = span.traceState?.serialize();
      if (state !== undefined && state !== '') headers['tracestate'] = state;
      return;
    }
    this.#propagator.inject(trace.setSpanContext(parent ?? ROOT_CONTEXT, span), headers, defaultTextMapSetter);
  }

  /**
   * The context of a request that is not sampled: its remote parent passed on unchanged (a canonical
   * `traceparent` as it came), else its own trace and span ids with the sampled flag off, so the
   * services behind agree on the decision and can still correlate what they log.
   */
  injectUnsampled(
    parent: SpanContext | undefined,
    context: Context | undefined,
    traceId: string,
    spanId: string,
    headers: Record<string, string | string[]>,
  ): void {
    if (this.#propagator === undefined) return;
    if (parent !== undefined) {
      if (parent instanceof RemoteParent && parent.header !== undefined) headers['traceparent'] = parent.header;
      else this.inject(context, parent, headers);
    } else if (context === undefined && this.#w3cOnly) headers['traceparent'] = traceparent(traceId, spanId, 0);
    else this.inject(context, { traceId, spanId, traceFlags: TraceFlags.NONE }, headers);
  }
}
