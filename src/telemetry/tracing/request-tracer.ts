/**
 * KrakenD's span tree for one request (https://github.com/krakend/krakend-otel; docs/tracing.md):
 * global (SERVER) → proxy → backend stage → client (CLIENT) → read, with each layer's flags, static
 * attributes and header reporting, and the values and statuses krakend-otel gives them. At the start
 * of a request it only decides sampling and ids (and later propagates the client span id); the spans
 * themselves are made from the record when the request is done, and only if sampled: at once
 * (`record`), or admitted then and encoded a little later with other requests (`admit`, `encode`;
 * span-deferral.ts).
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { GatewayConfig } from '../../config/types.js';
import { authValidatorSecretHeaders } from '../../config/namespaces/auth-validator.js';
import { redactorFor, type Redactor } from '../../log/redact.js';
import type { CompiledRoute } from '../../backends/backend-route.js';
import type { GlobalLayer, OtelSettings } from '../../config/namespaces/opentelemetry.js';
import type { ClientConnection } from '../client-connection.js';
import { TraceContext, type BackendRecord, type RequestRecord } from '../record.js';
import { newSpanId, RootIds } from './ids.js';
import { bodyRead, stageFailed, stageStatus } from '../lura-stage.js';
import type { Propagation } from './propagation.js';
import { TraceSampler } from './sampler.js';
import {
  G,
  routeBinding,
  unmatchedBinding,
  type BackendBinding,
  type RouteBinding,
  type UnmatchedBinding,
} from './span-bindings.js';
import { eventName, key, Kind, NEW_SPAN_ID, PREVIOUS_SPAN, spanName, SpanStatus, SpanWriter } from './span-encoder.js';
import { HeaderKeys, headerAttributes } from './span-headers.js';
import { clientResponseBodySize, remoteAddr, serverRequestBodySize } from './span-values.js';

/** A response whose head went out but whose end did not: the client connection broke while it was written. */
function writeFailed(res: ServerResponse): boolean {
  // `errored` is set when the gateway itself cut the response (a backend body that broke off): no
  // write failed then, as in lura, whose copy fails on the read side.
  return res.headersSent && !res.writableFinished && (res.errored ?? null) === null;
}

export class RequestTracer {
  readonly #global: GlobalLayer;
  readonly #sampler: TraceSampler;
  readonly #skipPaths: ReadonlySet<string>;
  /** Scratch ids of a request without a remote parent (read at once in `begin`). */
  readonly #ids = new RootIds();
  readonly #propagation: Propagation;
  readonly #routes: RouteBinding[];
  readonly #unmatched: UnmatchedBinding;
  readonly #emit: (spans: Buffer, count: number) => void;
  readonly #out = new SpanWriter();
  readonly #unmatchedNames = new Map<number, Buffer>();
  readonly #globalSkip: ReadonlySet<string>;
  /** Headers the propagators write into backend requests: not reported, as Go reports them before it injects. */
  readonly #injected: ReadonlySet<string>;
  /** `client.address` (`ip:port`) of each client connection a sampled request came on, made once per connection. */
  readonly #clientAddresses = new WeakMap<ClientConnection, string>();
  /** Secret query parameters and headers, decided from the config at start-up. */
  readonly #redact: Redactor;
  /** Reported header names, encoded once each (span-headers.ts). */
  readonly #requestHeaders: HeaderKeys;
  readonly #responseHeaders: HeaderKeys;

  /** `propagation` reads the remote parent; the trace injector (trace-injector.ts) writes with the same one. */
  constructor(
    settings: OtelSettings,
    config: GatewayConfig,
    routes: readonly CompiledRoute[],
    propagation: Propagation,
    emit: (spans: Buffer, count: number) => void,
  ) {
    this.#global = settings.global;
    this.#sampler = new TraceSampler(settings.traceSampleRate, settings.traceSampler);
    this.#skipPaths = settings.skipPaths;
    this.#propagation = propagation;
    this.#emit = emit;
    this.#globalSkip = new Set(settings.global.skipHeaders.map((h) => h.toLowerCase()));
    this.#injected = propagation.injectedFields;
    this.#redact = redactorFor(config.apiKeys, authValidatorSecretHeaders(config.endpoints));
    this.#requestHeaders = new HeaderKeys('http.request.header.', this.#redact);
    this.#responseHeaders = new HeaderKeys('http.response.header.', this.#redact);
    const scheme = config.tls === undefined ? 'http' : 'https';
    this.#unmatched = unmatchedBinding(settings, scheme);
    this.#routes = routes.map((r) => routeBinding(settings, r, scheme));
  }

  /**
   * At the start of a request: the remote parent, the sampling decision, the trace ids. Every request
   * gets a trace context, sampled or not, so its context reaches the backends (trace-injector.ts);
   * an unsampled one costs ids and one small object, and no span is ever made for it.
   */
  begin(rec: RequestRecord, req: IncomingMessage, res: ServerResponse): void {
    if (this.#skipPaths.size !== 0 && this.#skipPaths.has(rec.path)) return;
    const remote = this.#global.disablePropagation ? undefined : this.#propagation.parent(req.headers);
    const parent = remote?.valid === true ? remote : undefined;
    let traceId: string;
    let spanId: string;
    let sampled: boolean;
    if (parent === undefined) {
      const ids = this.#ids;
      ids.next();
      sampled = this.#sampler.shouldSampleRoot(ids.hi, ids.lo);
      if (sampled) ids.own();
      traceId = ids.traceId;
      spanId = ids.spanId;
    } else {
      traceId = parent.traceId;
      sampled = this.#sampler.shouldSample(traceId, (parent.traceFlags & 1) === 1);
      // An unsampled request passes its parent on unchanged (trace-injector.ts).
      spanId = sampled ? newSpanId() : parent.spanId;
    }
    if (sampled && rec.connection !== undefined && !this.#clientAddresses.has(rec.connection))
      this.#clientAddresses.set(rec.connection, remoteAddr(rec.connection.address, req.socket.remotePort));
    rec.trace = new TraceContext(traceId, spanId, sampled, parent, remote?.context, req, res);
  }

  /** When the request is done: its spans (encoded OTLP) at once, if it was sampled and not skipped. */
  record(rec: RequestRecord): void {
    if (this.admit(rec)) this.encode(rec);
  }

  /**
   * When the request is done, whether its spans are to be made (it was sampled and not skipped). For
   * those it settles, before any metric view reads the record, what the spans will say that could
   * still change or that the views need: the proxy span's id (the proxy histogram's exemplar points to
   * it) and whether the response failed to go out. `encode` may then run later (span-deferral.ts).
   */
  admit(rec: RequestRecord): boolean {
    const t = rec.trace;
    if (t === undefined || !t.sampled) return false;
    const r = rec.route >= 0 ? this.#routes[rec.route] : undefined;
    if (r?.skipped === true) return false;
    if (r !== undefined && rec.proxyStart !== 0 && !r.proxy.disableTraces) t.proxySpanId = newSpanId();
    t.writeFailed = writeFailed(t.res);
    return true;
  }

  /** The spans of a request `admit` accepted, encoded and handed to the batchers. */
  encode(rec: RequestRecord): void {
    const t = rec.trace as TraceContext;
    const r = rec.route >= 0 ? this.#routes[rec.route] : undefined;
    const out = this.#out;
    out.reset();
    // Every span of the trace carries the remote parent's trace state (OTel Go's samplers pass it on).
    const state = t.parent?.traceState?.serialize();
    let parent: string | undefined = t.parent?.spanId;
    if (!this.#global.disableTraces) {
      this.#globalSpan(rec, t, r, state);
      parent = t.rootSpanId;
    }
    if (r !== undefined && rec.proxyStart !== 0) {
      if (t.proxySpanId !== undefined) {
        this.#proxySpan(rec, t, r, parent, state);
        parent = t.proxySpanId;
      }
      const brs = rec.backends;
      if (brs !== undefined) {
        for (let i = 0; i < brs.length; i++) {
          const br = brs[i];
          const b = r.backends[i];
          if (br !== undefined && b !== undefined) this.#backendSpans(t, b, br, parent, state);
        }
      }
    }
    if (out.count > 0) this.#emit(out.bytes(), out.count);
  }

  /** krakend-otel/http/server/traces.go and http/attributes.go. */
  #globalSpan(rec: RequestRecord, t: TraceContext, r: RouteBinding | undefined, state: string | undefined): void {
    const out = this.#out;
    const req = t.req;
    const h = req.headers;
    const m = r?.globalMask ?? this.#unmatched.mask;
    out.begin(
      r?.spanName ?? this.#unmatchedName(rec.status),
      Kind.Server,
      t.traceId,
      t.rootSpanId,
      t.parent?.spanId,
      rec.start,
      rec.end,
      state,
      t.parent !== undefined,
    );
    out.fixed(r?.globalFixed ?? this.#unmatched.fixed);
    if ((m & G.UrlFull) === 0) out.str(K.urlFull, this.#redact.url(req.url ?? '/'));
    if ((m & G.ServerAddress) === 0) out.str(K.serverAddress, h.host ?? '');
    if ((m & G.Method) === 0) out.str(K.method, rec.method);
    const size = serverRequestBodySize(h);
    if ((m & G.RequestSize) === 0 && size >= 0) out.int(K.requestSize, size);
    const ua = h['user-agent'];
    if ((m & G.UserAgent) === 0 && ua !== undefined && ua !== '') out.str(K.userAgent, ua);
    if ((m & G.ClientAddress) === 0) this.#clientAddress(rec.connection);
    if (r === undefined) out.str(K.route, `${rec.status} ${STATUS_CODES[rec.status] ?? ''}`);
    if ((m & G.Status) === 0) out.int(K.status, rec.status);
    if ((m & G.ResponseSize) === 0) out.int(K.responseSize, Math.max(0, rec.bytesOut));
    if (this.#global.reportHeaders) {
      headerAttributes(out, this.#requestHeaders, h, this.#globalSkip);
      headerAttributes(out, this.#responseHeaders, rec.responseHeaders ?? t.res.getHeaders(), this.#globalSkip);
    }
    if (t.writeFailed) {
      out.event(EV.exception, rec.end);
      out.str(K.exceptionType, 'Error');
      out.str(K.exceptionMessage, WRITE_FAILED);
      out.endEvent();
      out.end(SpanStatus.Error, WRITE_FAILED);
    } else out.end(SpanStatus.Ok);
  }

  #clientAddress(connection: ClientConnection | undefined): void {
    if (connection === undefined) return;
    const addr = this.#clientAddresses.get(connection) ?? connection.address;
    if (addr !== '') this.#out.str(K.clientAddress, addr);
  }

  /** Span name of a request no endpoint matched: its status line, as KrakenD names its route. */
  #unmatchedName(status: number): Buffer {
    let b = this.#unmatchedNames.get(status);
    if (b === undefined) {
      b = spanName(`${status} ${STATUS_CODES[status] ?? ''}`);
      if (this.#unmatchedNames.size < 1000) this.#unmatchedNames.set(status, b);
    }
    return b;
  }

  /**
   * The proxy stage (krakend-otel/lura/proxy_tracer.go:66-85), status left unset. It returns the one
   * backend's result, or for several lura's merge: an error joining every failed stage's (never
   * `canceled`: errors.Is does not see through lura's mergeError), else a combined response
   * without a status (lura proxy/merging.go:455-484, 591-615).
   */
  #proxySpan(
    rec: RequestRecord,
    t: TraceContext,
    r: RouteBinding,
    parent: string | undefined,
    state: string | undefined,
  ): void {
    const out = this.#out;
    out.begin(
      r.spanName,
      Kind.Internal,
      t.traceId,
      t.proxySpanId as string,
      parent,
      rec.proxyStart,
      rec.proxyEnd,
      state,
    );
    out.fixed(r.proxyFixed);
    if (r.proxy.reportHeaders) headerAttributes(out, this.#requestHeaders, t.req.headers, r.proxySkip);
    const brs = rec.backends ?? [];
    let failed = 0;
    let ended = 0;
    let error = '';
    for (let i = 0; i < brs.length; i++) {
      const br = brs[i];
      const b = r.backends[i];
      if (br === undefined || b === undefined) continue;
      if (br.stageEnd !== 0) ended++;
      if (!stageFailed(b, br)) continue;
      error += `${failed++ === 0 ? '' : '\n'}${br.error?.message ?? 'backend failed'}`;
    }
    const one = r.backends.length === 1 ? r.backends[0] : undefined;
    const single = one === undefined ? undefined : brs[0];
    if (failed > 0) {
      if (single?.stageCanceled === true) out.bool(K.canceled, true);
      else out.str(K.error, error);
      out.int(K.status, 500);
    } else if (ended === 0 && (rec.proxyError || rec.proxyCanceled)) {
      // The proxy failed before any backend stage ended.
      if (rec.proxyCanceled) out.bool(K.canceled, true);
      else out.str(K.error, 'the proxy failed');
      out.int(K.status, 500);
    } else out.int(K.status, one !== undefined && single !== undefined ? stageStatus(one, single) : 0);
    out.bool(K.complete, rec.proxyComplete);
    out.end(SpanStatus.Unset);
  }

  #backendSpans(
    t: TraceContext,
    b: BackendBinding,
    br: BackendRecord,
    parent: string | undefined,
    state: string | undefined,
  ): void {
    const o = b.options;
    let stageParent = parent;
    if (!o.disableStage && br.stageStart !== 0) {
      this.#stageSpan(t, b, br, parent, state);
      stageParent = PREVIOUS_SPAN;
    }
    if (!b.clientSpan || br.clientSpanId === undefined || br.dispatchAt === 0) return;
    this.#clientSpan(t, b, br, stageParent, state);
    if (o.readPayload && br.headersAt !== 0 && bodyRead(b, br)) this.#readSpan(t, b, br, state);
  }

  /** The backend stage (krakend-otel/lura/proxy_tracer.go:53-85), status left unset. */
  #stageSpan(
    t: TraceContext,
    b: BackendBinding,
    br: BackendRecord,
    parent: string | undefined,
    state: string | undefined,
  ): void {
    const out = this.#out;
    out.begin(b.spanName, Kind.Internal, t.traceId, NEW_SPAN_ID, parent, br.stageStart, br.stageEnd, state);
    out.fixed(b.stageFixed);
    if (b.options.reportHeaders && br.sentHeaders !== undefined)
      headerAttributes(out, this.#requestHeaders, br.sentHeaders, b.skip, this.#injected);
    if (stageFailed(b, br)) {
      if (br.stageCanceled) out.bool(K.canceled, true);
      else out.str(K.error, br.error?.message ?? 'backend failed');
    }
    out.int(K.status, stageStatus(b, br));
    out.bool(K.complete, br.stageComplete);
    out.end(SpanStatus.Unset);
  }

  /**
   * The round trip (krakend-otel/http/client/transport_traces.go, transport.go:150-170): from the
   * dispatch until Go's RoundTrip returns, i.e. the response head (or the failure).
   */
  #clientSpan(
    t: TraceContext,
    b: BackendBinding,
    br: BackendRecord,
    parent: string | undefined,
    state: string | undefined,
  ): void {
    const out = this.#out;
    const o = b.options;
    const end = br.headersAt !== 0 ? br.headersAt : br.stageEnd;
    out.begin(b.spanName, Kind.Client, t.traceId, br.clientSpanId as string, parent, br.dispatchAt, end, state);
    out.fixed(b.clientFixed);
    const target = b.targets[br.target];
    if (target !== undefined) {
      out.str(K.urlFull, this.#redact.url(target.urlPrefix + br.path));
      out.str(K.serverAddress, target.serverAddress);
    }
    // The length sent; 0 without a body or with a chunked one, as Go's ContentLength (docs/tracing.md, differences).
    out.int(K.requestSize, Math.max(0, br.requestSize));
    const sent = br.sentHeaders;
    const ua = sent?.['user-agent'];
    if (typeof ua === 'string' && ua !== '') out.str(K.userAgent, ua);
    if (o.reportHeaders && sent !== undefined)
      headerAttributes(out, this.#requestHeaders, sent, b.skip, this.#injected);
    // Go's RoundTrip succeeded once the head arrived, whatever happens to the body afterwards.
    if (br.headersAt === 0) {
      const message = br.error?.message ?? 'backend request failed';
      out.event(EV.exception, end);
      out.str(K.exceptionType, br.error?.name ?? 'Error');
      out.str(K.exceptionMessage, message);
      out.endEvent();
      out.end(SpanStatus.Error, message);
      return;
    }
    out.int(K.status, br.status);
    out.int(K.responseSize, clientResponseBodySize(b.method, br.status, br.contentLength));
    out.double(K.responseDuration, (br.headersAt - br.dispatchAt) / 1000);
    if (o.detailedConnection) {
      out.double(K.getConnDuration, Math.max(0, (br.connectedAt || br.headersAt) - br.dispatchAt) / 1000);
      // undici reports no DNS or TLS set-up times: 0, as Go reports for a reused connection.
      out.double(K.dnsDuration, br.dnsMs / 1000);
      out.double(K.tlsDuration, br.tlsMs / 1000);
      out.event(EV.firstByte, br.headersAt);
      out.endEvent();
    }
    out.end(SpanStatus.Ok);
  }

  /** Reading the body (krakend-otel/io/tracking.go): from the head until the end of the body or its failure. */
  #readSpan(t: TraceContext, b: BackendBinding, br: BackendRecord, state: string | undefined): void {
    const out = this.#out;
    const end = br.bodyEndAt !== 0 ? br.bodyEndAt : br.headersAt;
    out.begin(READ_SPAN, Kind.Internal, t.traceId, NEW_SPAN_ID, br.clientSpanId, br.headersAt, end, state);
    out.fixed(b.readFixed);
    const failure = br.readError ? (br.error?.message ?? READ_FAILED) : undefined;
    if (failure !== undefined) {
      out.event(EV.exception, end);
      out.str(K.exceptionType, br.error?.name ?? 'Error');
      out.str(K.exceptionMessage, failure);
      out.endEvent();
    }
    out.int(K.readSize, br.readBytes);
    out.double(K.readTime, (end - br.headersAt) / 1000);
    if (failure === undefined) out.end(SpanStatus.Ok);
    else out.end(SpanStatus.Error, failure);
  }
}

const WRITE_FAILED = 'the client connection closed before the response was written';
const READ_FAILED = 'reading the response body failed';

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
