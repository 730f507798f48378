/**
 * Trace propagation into backend requests. Built from the config before the routes, so each
 * backend call receives it in its constructor; the request tracer shares its propagators. It exists
 * exactly when some OTLP exporter takes traces: `traceInjector` is the one switch for tracing.
 */
import type { OtelSettings } from '../../config/namespaces/opentelemetry.js';
import type { BackendRecord, RequestRecord } from '../record.js';
import { newSpanId } from './ids.js';
import { Propagation, propagatorNames } from './propagation.js';
import { childOf } from './span-data.js';

export class TraceInjector {
  readonly propagation: Propagation;

  constructor(propagation: Propagation) {
    this.propagation = propagation;
  }

  /**
   * Before a backend request goes out: the context to propagate. A sampled request gets its client
   * span id (made now, so the backend's spans hang under it) and keeps a reference to the headers it
   * sends (the client span reports their User-Agent, and all of them with `report_headers`, which the
   * tracer reads from its own layer: the last parameter is no longer needed). An unsampled one passes
   * its remote parent on unchanged, or without one its own ids with the sampled flag off, so the
   * services behind see the same decision (propagation.ts `injectUnsampled`).
   */
  inject(
    rec: RequestRecord,
    br: BackendRecord,
    headers: Record<string, string | string[]>,
    _reportHeaders?: boolean,
  ): void {
    const t = rec.trace;
    if (t === undefined) return;
    if (!t.sampled) {
      this.propagation.injectUnsampled(t.parent, t.parentContext, t.traceId, t.rootSpanId, headers);
      return;
    }
    br.clientSpanId = newSpanId();
    br.sentHeaders = headers;
    // The client span carries the remote parent's trace state, as OTel Go's samplers pass it on.
    this.propagation.inject(t.parentContext, childOf(t.traceId, br.clientSpanId, t.parent?.traceState), headers);
  }
}

/** The injector when tracing is on (an OTLP exporter without `disable_traces`), else undefined. */
export function traceInjector(otel: OtelSettings | undefined): TraceInjector | undefined {
  if (otel === undefined || !otel.otlp.some((e) => !e.disableTraces)) return undefined;
  return new TraceInjector(new Propagation(propagatorNames(otel.propagators)));
}
