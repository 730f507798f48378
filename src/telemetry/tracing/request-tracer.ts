/**
 * KrakenD's span tree for one request (https://www.krakend.io/docs/telemetry/opentelemetry-layers-metrics/,
 * https://github.com/krakend/krakend-otel; docs/tracing.md): global (SERVER) → proxy → backend stage →
 * client (CLIENT) → read, with each layer's flags, static attributes and header reporting. At the
 * start of a request it only decides sampling and ids (and later propagates the client span id);
 * the spans themselves are made from the record when the request is done, and only if sampled.
 */
import {
  STATUS_CODES,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { Attributes, SpanContext } from '@opentelemetry/api';
import type { GatewayConfig } from '../../config/types.js';
import { REDACTED, redactorFor, type Redactor } from '../../log/redact.js';
import type { CompiledRoute } from '../../backends/backend-route.js';
import { normalizeUrlPattern } from '../otel/krakend-view.js';
import type {
  BackendLayerOptions,
  GlobalLayer,
  OtelSettings,
  ProxyLayer,
} from '../../config/namespaces/opentelemetry.js';
import { Outcome, TraceContext, type BackendRecord, type RequestRecord } from '../record.js';
import { newSpanId, newTraceId } from './ids.js';
import { remoteSpanContext, type Propagation } from './propagation.js';
import { ParentBasedRatioSampler } from './sampler.js';
import { encodeAttributes, eventName, key, Kind, spanName, SpanWriter } from './span-encoder.js';

/** Attributes that never change for a route or backend, encoded once (OTLP Span field 9). */
interface BackendBinding {
  readonly spanName: Buffer;
  readonly options: BackendLayerOptions;
  readonly clientSpan: boolean;
  readonly skip: ReadonlySet<string>;
  readonly stageFixed: Buffer;
  readonly clientFixed: Buffer;
}

interface RouteBinding {
  readonly route: string;
  readonly spanName: Buffer;
  readonly skipped: boolean;
  readonly globalFixed: Buffer;
  readonly proxy: ProxyLayer;
  readonly proxySkip: ReadonlySet<string>;
  readonly proxyFixed: Buffer;
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

/** Reported headers (`report_headers`); credentials (Authorization, Cookie, the API key header…) as REDACTED. */
function headerAttributes(
  out: SpanWriter,
  prefix: string,
  headers: IncomingHttpHeaders | OutgoingHttpHeaders | Record<string, string | string[]>,
  skip: ReadonlySet<string>,
  redact: Redactor,
): void {
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value === undefined || skip.has(lower)) continue;
    if (redact.isSecretHeader(lower))
      out.any(`${prefix}${lower}`, Array.isArray(value) ? value.map(() => REDACTED) : [REDACTED]);
    else out.any(`${prefix}${lower}`, Array.isArray(value) ? value.map(String) : [String(value)]);
  }
}

export class RequestTracer {
  readonly #settings: OtelSettings;
  readonly #global: GlobalLayer;
  readonly #sampler: ParentBasedRatioSampler;
  readonly #propagation: Propagation;
  readonly #routes: RouteBinding[];
  readonly #emit: (spans: Buffer, count: number) => void;
  readonly #out = new SpanWriter();
  readonly #unmatchedNames = new Map<number, Buffer>();
  readonly #unmatchedFixed: Buffer;
  readonly #globalSkip: ReadonlySet<string>;
  readonly #scheme: string;
  /** Secret query parameters and headers, decided from the config at start-up. */
  readonly #redact: Redactor;

  /** `propagation` reads the remote parent; the trace injector (trace-injector.ts) writes with the same one. */
  constructor(
    settings: OtelSettings,
    config: GatewayConfig,
    routes: readonly CompiledRoute[],
    propagation: Propagation,
    emit: (spans: Buffer, count: number) => void,
  ) {
    this.#settings = settings;
    this.#global = settings.global;
    this.#sampler = new ParentBasedRatioSampler(settings.traceSampleRate);
    this.#propagation = propagation;
    this.#emit = emit;
    this.#globalSkip = new Set(settings.global.skipHeaders.map((h) => h.toLowerCase()));
    this.#scheme = config.tls === undefined ? 'http' : 'https';
    this.#redact = redactorFor(config.apiKeys);
    const fixed = (a: Attributes): Buffer => encodeAttributes(9, a);
    this.#unmatchedFixed = fixed({
      'url.scheme': this.#scheme,
      'krakend.stage': 'global',
      ...attrs(settings.global.tracesStatic),
    });
    this.#routes = routes.map((r) => {
      const layers = r.otel;
      if (layers === undefined) throw new TypeError(`route ${r.id} was compiled without telemetry/opentelemetry`);
      const route = r.pattern.normalized;
      const proxy = layers.proxy;
      return {
        route,
        spanName: spanName(route),
        skipped: layers.skipped,
        globalFixed: fixed({
          'url.scheme': this.#scheme,
          'krakend.stage': 'global',
          'http.route': route,
          ...attrs(layers.globalTracesStatic),
        }),
        proxy,
        proxySkip: new Set(proxy.skipHeaders.map((h) => h.toLowerCase())),
        proxyFixed: fixed({
          'http.request.method': r.method,
          'http.route': route,
          'krakend.stage': 'proxy',
          ...attrs(proxy.tracesStatic),
        }),
        backends: r.backends.map((b) => {
          if (b.otel === undefined) throw new TypeError(`route ${r.id} was compiled without telemetry/opentelemetry`);
          const options = b.otel.traces;
          const name = normalizeUrlPattern(b.config.urlPattern);
          const base = {
            'http.request.method': b.config.method,
            'http.route': name,
            'krakend.endpoint.route': route,
            'krakend.endpoint.method': r.method,
            ...attrs(options.staticAttributes),
          };
          return {
            spanName: spanName(name),
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
    const sampled = this.#sampler.shouldSample(
      traceId,
      parent === undefined ? undefined : (parent.traceFlags & 1) === 1,
    );
    if (!sampled && parent === undefined) return;
    rec.trace = new TraceContext(
      traceId,
      sampled ? newSpanId() : (parent as SpanContext).spanId,
      sampled,
      parent,
      parentContext,
      req,
      res,
    );
  }

  /** When the request is done: its spans (encoded OTLP), if it was sampled and not skipped. */
  record(rec: RequestRecord): void {
    const t = rec.trace;
    if (t === undefined || !t.sampled) return;
    const r = rec.route >= 0 ? this.#routes[rec.route] : undefined;
    if (r?.skipped === true) return;
    const out = this.#out;
    out.reset();
    let parent: string | undefined = t.parent?.spanId;
    if (!this.#global.disableTraces) {
      this.#globalSpan(rec, t, r);
      parent = t.rootSpanId;
    }
    if (r !== undefined && rec.proxyStart !== 0) {
      if (!r.proxy.disableTraces) {
        t.proxySpanId = newSpanId();
        this.#proxySpan(rec, t, r, parent);
        parent = t.proxySpanId;
      }
      const brs = rec.backends;
      if (brs !== undefined) {
        for (let i = 0; i < brs.length; i++) {
          const br = brs[i];
          const b = r.backends[i];
          if (br !== undefined && b !== undefined) this.#backendSpans(t, b, br, parent);
        }
      }
    }
    if (out.count > 0) this.#emit(out.bytes(), out.count);
  }

  #globalSpan(rec: RequestRecord, t: TraceContext, r: RouteBinding | undefined): void {
    const out = this.#out;
    const req = t.req;
    const name = r?.spanName ?? this.#unmatchedName(rec.status);
    out.begin(
      name,
      Kind.Server,
      t.traceId,
      t.rootSpanId,
      t.parent?.spanId,
      rec.start,
      rec.end,
      t.parent?.traceState?.serialize(),
      t.parent !== undefined,
    );
    out.fixed(r?.globalFixed ?? this.#unmatchedFixed);
    out.str(K.urlFull, this.#redact.url(req.url ?? '/'));
    out.str(K.method, rec.method);
    out.num(K.status, rec.status);
    out.num(K.responseSize, Math.max(0, rec.bytesOut));
    if (r === undefined) out.str(K.route, `${rec.status} ${STATUS_CODES[rec.status] ?? 'Unknown'}`);
    const h = req.headers;
    if (h.host !== undefined) out.str(K.serverAddress, h.host);
    const cl = h['content-length'];
    if (cl !== undefined) out.num(K.requestSize, Number(cl));
    const ua = h['user-agent'];
    if (ua !== undefined) out.str(K.userAgent, ua);
    // From the record: `req.socket` is null once the request stream is destroyed (a no-op body sent on).
    const addr = rec.connection?.address;
    if (addr !== undefined && addr !== '') out.str(K.clientAddress, addr);
    if (this.#global.reportHeaders) {
      headerAttributes(out, 'http.request.header.', req.headers, this.#globalSkip, this.#redact);
      headerAttributes(out, 'http.response.header.', t.res.getHeaders(), this.#globalSkip, this.#redact);
    }
    out.end(rec.status >= 500 ? `${rec.status} ${STATUS_CODES[rec.status] ?? ''}`.trim() : undefined);
  }

  /** Span name of a request no endpoint matched: its status line, as KrakenD names it. */
  #unmatchedName(status: number): Buffer {
    let b = this.#unmatchedNames.get(status);
    if (b === undefined) {
      b = spanName(`${status} ${STATUS_CODES[status] ?? 'Unknown'}`);
      if (this.#unmatchedNames.size < 1000) this.#unmatchedNames.set(status, b);
    }
    return b;
  }

  #proxySpan(rec: RequestRecord, t: TraceContext, r: RouteBinding, parent: string | undefined): void {
    const out = this.#out;
    out.begin(r.spanName, Kind.Internal, t.traceId, t.proxySpanId as string, parent, rec.proxyStart, rec.proxyEnd);
    out.fixed(r.proxyFixed);
    out.bool(K.complete, rec.proxyComplete);
    out.num(K.status, rec.proxyError ? 500 : rec.status);
    if (rec.proxyCanceled) out.bool(K.canceled, true);
    if (rec.proxyError) out.str(K.error, 'one or more backends failed');
    if (r.proxy.reportHeaders) headerAttributes(out, 'http.request.header.', t.req.headers, r.proxySkip, this.#redact);
    out.end(undefined);
  }

  #backendSpans(t: TraceContext, b: BackendBinding, br: BackendRecord, parent: string | undefined): void {
    const out = this.#out;
    const o = b.options;
    let stageParent = parent;
    if (!o.disableStage && br.stageStart !== 0) {
      const id = newSpanId();
      out.begin(b.spanName, Kind.Internal, t.traceId, id, parent, br.stageStart, br.stageEnd);
      out.fixed(b.stageFixed);
      out.bool(K.complete, br.stageComplete);
      if (br.stageCanceled) out.bool(K.canceled, true);
      if (br.stageError) out.str(K.error, br.error?.message ?? 'backend failed');
      out.end(undefined);
      stageParent = id;
    }
    if (!b.clientSpan || br.clientSpanId === undefined || br.dispatchAt === 0) return;
    const transportError = br.outcome !== Outcome.Ok;
    const end = br.headersAt !== 0 ? br.headersAt : br.stageEnd;
    const clientEnd = o.readPayload || br.bodyEndAt === 0 ? end : br.bodyEndAt;
    out.begin(b.spanName, Kind.Client, t.traceId, br.clientSpanId, stageParent, br.dispatchAt, clientEnd);
    out.fixed(b.clientFixed);
    out.str(K.urlFull, this.#redact.url(br.origin + br.path));
    out.str(K.serverAddress, hostOf(br.origin));
    if (br.requestSize >= 0) out.num(K.requestSize, br.requestSize);
    if (br.sentHeaders !== undefined)
      headerAttributes(out, 'http.request.header.', br.sentHeaders, b.skip, this.#redact);
    if (!transportError) {
      out.num(K.status, br.status);
      out.num(K.responseSize, br.contentLength);
      out.num(K.responseDuration, Math.max(0, br.headersAt - br.dispatchAt) / 1000);
    }
    if (o.detailedConnection) {
      out.num(K.getConnDuration, Math.max(0, (br.connectedAt || end) - br.dispatchAt) / 1000);
      // undici reports no DNS or TLS set-up times: both are 0, as for a reused connection.
      out.num(K.dnsDuration, 0);
      out.num(K.tlsDuration, 0);
    }
    if (transportError) {
      out.event(EV.exception, end);
      out.str(K.exceptionType, br.error?.name ?? 'Error');
      out.str(K.exceptionMessage, br.error?.message ?? 'backend request failed');
      out.endEvent();
    }
    if (o.detailedConnection && br.headersAt !== 0) {
      out.event(EV.firstByte, br.headersAt);
      out.endEvent();
    }
    out.end(transportError ? (br.error?.message ?? 'backend request failed') : undefined);
    if (o.readPayload && br.headersAt !== 0) {
      const readEnd = br.bodyEndAt !== 0 ? br.bodyEndAt : br.headersAt;
      out.begin(READ_SPAN, Kind.Internal, t.traceId, newSpanId(), br.clientSpanId, br.headersAt, readEnd);
      out.fixed(b.clientFixed);
      out.num(K.readSize, br.readBytes);
      out.num(K.readTime, (readEnd - br.headersAt) / 1000);
      out.end(br.readError ? 'reading the response body failed' : undefined);
    }
  }
}

/** Attribute keys written per request, pre-encoded. */
const K = {
  urlFull: key('url.full'),
  method: key('http.request.method'),
  status: key('http.response.status_code'),
  responseSize: key('http.response.body.size'),
  requestSize: key('http.request.body.size'),
  route: key('http.route'),
  serverAddress: key('server.address'),
  userAgent: key('user_agent.original'),
  clientAddress: key('client.address'),
  complete: key('complete'),
  canceled: key('canceled'),
  error: key('error'),
  responseDuration: key('response-duration'),
  getConnDuration: key('get-conn-duration'),
  dnsDuration: key('dns-duration'),
  tlsDuration: key('tls-duration'),
  exceptionType: key('exception.type'),
  exceptionMessage: key('exception.message'),
  readSize: key('http.client.response.read.size'),
  readTime: key('http.client.response.read.time'),
} as const;

const EV = { exception: eventName('exception'), firstByte: eventName('first-byte-time') } as const;
const READ_SPAN = spanName('http.client.response.read.tracker');
