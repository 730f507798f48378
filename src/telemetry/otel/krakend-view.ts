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

interface RoundTripCells {
  readonly duration: HistogramCell;
  readonly responseSize: HistogramCell;
  readonly requestSize: CounterCell | HistogramCell;
  readonly started: CounterCell;
  readonly failed: CounterCell;
  readonly canceled: CounterCell;
  readonly timedout: CounterCell;
  readonly noContentLength: CounterCell;
  readonly getConn: HistogramCell;
  readonly dns: HistogramCell;
  readonly tls: HistogramCell;
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

  constructor(
    readonly options: BackendLayerOptions,
    readonly fixed: LabelPairs,
    readonly targets: readonly Target[],
  ) {
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
    const globalLabels: LabelPairs = [
      ['http.request.method', r.method],
      ['url.scheme', this.#scheme],
      ['http.route', route],
      ...layers.globalMetricsStatic,
    ];
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
    return new BackendBinding(options, fixed, b.targets);
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
        ['http.request.method', METHODS[mi] ?? '_OTHER'],
        ['url.scheme', this.#scheme],
        ['http.route', `${status} ${STATUS_CODES[status] ?? 'Unknown'}`],
        ['http.response.status_code', status],
        ...this.#settings.global.metricsStatic,
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
    const counters = !this.#modern || o.detailedConnection;
    if (counters) {
      rt.started.add(1);
      if (br.outcome === Outcome.Failed || br.outcome === Outcome.TimedOut) rt.failed.add(1);
      if (br.outcome === Outcome.TimedOut) rt.timedout.add(1);
      if (br.outcome === Outcome.Canceled) rt.canceled.add(1);
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
    if (br.headersAt !== 0) {
      if (br.contentLength >= 0) rt.responseSize.observe(br.contentLength);
      else if (counters) rt.noContentLength.add(1);
    }
    if (o.detailedConnection) {
      rt.getConn.observe(Math.max(0, (br.connectedAt !== 0 ? br.connectedAt : ended) - br.dispatchAt) / 1000);
      // undici reports no DNS or TLS set-up times: both are 0, as for a reused connection.
      rt.dns.observe(0);
      rt.tls.observe(0);
    }
    if (o.readPayload && br.headersAt !== 0) this.#recordRead(bb, br);
  }

  #bindRoundTrip(bb: BackendBinding, target: number, status: number): RoundTripCells {
    const f = this.#families;
    if (!bb.statuses.admit(status)) {
      return {
        duration: f.clientDuration.overflow(),
        responseSize: f.clientResponseSize.overflow(),
        requestSize: f.clientRequestSize.overflow(),
        started: f.started.overflow(),
        failed: f.failed.overflow(),
        canceled: f.canceled.overflow(),
        timedout: f.timedout.overflow(),
        noContentLength: f.noContentLength.overflow(),
        getConn: f.getConn.overflow(),
        dns: f.dns.overflow(),
        tls: f.tls.overflow(),
      };
    }
    const t = bb.targets[target];
    const pairs: LabelPairs = [
      ...bb.fixed,
      ['clientname', (bb.fixed[1] as readonly [string, string])[1]],
      ['server.address', t?.hostname ?? ''],
      ['server.port', t?.port ?? 0],
      ['http.response.status_code', status],
    ];
    return {
      duration: f.clientDuration.bind(pairs),
      responseSize: f.clientResponseSize.bind(pairs),
      requestSize: f.clientRequestSize.bind(pairs),
      started: f.started.bind(pairs),
      failed: f.failed.bind(pairs),
      canceled: f.canceled.bind(pairs),
      timedout: f.timedout.bind(pairs),
      noContentLength: f.noContentLength.bind(pairs),
      getConn: f.getConn.bind(pairs),
      dns: f.dns.bind(pairs),
      tls: f.tls.bind(pairs),
    };
  }

  #recordRead(bb: BackendBinding, br: BackendRecord): void {
    const f = this.#families;
    let cells: ReadCells;
    if (br.readError) {
      cells = bb.readErr ??= (() => {
        const pairs: LabelPairs = [...bb.fixed, ['error', true]];
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
