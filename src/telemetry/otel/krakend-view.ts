/**
 * KrakenD's OpenTelemetry layers (https://www.krakend.io/docs/telemetry/opentelemetry-layers-metrics/)
 * as a view of the request record: global, proxy,
 * backend stage, round trip, read payload and detailed connection. Every label set is fixed at
 * start-up per route and backend; the only dynamic dimensions are closed sets (status code, the
 * error/canceled/complete flags, the method of unmatched requests), bound on first sight into
 * arrays indexed by number. Recording is array indexing and `observe()`.
 */
import { STATUS_CODES } from 'node:http';
import type { GatewayConfig } from '../../config/types.js';
import type { BackendRoute, CompiledRoute } from '../../backends/backend-route.js';
import type { Target } from '../../backends/balancer.js';
import type { CounterCell, HistogramCell } from '../store/cells.js';
import type { LabelPairs } from '../store/labels.js';
import type { MetricStore } from '../store/store.js';
import { StatusBudget } from '../store/status-budget.js';
import { Outcome, type BackendRecord, type RecordSink, type RequestRecord } from '../record.js';
import { registerKrakendFamilies, type KrakendFamilies } from './families.js';
import { epochMs } from '../tracing/time.js';
import { bodyRead, stageShapeOf, type StageShape } from '../lura-stage.js';
import type { BackendLayerOptions, OtelSettings, ProxyLayer } from '../../config/namespaces/opentelemetry.js';

const METHODS = ['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE'];
const STATUS_SLOTS = 1000;

function methodIndex(m: string): number {
  const i = METHODS.indexOf(m);
  return i === -1 ? METHODS.length : i;
}

/**
 * krakend-otel's route form of a backend url_pattern: `{id}` → `:id`, lower-cased as
 * https://github.com/krakend/krakend-otel/blob/HEAD/config/path_pattern.go does.
 */
export function normalizeUrlPattern(pattern: string): string {
  const q = pattern.indexOf('?');
  return (q === -1 ? pattern : pattern.slice(0, q)).replace(/\{([^{}]+)\}/g, (_m, n: string) => `:${n.toLowerCase()}`);
}

/** The counters krakend-otel creates as real instruments only in some configurations (no-op: no series). */
interface RoundTripCounters {
  readonly started: CounterCell;
  readonly failed: CounterCell;
  readonly canceled: CounterCell;
  readonly timedout: CounterCell;
  readonly noContentLength: CounterCell;
}

interface ConnectionCells {
  readonly getConn: HistogramCell;
  readonly dns: HistogramCell;
  readonly tls: HistogramCell;
}

interface RoundTripCells {
  readonly duration: HistogramCell;
  readonly responseSize: HistogramCell;
  readonly requestSize: CounterCell | HistogramCell;
  readonly counters: RoundTripCounters | undefined;
  readonly connection: ConnectionCells | undefined;
}

interface ReadCells {
  readonly size: CounterCell;
  readonly sizeHist: HistogramCell;
  readonly time: CounterCell;
  readonly timeHist: HistogramCell;
}

class BackendBinding {
  readonly stage: (HistogramCell | undefined)[] = new Array<HistogramCell | undefined>(8);
  /** [target][status] */
  readonly roundTrip: (RoundTripCells | undefined)[][];
  read: ReadCells | undefined;
  /** Which backend statuses get round-trip series of their own (the rest share the overflow series). */
  readonly statuses = new StatusBudget();
  readErr: (ReadCells & { readonly errors: CounterCell }) | undefined;
  readonly head: boolean;

  constructor(
    readonly options: BackendLayerOptions,
    readonly fixed: LabelPairs,
    readonly targets: readonly Target[],
    /** The backend's method (the round trip re-adds it after the static attributes). */
    readonly method: string,
    /**
     * started/failed/canceled/timedout/no-content-length are real instruments: always with the legacy
     * names, and with semconv 1.27 only under `detailed_connection` (no-op instruments otherwise:
     * krakend-otel http/client/transport_metrics.go:119-150).
     */
    readonly counters: boolean,
    /** What lura does with the backend's answer: whether it reads the body of a failed status. */
    readonly shape: StageShape,
  ) {
    this.head = method === 'HEAD';
    this.roundTrip = targets.map(() => new Array<RoundTripCells | undefined>(STATUS_SLOTS));
  }
}

class RouteBinding {
  readonly globalDuration: (HistogramCell | undefined)[] = new Array<HistogramCell | undefined>(STATUS_SLOTS);
  readonly globalSize: (HistogramCell | undefined)[] = new Array<HistogramCell | undefined>(STATUS_SLOTS);
  readonly proxy: (HistogramCell | undefined)[] = new Array<HistogramCell | undefined>(8);
  /** Which response statuses get server series of their own (the rest share the overflow series). */
  readonly statuses = new StatusBudget();

  constructor(
    readonly skipped: boolean,
    readonly globalLabels: LabelPairs,
    readonly proxyLayer: ProxyLayer,
    readonly proxyLabels: LabelPairs,
    readonly backends: readonly BackendBinding[],
  ) {}
}

export class KrakendOtelView implements RecordSink {
  readonly #families: KrakendFamilies;
  readonly #settings: OtelSettings;
  readonly #routes: RouteBinding[];
  readonly #scheme: string;
  /** Unmatched requests: [methodIndex * STATUS_SLOTS + status]. */
  readonly #unmatchedDuration: (HistogramCell | undefined)[] = [];
  readonly #unmatchedSize: (HistogramCell | undefined)[] = [];
  readonly #modern: boolean;

  constructor(
    store: MetricStore,
    settings: OtelSettings,
    config: GatewayConfig,
    routes: readonly CompiledRoute[],
    seriesLimit = 2000,
  ) {
    this.#settings = settings;
    this.#modern = settings.global.semconv === '1.27';
    this.#families = registerKrakendFamilies(
      store,
      settings.global.semconv,
      settings.timeBuckets,
      settings.sizeBuckets,
      seriesLimit,
    );
    this.#scheme = config.tls === undefined ? 'http' : 'https';
    this.#routes = routes.map((r) => this.#bindRoute(r));
  }

  #bindRoute(r: CompiledRoute): RouteBinding {
    const layers = r.otel;
    if (layers === undefined) throw new TypeError(`route ${r.id} was compiled without telemetry/opentelemetry`);
    const route = r.pattern.normalized;
    // krakend-otel records the server metrics with the static attributes first and its own after them
    // (http/server/metrics.go:79-88; the service's set, then the endpoint's: router/gin/endpoint.go:32-50),
    // and an attribute set keeps the last value of a key (opentelemetry-go attribute/set.go:270,
    // metric/instrument.go:317-326): a static attribute never replaces a built-in one here.
    const globalLabels: LabelPairs = [
      ...layers.globalMetricsStatic,
      ['http.request.method', r.method],
      ['url.scheme', this.#scheme],
      ['http.route', route],
    ];
    // The proxy and backend layers put their static attributes after the route and method
    // (lura/proxy.go:118-130, lura/proxy.go:167-182, lura/backend.go:76-88), so there a static
    // `http.route` does replace the built-in one, as in KrakenD.
    const proxyLabels: LabelPairs = [
      ['http.request.method', r.method],
      ['http.route', route],
      ...layers.proxy.metricsStatic,
    ];
    const backends = r.backends.map((b) => this.#bindBackend(r, b));
    return new RouteBinding(layers.skipped, globalLabels, layers.proxy, proxyLabels, backends);
  }

  #bindBackend(r: CompiledRoute, b: BackendRoute): BackendBinding {
    if (b.otel === undefined) throw new TypeError(`route ${r.id} was compiled without telemetry/opentelemetry`);
    const options = b.otel.metrics;
    const fixed: LabelPairs = [
      ['http.request.method', b.config.method],
      ['http.route', normalizeUrlPattern(b.config.urlPattern)],
      ['krakend.endpoint.route', r.pattern.normalized],
      ['krakend.endpoint.method', r.method],
      ...options.staticAttributes,
    ];
    const counters = !this.#modern || options.detailedConnection;
    return new BackendBinding(options, fixed, b.targets, b.config.method, counters, stageShapeOf(b.config));
  }

  record(rec: RequestRecord): void {
    const g = this.#settings.global;
    const status = rec.status > 0 && rec.status < STATUS_SLOTS ? rec.status : 0;
    if (rec.route < 0) {
      if (!g.disableMetrics && !this.#settings.skipPaths.has(rec.path)) this.#recordUnmatched(rec, status);
      return;
    }
    const r = this.#routes[rec.route] as RouteBinding;
    if (r.skipped) return;
    const t = rec.trace?.sampled === true ? rec.trace : undefined;
    if (!g.disableMetrics) {
      const d = r.globalDuration[status] ?? this.#bindGlobal(r, status);
      if (t === undefined) d.observe((rec.end - rec.start) / 1000);
      else d.observeWithExemplar((rec.end - rec.start) / 1000, t.traceId, t.rootSpanId, epochMs(rec.end));
      (r.globalSize[status] as HistogramCell).observe(Math.max(0, rec.bytesOut));
    }
    if (rec.proxyStart === 0) return;
    if (!r.proxyLayer.disableMetrics) {
      const k = flagsIndex(rec.proxyError, rec.proxyCanceled, rec.proxyComplete);
      const p = r.proxy[k] ?? (r.proxy[k] = this.#families.proxyDuration.bind([...r.proxyLabels, ...flagPairs(k)]));
      if (t === undefined) p.observe((rec.proxyEnd - rec.proxyStart) / 1000);
      else
        p.observeWithExemplar(
          (rec.proxyEnd - rec.proxyStart) / 1000,
          t.traceId,
          t.proxySpanId ?? t.rootSpanId,
          epochMs(rec.proxyEnd),
        );
    }
    const brs = rec.backends;
    if (brs === undefined) return;
    for (let i = 0; i < brs.length; i++) {
      const br = brs[i];
      const bb = r.backends[i];
      if (br !== undefined && bb !== undefined) this.#recordBackend(bb, br, t?.traceId);
    }
  }

  #bindGlobal(r: RouteBinding, status: number): HistogramCell {
    if (!r.statuses.admit(status)) {
      r.globalSize[status] = this.#families.serverSize.overflow();
      return (r.globalDuration[status] = this.#families.serverDuration.overflow());
    }
    const pairs: LabelPairs = [...r.globalLabels, ['http.response.status_code', status]];
    r.globalSize[status] = this.#families.serverSize.bind(pairs);
    return (r.globalDuration[status] = this.#families.serverDuration.bind(pairs));
  }

  #recordUnmatched(rec: RequestRecord, status: number): void {
    const mi = methodIndex(rec.method);
    const k = mi * STATUS_SLOTS + status;
    let d = this.#unmatchedDuration[k];
    if (d === undefined) {
      const pairs: LabelPairs = [
        ...this.#settings.global.metricsStatic,
        ['http.request.method', METHODS[mi] ?? '_OTHER'],
        ['url.scheme', this.#scheme],
        ['http.route', `${status} ${STATUS_CODES[status] ?? 'Unknown'}`],
        ['http.response.status_code', status],
      ];
      d = this.#unmatchedDuration[k] = this.#families.serverDuration.bind(pairs);
      this.#unmatchedSize[k] = this.#families.serverSize.bind(pairs);
    }
    d.observe((rec.end - rec.start) / 1000);
    (this.#unmatchedSize[k] as HistogramCell).observe(Math.max(0, rec.bytesOut));
  }

  #recordBackend(bb: BackendBinding, br: BackendRecord, traceId: string | undefined): void {
    const o = bb.options;
    if (!o.disableStage && br.stageStart !== 0) {
      const k = flagsIndex(br.stageError, br.stageCanceled, br.stageComplete);
      const c = bb.stage[k] ?? (bb.stage[k] = this.#families.backendDuration.bind([...bb.fixed, ...flagPairs(k)]));
      c.observe((br.stageEnd - br.stageStart) / 1000);
    }
    if (!(o.roundTrip || o.readPayload) || br.dispatchAt === 0) return;
    const status = br.outcome === Outcome.Ok && br.status > 0 && br.status < STATUS_SLOTS ? br.status : 0;
    const perTarget = bb.roundTrip[br.target];
    if (perTarget === undefined) return;
    const rt = perTarget[status] ?? (perTarget[status] = this.#bindRoundTrip(bb, br.target, status));
    const counters = rt.counters;
    if (counters !== undefined) {
      counters.started.add(1);
      if (br.outcome === Outcome.Failed || br.outcome === Outcome.TimedOut) counters.failed.add(1);
      if (br.outcome === Outcome.TimedOut) counters.timedout.add(1);
      if (br.outcome === Outcome.Canceled) counters.canceled.add(1);
    }
    const ended = br.headersAt !== 0 ? br.headersAt : br.stageEnd;
    const seconds = Math.max(0, ended - br.dispatchAt) / 1000;
    if (traceId !== undefined && br.clientSpanId !== undefined)
      rt.duration.observeWithExemplar(seconds, traceId, br.clientSpanId, epochMs(ended));
    else rt.duration.observe(seconds);
    if (br.requestSize >= 0) {
      if (this.#modern) (rt.requestSize as HistogramCell).observe(br.requestSize);
      else (rt.requestSize as CounterCell).add(br.requestSize);
    }
    // No response size of any kind for a HEAD request (transport_metrics.go:208).
    if (br.headersAt !== 0 && !bb.head) {
      if (br.contentLength >= 0) rt.responseSize.observe(br.contentLength);
      else counters?.noContentLength.add(1);
    }
    const conn = rt.connection;
    if (conn !== undefined) {
      conn.getConn.observe(Math.max(0, (br.connectedAt !== 0 ? br.connectedAt : ended) - br.dispatchAt) / 1000);
      conn.dns.observe(br.dnsMs / 1000);
      conn.tls.observe(br.tlsMs / 1000);
    }
    // krakend-otel records a read when the body is read or closed; lura's default status handler does
    // neither for a status other than 200/201 (transport/http/client/status.go).
    if (o.readPayload && br.headersAt !== 0 && bodyRead(bb.shape, br)) this.#recordRead(bb, br);
  }

  #bindRoundTrip(bb: BackendBinding, target: number, status: number): RoundTripCells {
    const f = this.#families;
    const detailed = bb.options.detailedConnection;
    if (!bb.statuses.admit(status)) {
      return {
        duration: f.clientDuration.overflow(),
        responseSize: f.clientResponseSize.overflow(),
        requestSize: f.clientRequestSize.overflow(),
        counters: bb.counters
          ? {
              started: f.started.overflow(),
              failed: f.failed.overflow(),
              canceled: f.canceled.overflow(),
              timedout: f.timedout.overflow(),
              noContentLength: f.noContentLength.overflow(),
            }
          : undefined,
        connection: detailed
          ? { getConn: f.getConn.overflow(), dns: f.dns.overflow(), tls: f.tls.overflow() }
          : undefined,
      };
    }
    const t = bb.targets[target];
    // krakend-otel appends clientname, method, server address and port and the status after the
    // backend's static attributes (transport_metrics.go:227-253): a static attribute cannot replace these.
    const pairs: LabelPairs = [
      ...bb.fixed,
      ['clientname', (bb.fixed[1] as readonly [string, string])[1]],
      ['http.request.method', bb.method],
      ['server.address', t?.hostname ?? ''],
      ['server.port', t?.port ?? 0],
      ['http.response.status_code', status],
    ];
    return {
      duration: f.clientDuration.bind(pairs),
      responseSize: f.clientResponseSize.bind(pairs),
      requestSize: f.clientRequestSize.bind(pairs),
      counters: bb.counters
        ? {
            started: f.started.bind(pairs),
            failed: f.failed.bind(pairs),
            canceled: f.canceled.bind(pairs),
            timedout: f.timedout.bind(pairs),
            noContentLength: f.noContentLength.bind(pairs),
          }
        : undefined,
      // Only recorded with detailed_connection, and bound only then (no series otherwise).
      connection: detailed
        ? { getConn: f.getConn.bind(pairs), dns: f.dns.bind(pairs), tls: f.tls.bind(pairs) }
        : undefined,
    };
  }

  #recordRead(bb: BackendBinding, br: BackendRecord): void {
    const f = this.#families;
    let cells: ReadCells;
    if (br.readError) {
      cells = bb.readErr ??= (() => {
        // A string attribute, as io/instruments.go:99 makes it (the stage's flags are booleans).
        const pairs: LabelPairs = [...bb.fixed, ['error', 'true']];
        return {
          size: f.readSize.bind(pairs),
          sizeHist: f.readSizeHist.bind(pairs),
          time: f.readTime.bind(pairs),
          timeHist: f.readTimeHist.bind(pairs),
          errors: f.readErrors.bind(pairs),
        };
      })();
      bb.readErr.errors.add(1);
    } else {
      cells = bb.read ??= {
        size: f.readSize.bind(bb.fixed),
        sizeHist: f.readSizeHist.bind(bb.fixed),
        time: f.readTime.bind(bb.fixed),
        timeHist: f.readTimeHist.bind(bb.fixed),
      };
    }
    const seconds = Math.max(0, (br.bodyEndAt !== 0 ? br.bodyEndAt : br.headersAt) - br.headersAt) / 1000;
    cells.size.add(br.readBytes);
    cells.sizeHist.observe(br.readBytes);
    cells.time.add(seconds);
    cells.timeHist.observe(seconds);
  }
}

function flagsIndex(error: boolean, canceled: boolean, complete: boolean): number {
  return (error ? 4 : 0) | (canceled ? 2 : 0) | (complete ? 1 : 0);
}

function flagPairs(k: number): LabelPairs {
  return [
    ['error', (k & 4) !== 0],
    ['canceled', (k & 2) !== 0],
    ['complete', (k & 1) !== 0],
  ];
}
