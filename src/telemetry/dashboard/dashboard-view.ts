/**
 * What the live dashboard reads, recorded whatever else is configured: request duration by route,
 * method and status, backend round trip by route and backend, target health, and the slowest recent
 * requests. Families live in the store's `dashboard` group (no exporter serves them), so the
 * dashboard reads the same store — and in a cluster, the same sum over workers — as everything else.
 */
import type { CompiledRoute } from '../../backends/backend-route.js';
import type { GatewayConfig } from '../../config/types.js';
import { Outcome, type RecordSink, type RequestRecord } from '../record.js';
import type { Family } from '../store/family.js';
import type { HistogramCell } from '../store/cells.js';
import type { MetricStore } from '../store/store.js';
import { StatusBudget } from '../store/status-budget.js';
import { epochMs } from '../tracing/time.js';
import { SlowLog } from './slow-log.js';

export const DASHBOARD_GROUP = 'dashboard';
export const REQUESTS = 'tollgate_dashboard_request_duration_seconds';
export const BACKENDS = 'tollgate_dashboard_backend_duration_seconds';
export const HEALTH = 'tollgate_dashboard_target_health';
/** Fine enough for p50/p95/p99 from a few milliseconds to tens of seconds. */
const BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 10, 30,
];
const UNMATCHED = 'unmatched';

interface RouteCells {
  readonly route: string;
  readonly method: string;
  /** Cells by status code, bound on first use; codes past the route's budget share its `other` cell. */
  readonly byStatus: Map<number, HistogramCell>;
  readonly budget: StatusBudget;
  readonly backends: readonly { readonly ok: HistogramCell; readonly error: HistogramCell }[];
}

export class DashboardView implements RecordSink {
  readonly slow = new SlowLog();
  readonly #requests: Family<'histogram'>;
  readonly #routes: RouteCells[];
  readonly #unmatched: Map<string, Map<number, HistogramCell>> = new Map();
  readonly #healthPath: string | undefined;

  constructor(store: MetricStore, config: GatewayConfig, routes: readonly CompiledRoute[]) {
    this.#healthPath = config.healthPath;
    this.#requests = store.histogram(DASHBOARD_GROUP, {
      name: REQUESTS,
      help: 'Live dashboard: gateway request duration by route, method and status.',
      buckets: BUCKETS,
      unit: 'seconds',
    });
    const backends = store.histogram(DASHBOARD_GROUP, {
      name: BACKENDS,
      help: 'Live dashboard: backend round trip (request sent to response headers) by route and backend.',
      buckets: BUCKETS,
      unit: 'seconds',
    });
    this.#routes = routes.map((r) => ({
      route: r.config.path,
      method: r.method,
      byStatus: new Map(),
      budget: new StatusBudget(),
      backends: r.backends.map((b) => {
        // The url_pattern as written, like the route column's endpoint (`/files/{name}`, not KrakenD's `/:name`).
        const base: [string, string][] = [
          ['route', r.config.path],
          ['backend', b.config.urlPattern],
        ];
        return {
          ok: backends.bind([...base, ['outcome', 'ok']]),
          error: backends.bind([...base, ['outcome', 'error']]),
        };
      }),
    }));
    this.#bindHealth(store, routes);
  }

  #bindHealth(store: MetricStore, routes: readonly CompiledRoute[]): void {
    // Unhealthy wins when workers disagree for a moment: `min`.
    const family = store.gauge(DASHBOARD_GROUP, {
      name: HEALTH,
      help: 'Live dashboard: target health (1 healthy, 0 unhealthy, -1 not checked).',
      merge: 'min',
    });
    const cells = routes.flatMap((r) =>
      r.backends.flatMap((b) =>
        b.targets.map((t, ti) => ({
          cell: family.bind([
            ['route', r.config.path],
            ['backend', b.config.urlPattern],
            ['target', t.origin],
          ]),
          checker: b.health,
          ti,
        })),
      ),
    );
    store.addCollector(DASHBOARD_GROUP, () => {
      for (const c of cells)
        c.cell.set(c.checker === undefined || !c.checker.enabled ? -1 : c.checker.state(c.ti) === 'healthy' ? 1 : 0);
    });
  }

  record(rec: RequestRecord): void {
    // Health probes and the built-in /__ endpoints are not traffic an operator watches.
    if (rec.route < 0 && (rec.path === this.#healthPath || rec.path.startsWith('/__'))) return;
    const seconds = Math.max(0, rec.end - rec.start) / 1000;
    const r = rec.route >= 0 ? this.#routes[rec.route] : undefined;
    const t = rec.trace;
    const sampled = t !== undefined && t.sampled;
    const cell = r === undefined ? this.#unmatchedCell(rec.method, rec.status) : this.#cell(r, rec.status);
    if (sampled) cell.observeWithExemplar(seconds, t.traceId, t.rootSpanId, epochMs(rec.end));
    else cell.observe(seconds);
    if (r !== undefined && rec.backends !== undefined) {
      for (let i = 0; i < rec.backends.length; i++) {
        const br = rec.backends[i];
        const cells = r.backends[i];
        if (br === undefined || cells === undefined || br.dispatchAt === 0) continue;
        const end = br.headersAt !== 0 ? br.headersAt : br.stageEnd;
        // The dashboard's one definition of an error, as in its 5xx tiles: no answer, or an answer
        // ≥ 500. (KrakenD's error="true" in /metrics also counts 4xx; the column says which it shows.)
        const failed = br.outcome !== Outcome.Ok || br.status >= 500;
        (failed ? cells.error : cells.ok).observe(Math.max(0, end - br.dispatchAt) / 1000);
      }
    }
    this.slow.offer(rec, r?.route ?? UNMATCHED, seconds, sampled ? t.traceId : undefined);
  }

  #cell(r: RouteCells, status: number): HistogramCell {
    let c = r.byStatus.get(status);
    if (c === undefined) {
      c = this.#requests.bind([
        ['route', r.route],
        ['method', r.method],
        ['status', r.budget.admit(status) ? String(status) : 'other'],
      ]);
      r.byStatus.set(status, c);
    }
    return c;
  }

  #unmatchedCell(method: string, status: number): HistogramCell {
    let m = this.#unmatched.get(method);
    if (m === undefined) {
      m = new Map();
      this.#unmatched.set(method, m);
    }
    let c = m.get(status);
    if (c === undefined) {
      c = this.#requests.bind([
        ['route', UNMATCHED],
        ['method', method],
        ['status', String(status)],
      ]);
      m.set(status, c);
    }
    return c;
  }
}
