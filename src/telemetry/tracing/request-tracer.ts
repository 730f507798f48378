/**
 * KrakenD's span tree for one request (spec §2.10): global (SERVER) → proxy → backend stage →
 * client (CLIENT) → read, with each layer's flags, static attributes and header reporting. At the
 * start of a request it only decides sampling and ids (and later propagates the client span id);
 * the spans themselves are made from the record when the request is done, and only if sampled.
 */
import { STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { Attributes, SpanContext } from '@opentelemetry/api';
import type { GatewayConfig } from '../../config/types.js';
import { parseEndpointPattern, type EndpointPattern } from '../../routing/pattern.js';
import { normalizeUrlPattern } from '../otel/krakend-view.js';
import type { BackendLayerOptions, GlobalLayer, OtelSettings, ProxyLayer } from '../otel/settings.js';
import { Outcome, TraceContext, type BackendRecord, type RequestRecord } from '../record.js';
import { newSpanId, newTraceId } from './ids.js';
import { Propagation, propagatorNames, remoteSpanContext } from './propagation.js';
import { ParentBasedRatioSampler } from './sampler.js';
import { childOf } from './span-data.js';
import { encodeAttributes, Kind, SpanEncoder, type SpanEvent } from './span-encoder.js';
import { epochMs } from './time.js';

/** Attributes that never change for a route or backend, encoded once (OTLP Span field 9). */
interface BackendBinding {
  readonly name: string;
  readonly options: BackendLayerOptions;
  readonly clientSpan: boolean;
  readonly skip: ReadonlySet<string>;
  readonly stageFixed: readonly Buffer[];
  readonly clientFixed: readonly Buffer[];
}

interface RouteBinding {
  readonly route: string;
  readonly skipped: boolean;
  readonly globalFixed: readonly Buffer[];
  readonly proxy: ProxyLayer;
  readonly proxySkip: ReadonlySet<string>;
  readonly proxyFixed: readonly Buffer[];
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
  readonly #emit: (spans: Buffer[]) => void;
  readonly #encoder = new SpanEncoder();
  readonly #unmatchedFixed: readonly Buffer[];
  readonly #globalSkip: ReadonlySet<string>;
  readonly #scheme: string;

  constructor(settings: OtelSettings, config: GatewayConfig, emit: (spans: Buffer[]) => void) {
    this.#settings = settings;
    this.#global = settings.global;
    this.#sampler = new ParentBasedRatioSampler(settings.traceSampleRate);
    this.#propagation = new Propagation(propagatorNames(settings.propagators));
    this.#emit = emit;
    this.#globalSkip = new Set(settings.global.skipHeaders.map((h) => h.toLowerCase()));
    this.#scheme = config.tls === undefined ? 'http' : 'https';
    const fixed = (a: Attributes): Buffer[] => [encodeAttributes(9, a)];
    this.#unmatchedFixed = fixed({ 'url.scheme': this.#scheme, 'krakend.stage': 'global', ...attrs(settings.global.tracesStatic) });
    this.#routes = config.endpoints.map((ep) => {
      const route = (parseEndpointPattern(ep.path) as EndpointPattern).normalized;
      const proxy = ep.otel?.proxy ?? settings.proxy;
      return {
        route,
        skipped: settings.skipPaths.has(ep.path) || settings.skipPaths.has(route),
        globalFixed: fixed({ 'url.scheme': this.#scheme, 'krakend.stage': 'global', 'http.route': route, ...attrs([...settings.global.tracesStatic, ...(ep.otel?.globalTracesStatic ?? [])]) }),
        proxy,
        proxySkip: new Set(proxy.skipHeaders.map((h) => h.toLowerCase())),
        proxyFixed: fixed({ 'http.request.method': ep.method, 'http.route': route, 'krakend.stage': 'proxy', ...attrs(proxy.tracesStatic) }),
        backends: ep.backends.map((b) => {
          const options = (b.otel ?? settings.backend).traces;
          const name = normalizeUrlPattern(b.urlPattern);
          const base = { 'http.request.method': b.method, 'http.route': name, 'krakend.endpoint.route': route, 'krakend.endpoint.method': ep.method, ...attrs(options.staticAttributes) };
          return {
            name,
            options,
            clientSpan: options.roundTrip || options.readPayload,
            skip: new Set(options.skipHeaders.map((h) => h.toLowerCase())),
            stageFixed: fixed({ ...base, 'krakend.stage': 'backend' }),
            clientFixed: fixed({ ...base, 'krakend.stage': 'backend-request' }),
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

  /** When the request is done: its spans (encoded OTLP), if it was sampled and not skipped. */
  record(rec: RequestRecord): void {
    const t = rec.trace;
    if (t === undefined || !t.sampled) return;
    const r = rec.route >= 0 ? this.#routes[rec.route] : undefined;
    if (r?.skipped === true) return;
    const spans: Buffer[] = [];
    let parent: string | undefined = t.parent?.spanId;
    if (!this.#global.disableTraces) {
      spans.push(this.#globalSpan(rec, t, r));
      parent = t.rootSpanId;
    }
    if (r !== undefined && rec.proxyStart !== 0) {
      if (!r.proxy.disableTraces) {
        t.proxySpanId = newSpanId();
        spans.push(this.#proxySpan(rec, t, r, parent));
        parent = t.proxySpanId;
      }
      const brs = rec.backends;
      if (brs !== undefined) {
        for (let i = 0; i < brs.length; i++) {
          const br = brs[i];
          const b = r.backends[i];
          if (br !== undefined && b !== undefined) this.#backendSpans(t, b, br, parent, spans);
        }
      }
    }
    if (spans.length > 0) this.#emit(spans);
  }

  #globalSpan(rec: RequestRecord, t: TraceContext, r: RouteBinding | undefined): Buffer {
    const req = t.req;
    const a: Attributes = {
      'url.full': req.url ?? '/',
      'http.request.method': rec.method,
      'http.response.status_code': rec.status,
      'http.response.body.size': Math.max(0, rec.bytesOut),
    };
    if (r === undefined) a['http.route'] = `${rec.status} ${STATUS_CODES[rec.status] ?? 'Unknown'}`;
    if (req.headers.host !== undefined) a['server.address'] = req.headers.host;
    const cl = req.headers['content-length'];
    if (cl !== undefined) a['http.request.body.size'] = Number(cl);
    if (req.headers['user-agent'] !== undefined) a['user_agent.original'] = req.headers['user-agent'];
    if (req.socket.remoteAddress !== undefined) a['client.address'] = req.socket.remoteAddress;
    if (this.#global.reportHeaders) {
      headerAttributes('http.request.header.', req.headers, this.#globalSkip, a);
      headerAttributes('http.response.header.', t.res.getHeaders(), this.#globalSkip, a);
    }
    const name = r?.route ?? (a['http.route'] as string);
    return this.#encoder.encode(
      { name, kind: Kind.Server, traceId: t.traceId, spanId: t.rootSpanId, parentSpanId: t.parent?.spanId, traceState: t.parent?.traceState?.serialize(), startMs: epochMs(rec.start), endMs: epochMs(rec.end) },
      r?.globalFixed ?? this.#unmatchedFixed,
      a,
      NO_EVENTS,
      rec.status >= 500 ? `${rec.status} ${STATUS_CODES[rec.status] ?? ''}`.trim() : undefined,
    );
  }

  #proxySpan(rec: RequestRecord, t: TraceContext, r: RouteBinding, parent: string | undefined): Buffer {
    const a: Attributes = { complete: rec.proxyComplete, 'http.response.status_code': rec.proxyError ? 500 : rec.status };
    if (rec.proxyCanceled) a.canceled = true;
    if (rec.proxyError) a.error = 'one or more backends failed';
    if (r.proxy.reportHeaders) headerAttributes('http.request.header.', t.req.headers, r.proxySkip, a);
    return this.#encoder.encode(
      { name: r.route, kind: Kind.Internal, traceId: t.traceId, spanId: t.proxySpanId as string, parentSpanId: parent, startMs: epochMs(rec.proxyStart), endMs: epochMs(rec.proxyEnd) },
      r.proxyFixed,
      a,
      NO_EVENTS,
      undefined,
    );
  }

  #backendSpans(t: TraceContext, b: BackendBinding, br: BackendRecord, parent: string | undefined, spans: Buffer[]): void {
    const o = b.options;
    let stageParent = parent;
    if (!o.disableStage && br.stageStart !== 0) {
      const id = newSpanId();
      const a: Attributes = { complete: br.stageComplete };
      if (br.stageCanceled) a.canceled = true;
      if (br.stageError) a.error = br.error?.message ?? 'backend failed';
      spans.push(this.#encoder.encode({ name: b.name, kind: Kind.Internal, traceId: t.traceId, spanId: id, parentSpanId: parent, startMs: epochMs(br.stageStart), endMs: epochMs(br.stageEnd) }, b.stageFixed, a, NO_EVENTS, undefined));
      stageParent = id;
    }
    if (!b.clientSpan || br.clientSpanId === undefined || br.dispatchAt === 0) return;
    const a: Attributes = { 'url.full': br.origin + br.path, 'server.address': hostOf(br.origin) };
    if (br.requestSize >= 0) a['http.request.body.size'] = br.requestSize;
    if (br.sentHeaders !== undefined) headerAttributes('http.request.header.', br.sentHeaders, b.skip, a);
    const events: SpanEvent[] = [];
    const transportError = br.outcome !== Outcome.Ok;
    const end = br.headersAt !== 0 ? br.headersAt : br.stageEnd;
    if (!transportError) {
      a['http.response.status_code'] = br.status;
      a['http.response.body.size'] = br.contentLength;
      a['response-duration'] = Math.max(0, br.headersAt - br.dispatchAt) / 1000;
    } else {
      events.push({ name: 'exception', timeMs: epochMs(end), attributes: { 'exception.type': br.error?.name ?? 'Error', 'exception.message': br.error?.message ?? 'backend request failed' } });
    }
    if (o.detailedConnection) {
      a['get-conn-duration'] = Math.max(0, (br.connectedAt || end) - br.dispatchAt) / 1000;
      a['dns-duration'] = br.dnsS;
      a['tls-duration'] = br.tlsS;
      if (br.headersAt !== 0) events.push({ name: 'first-byte-time', timeMs: epochMs(br.headersAt) });
    }
    const clientEnd = o.readPayload || br.bodyEndAt === 0 ? end : br.bodyEndAt;
    spans.push(
      this.#encoder.encode(
        { name: b.name, kind: Kind.Client, traceId: t.traceId, spanId: br.clientSpanId, parentSpanId: stageParent, startMs: epochMs(br.dispatchAt), endMs: epochMs(clientEnd) },
        b.clientFixed,
        a,
        events,
        transportError ? (br.error?.message ?? 'backend request failed') : undefined,
      ),
    );
    if (o.readPayload && br.headersAt !== 0) {
      const readEnd = br.bodyEndAt !== 0 ? br.bodyEndAt : br.headersAt;
      spans.push(
        this.#encoder.encode(
          { name: 'http.client.response.read.tracker', kind: Kind.Internal, traceId: t.traceId, spanId: newSpanId(), parentSpanId: br.clientSpanId, startMs: epochMs(br.headersAt), endMs: epochMs(readEnd) },
          b.clientFixed,
          { 'http.client.response.read.size': br.readBytes, 'http.client.response.read.time': (readEnd - br.headersAt) / 1000 },
          NO_EVENTS,
          br.readError ? 'reading the response body failed' : undefined,
        ),
      );
    }
  }
}

const NO_EVENTS: readonly SpanEvent[] = [];
