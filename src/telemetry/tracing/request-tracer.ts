/**
 * KrakenD's span tree for one request (spec §2.10): global (SERVER) → proxy → backend stage →
 * client (CLIENT) → read, with each layer's flags, static attributes and header reporting. At the
 * start of a request it only decides sampling and ids (and later propagates the client span id);
 * the spans themselves are made from the record when the request is done, and only if sampled.
 */
import { STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { Attributes, SpanContext } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import type { GatewayConfig } from '../../config/types.js';
import { parseEndpointPattern, type EndpointPattern } from '../../routing/pattern.js';
import { normalizeUrlPattern } from '../otel/krakend-view.js';
import type { BackendLayerOptions, GlobalLayer, OtelSettings, ProxyLayer } from '../otel/settings.js';
import { Outcome, TraceContext, type BackendRecord, type RequestRecord } from '../record.js';
import { newSpanId, newTraceId } from './ids.js';
import { Propagation, propagatorNames, remoteSpanContext } from './propagation.js';
import { ParentBasedRatioSampler } from './sampler.js';
import { childOf, makeSpan, SpanKind } from './span-data.js';
import { hrTime } from './time.js';

interface BackendBinding {
  readonly name: string;
  readonly options: BackendLayerOptions;
  readonly fixed: Attributes;
  readonly clientSpan: boolean;
}

interface RouteBinding {
  readonly route: string;
  readonly skipped: boolean;
  readonly globalStatic: Attributes;
  readonly proxy: ProxyLayer;
  readonly proxyFixed: Attributes;
  readonly backends: readonly BackendBinding[];
}

/** `http://host:port` → `host`, without a URL parse per span. */
function hostOf(origin: string): string {
  const start = origin.indexOf('//') + 2;
  const end = origin.startsWith('[', start) ? origin.indexOf(']', start) + 1 : origin.indexOf(':', start);
  return origin.slice(start, end <= start ? undefined : end);
}

function attrs(pairs: readonly (readonly [string, string])[]): Attributes {
  return Object.fromEntries(pairs);
}

function headerAttributes(prefix: string, headers: IncomingHttpHeaders | OutgoingHttpHeaders | Record<string, string | string[]>, skip: ReadonlySet<string>, out: Attributes): void {
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || skip.has(name.toLowerCase())) continue;
    out[`${prefix}${name.toLowerCase()}`] = Array.isArray(value) ? value.map(String) : [String(value)];
  }
}

export class RequestTracer {
  readonly #settings: OtelSettings;
  readonly #global: GlobalLayer;
  readonly #sampler: ParentBasedRatioSampler;
  readonly #propagation: Propagation;
  readonly #routes: RouteBinding[];
  readonly #resource: Resource;
  readonly #emit: (spans: ReadableSpan[]) => void;
  readonly #globalSkip: ReadonlySet<string>;
  readonly #scheme: string;

  constructor(settings: OtelSettings, config: GatewayConfig, resource: Resource, emit: (spans: ReadableSpan[]) => void) {
    this.#settings = settings;
    this.#global = settings.global;
    this.#sampler = new ParentBasedRatioSampler(settings.traceSampleRate);
    this.#propagation = new Propagation(propagatorNames(settings.propagators));
    this.#resource = resource;
    this.#emit = emit;
    this.#globalSkip = new Set(settings.global.skipHeaders.map((h) => h.toLowerCase()));
    this.#scheme = config.tls === undefined ? 'http' : 'https';
    this.#routes = config.endpoints.map((ep) => {
      const route = (parseEndpointPattern(ep.path) as EndpointPattern).normalized;
      const proxy = ep.otel?.proxy ?? settings.proxy;
      return {
        route,
        skipped: settings.skipPaths.has(ep.path) || settings.skipPaths.has(route),
        globalStatic: attrs([...settings.global.tracesStatic, ...(ep.otel?.globalTracesStatic ?? [])]),
        proxy,
        proxyFixed: { 'http.request.method': ep.method, 'http.route': route, ...attrs(proxy.tracesStatic) },
        backends: ep.backends.map((b) => {
          const options = (b.otel ?? settings.backend).traces;
          const name = normalizeUrlPattern(b.urlPattern);
          return {
            name,
            options,
            clientSpan: options.roundTrip || options.readPayload,
            fixed: { 'http.request.method': b.method, 'http.route': name, 'krakend.endpoint.route': route, 'krakend.endpoint.method': ep.method, ...attrs(options.staticAttributes) },
          };
        }),
      };
    });
  }

  /** At the start of a request: the remote parent, the sampling decision, the trace ids. */
  begin(rec: RequestRecord, req: IncomingMessage, res: ServerResponse): void {
    if (this.#settings.skipPaths.has(rec.path)) return;
    const parentContext = this.#global.disablePropagation ? undefined : this.#propagation.extract(req.headers);
    const parent = remoteSpanContext(parentContext);
    const traceId = parent?.traceId ?? newTraceId();
    const sampled = this.#sampler.shouldSample(traceId, parent === undefined ? undefined : (parent.traceFlags & 1) === 1);
    if (!sampled && parent === undefined) return;
    rec.trace = new TraceContext(traceId, sampled ? newSpanId() : (parent as SpanContext).spanId, sampled, parent, parentContext, req, res);
  }

  /**
   * Before a backend request goes out: the context to propagate. A sampled request gets its client
   * span id (made now, so the backend's spans hang under it); an unsampled one passes its remote
   * parent on unchanged, so downstream services see the same decision.
   */
  inject(rec: RequestRecord, endpoint: number, backend: number, br: BackendRecord, headers: Record<string, string | string[]>): void {
    const t = rec.trace;
    if (t === undefined) return;
    if (!t.sampled) {
      if (t.parent !== undefined) this.#propagation.inject(t.parentContext, t.parent, headers);
      return;
    }
    const b = this.#routes[endpoint]?.backends[backend];
    br.clientSpanId = newSpanId();
    if (b?.options.reportHeaders === true) br.sentHeaders = headers;
    this.#propagation.inject(t.parentContext, childOf(t.traceId, br.clientSpanId), headers);
  }

  /** When the request is done: its spans, if it was sampled and not skipped. */
  record(rec: RequestRecord): void {
    const t = rec.trace;
    if (t === undefined || !t.sampled) return;
    const r = rec.route >= 0 ? this.#routes[rec.route] : undefined;
    if (r?.skipped === true) return;
    const spans: ReadableSpan[] = [];
    let parent: SpanContext | undefined = t.parent;
    if (!this.#global.disableTraces) {
      spans.push(this.#globalSpan(rec, t, r));
      parent = childOf(t.traceId, t.rootSpanId);
    }
    if (r !== undefined && rec.proxyStart !== 0) {
      if (!r.proxy.disableTraces) {
        t.proxySpanId = newSpanId();
        spans.push(this.#proxySpan(rec, t, r, parent));
        parent = childOf(t.traceId, t.proxySpanId);
      }
      rec.backends?.forEach((br, i) => {
        const b = r.backends[i];
        if (b !== undefined) this.#backendSpans(rec, t, b, br, parent, spans);
      });
    }
    if (spans.length > 0) this.#emit(spans);
  }

  #globalSpan(rec: RequestRecord, t: TraceContext, r: RouteBinding | undefined): ReadableSpan {
    const req = t.req;
    const route = r?.route ?? `${rec.status} ${STATUS_CODES[rec.status] ?? 'Unknown'}`;
    const a: Attributes = {
      'url.full': req.url ?? '/',
      'url.scheme': this.#scheme,
      'http.request.method': rec.method,
      'krakend.stage': 'global',
      'http.route': route,
      'http.response.status_code': rec.status,
      'http.response.body.size': Math.max(0, rec.bytesOut),
      ...(r?.globalStatic ?? attrs(this.#global.tracesStatic)),
    };
    if (req.headers.host !== undefined) a['server.address'] = req.headers.host;
    const cl = req.headers['content-length'];
    if (cl !== undefined) a['http.request.body.size'] = Number(cl);
    if (req.headers['user-agent'] !== undefined) a['user_agent.original'] = req.headers['user-agent'];
    if (req.socket.remoteAddress !== undefined) a['client.address'] = req.socket.remoteAddress;
    if (this.#global.reportHeaders) {
      headerAttributes('http.request.header.', req.headers, this.#globalSkip, a);
      headerAttributes('http.response.header.', t.res.getHeaders(), this.#globalSkip, a);
    }
    return makeSpan(
      { name: route, kind: SpanKind.SERVER, traceId: t.traceId, spanId: t.rootSpanId, parent: t.parent, traceState: t.parent?.traceState, start: rec.start, end: rec.end, attributes: a, error: rec.status >= 500 ? `${rec.status} ${STATUS_CODES[rec.status] ?? ''}`.trim() : undefined },
      this.#resource,
    );
  }

  #proxySpan(rec: RequestRecord, t: TraceContext, r: RouteBinding, parent: SpanContext | undefined): ReadableSpan {
    const a: Attributes = { ...r.proxyFixed, 'krakend.stage': 'proxy', complete: rec.proxyComplete, 'http.response.status_code': rec.proxyError ? 500 : rec.status };
    if (rec.proxyCanceled) a.canceled = true;
    if (rec.proxyError) a.error = 'one or more backends failed';
    if (r.proxy.reportHeaders) headerAttributes('http.request.header.', t.req.headers, new Set(r.proxy.skipHeaders.map((h) => h.toLowerCase())), a);
    return makeSpan({ name: r.route, kind: SpanKind.INTERNAL, traceId: t.traceId, spanId: t.proxySpanId as string, parent, start: rec.proxyStart, end: rec.proxyEnd, attributes: a }, this.#resource);
  }

  #backendSpans(rec: RequestRecord, t: TraceContext, b: BackendBinding, br: BackendRecord, parent: SpanContext | undefined, spans: ReadableSpan[]): void {
    const o = b.options;
    let stageParent = parent;
    if (!o.disableStage && br.stageStart !== 0) {
      const id = newSpanId();
      const a: Attributes = { ...b.fixed, 'krakend.stage': 'backend', complete: br.stageComplete };
      if (br.stageCanceled) a.canceled = true;
      if (br.stageError) a.error = br.error?.message ?? 'backend failed';
      spans.push(makeSpan({ name: b.name, kind: SpanKind.INTERNAL, traceId: t.traceId, spanId: id, parent, start: br.stageStart, end: br.stageEnd, attributes: a }, this.#resource));
      stageParent = childOf(t.traceId, id);
    }
    if (!b.clientSpan || br.clientSpanId === undefined || br.dispatchAt === 0) return;
    const skip = new Set(o.skipHeaders.map((h) => h.toLowerCase()));
    const a: Attributes = { ...b.fixed, 'krakend.stage': 'backend-request', 'url.full': br.origin + br.path };
    a['server.address'] = hostOf(br.origin);
    if (br.requestSize >= 0) a['http.request.body.size'] = br.requestSize;
    if (br.sentHeaders !== undefined) headerAttributes('http.request.header.', br.sentHeaders, skip, a);
    const events: TimedEvent[] = [];
    const transportError = br.outcome !== Outcome.Ok;
    const end = br.headersAt !== 0 ? br.headersAt : br.stageEnd;
    if (!transportError) {
      a['http.response.status_code'] = br.status;
      a['http.response.body.size'] = br.contentLength;
      a['response-duration'] = Math.max(0, br.headersAt - br.dispatchAt) / 1000;
    } else {
      events.push({ name: 'exception', time: hrTime(end), attributes: { 'exception.type': br.error?.name ?? 'Error', 'exception.message': br.error?.message ?? 'backend request failed' }, droppedAttributesCount: 0 });
    }
    if (o.detailedConnection) {
      a['get-conn-duration'] = Math.max(0, (br.connectedAt || end) - br.dispatchAt) / 1000;
      a['dns-duration'] = br.dnsS;
      a['tls-duration'] = br.tlsS;
      if (br.headersAt !== 0) events.push({ name: 'first-byte-time', time: hrTime(br.headersAt), droppedAttributesCount: 0 });
    }
    const clientEnd = o.readPayload || br.bodyEndAt === 0 ? end : br.bodyEndAt;
    spans.push(
      makeSpan(
        { name: b.name, kind: SpanKind.CLIENT, traceId: t.traceId, spanId: br.clientSpanId, parent: stageParent, start: br.dispatchAt, end: clientEnd, attributes: a, events, error: transportError ? (br.error?.message ?? 'backend request failed') : undefined },
        this.#resource,
      ),
    );
    if (o.readPayload && br.headersAt !== 0) {
      const readEnd = br.bodyEndAt !== 0 ? br.bodyEndAt : br.headersAt;
      spans.push(
        makeSpan(
          {
            name: 'http.client.response.read.tracker',
            kind: SpanKind.INTERNAL,
            traceId: t.traceId,
            spanId: newSpanId(),
            parent: childOf(t.traceId, br.clientSpanId),
            start: br.headersAt,
            end: readEnd,
            attributes: { ...b.fixed, 'krakend.stage': 'backend-request', 'http.client.response.read.size': br.readBytes, 'http.client.response.read.time': (readEnd - br.headersAt) / 1000 },
            error: br.readError ? 'reading the response body failed' : undefined,
          },
          this.#resource,
        ),
      );
    }
  }
}
