/**
 * Kong's Prometheus plugin (https://developer.konghq.com/plugins/prometheus/, its exporter
 * https://github.com/Kong/kong/blob/master/kong/plugins/prometheus/exporter.lua; docs/kong.md) as a
 * view of the request record: 3.x families (or the 2.x names), labels in Kong's declared order,
 * Kong's buckets, latencies in milliseconds as Kong defines them — Kong latency until the request is
 * handed to the upstream (the whole time for a gateway-generated response), upstream latency until
 * its first byte, request latency in total.
 * Requests that match no endpoint are never counted, as in Kong.
 */
import { randomUUID } from 'node:crypto';
import type { CompiledRoute } from '../../backends/backend-route.js';
import type { GatewayConfig } from '../../config/types.js';
import type { CounterCell, GaugeCell, HistogramCell } from '../store/cells.js';
import type { Family, GaugeMerge } from '../store/family.js';
import type { LabelPairs } from '../store/labels.js';
import type { MetricStore } from '../store/store.js';
import { StatusBudget } from '../store/status-budget.js';
import { Outcome, type RequestRecord, type RecordSink } from '../record.js';
import type { ConnectionStats } from './connections.js';
import type { KongSettings } from '../../config/namespaces/kong.js';

/** nginx's NGX_HTTP_CLIENT_CLOSED_REQUEST. */
const CLIENT_CLOSED_REQUEST = 499;
const KONG_LATENCY_BUCKETS = [1, 2, 5, 7, 10, 15, 20, 30, 50, 75, 100, 200, 500, 750, 1000, 3000, 6000];
const UPSTREAM_LATENCY_BUCKETS = [25, 50, 80, 100, 250, 400, 700, 1000, 2000, 5000, 10000, 30000, 60000];
const LEGACY_BUCKETS = [
  1, 2, 5, 7, 10, 15, 20, 25, 30, 40, 50, 60, 70, 80, 90, 100, 200, 300, 400, 500, 1000, 2000, 5000, 10000, 30000,
  60000,
];

interface RouteCells {
  readonly service: string;
  readonly route: string;
  /** [status][source * (consumers + 1) + consumer slot] */
  readonly codes: (CounterCell | undefined)[][];
  /** 2.x `kong_http_consumer_status`: [status][consumer index] */
  readonly consumerCodes: (CounterCell | undefined)[][];
  /** Which statuses get `code` series of their own (the rest share the family's overflow series). */
  readonly statuses: StatusBudget;
  kong?: HistogramCell;
  upstream?: HistogramCell;
  request?: HistogramCell;
  ingress?: CounterCell;
  egress?: CounterCell;
  /** 3.x with per_consumer: [consumer index] → [ingress, egress] cells with the consumer label. */
  readonly consumerBandwidth: ([CounterCell, CounterCell] | undefined)[];
  bandwidth?: Family<'counter'>;
}

export class KongView implements RecordSink {
  /** One id for the node: cluster workers share the primary's (TOLLGATE_NODE_ID), as nginx workers share Kong's. */
  readonly nodeId: string;
  readonly #routes: RouteCells[];
  readonly #legacy: boolean;
  readonly #requests: Family<'counter'> | undefined;
  readonly #consumerStatus: Family<'counter'> | undefined;
  readonly #perConsumer: boolean;
  readonly #slots: number;

  constructor(
    store: MetricStore,
    settings: KongSettings,
    config: GatewayConfig,
    routes: readonly CompiledRoute[],
    connections: ConnectionStats,
    version: string,
  ) {
    this.nodeId = settings.nodeId ?? randomUUID();
    this.#legacy = settings.naming === '2.x';
    const legacy = this.#legacy;
    this.#perConsumer = settings.perConsumer;
    // Consumer label values come from the configured API keys only (a bounded set), slot 0 = none.
    this.#slots =
      (config.apiKeys === undefined ? 0 : new Set([...config.apiKeys.keys.values()].map((c) => c.name)).size) + 1;
    // Every label value comes from the config (routes, services, consumers) or a closed set (status,
    // source, direction), so the limit scales with the config instead of cutting 100 routes × 50
    // consumers short; overflow, if any, shows in kong_nginx_metric_errors_total.
    const seriesLimit = Math.min(200_000, Math.max(2_000, routes.length * (this.#slots + 1) * 8));
    const kong = { declaredOrder: true, seriesLimit } as const;
    const ctr = (name: string, help: string, total = true): Family<'counter'> =>
      store.counter('kong', { name, help, ...kong, noTotalSuffix: !total });
    const hist = (name: string, help: string, buckets: readonly number[]): Family<'histogram'> =>
      store.histogram('kong', { name, help, buckets, ...kong });
    const gauge = (name: string, help: string, merge: GaugeMerge = 'max'): Family<'gauge'> =>
      store.gauge('kong', { name, help, ...kong, merge });

    const statusOn = legacy || settings.statusCodeMetrics;
    const latencyOn = legacy || settings.latencyMetrics;
    const bandwidthOn = legacy || settings.bandwidthMetrics;
    this.#requests = statusOn
      ? legacy
        ? ctr('kong_http_status', 'HTTP status codes per service/route in Kong', false)
        : ctr('kong_http_requests', 'HTTP status codes per consumer/service/route in Kong')
      : undefined;
    this.#consumerStatus =
      legacy && settings.perConsumer
        ? ctr('kong_http_consumer_status', 'HTTP status codes for customer per service/route in Kong', false)
        : undefined;
    const kongLatency =
      latencyOn && !legacy
        ? hist(
            'kong_kong_latency_ms',
            'Latency added by Kong and enabled plugins for each service/route in Kong',
            KONG_LATENCY_BUCKETS,
          )
        : undefined;
    const upstreamLatency =
      latencyOn && !legacy
        ? hist(
            'kong_upstream_latency_ms',
            'Latency added by upstream response for each service/route in Kong',
            UPSTREAM_LATENCY_BUCKETS,
          )
        : undefined;
    const requestLatency =
      latencyOn && !legacy
        ? hist(
            'kong_request_latency_ms',
            'Total latency incurred during requests for each service/route in Kong',
            UPSTREAM_LATENCY_BUCKETS,
          )
        : undefined;
    const legacyLatency = legacy
      ? hist(
          'kong_latency',
          'Latency added by Kong, total request time and upstream latency for each service/route in Kong',
          LEGACY_BUCKETS,
        )
      : undefined;
    const bandwidth = bandwidthOn
      ? legacy
        ? ctr('kong_bandwidth', 'Total bandwidth in bytes consumed per service/route in Kong', false)
        : ctr('kong_bandwidth_bytes', 'Total bandwidth (ingress/egress) throughput in bytes', false)
      : undefined;

    this.#routes = routes.map(({ config: ep, backends }) => {
      const first = backends[0]?.targets[0];
      const service = ep.kong?.service ?? first?.hostname ?? '';
      const route = ep.kong?.route ?? ep.path;
      const base: LabelPairs = [
        ['service', service],
        ['route', route],
      ];
      const r: RouteCells = {
        service,
        route,
        codes: [],
        consumerCodes: [],
        statuses: new StatusBudget(),
        consumerBandwidth: [],
      };
      const ws: LabelPairs = legacy ? [] : [['workspace', 'default']];
      if (kongLatency !== undefined) r.kong = kongLatency.bind([...base, ...ws]);
      if (upstreamLatency !== undefined) r.upstream = upstreamLatency.bind([...base, ...ws]);
      if (requestLatency !== undefined) r.request = requestLatency.bind([...base, ...ws]);
      if (legacyLatency !== undefined) {
        r.kong = legacyLatency.bind([...base, ['type', 'kong']]);
        r.upstream = legacyLatency.bind([...base, ['type', 'upstream']]);
        r.request = legacyLatency.bind([...base, ['type', 'request']]);
      }
      if (bandwidth !== undefined) {
        const dir = legacy ? 'type' : 'direction';
        r.bandwidth = bandwidth;
        r.ingress = bandwidth.bind([
          ...base,
          [dir, 'ingress'],
          ...ws,
          ...(legacy ? [] : ([['consumer', '']] as LabelPairs)),
        ]);
        r.egress = bandwidth.bind([
          ...base,
          [dir, 'egress'],
          ...ws,
          ...(legacy ? [] : ([['consumer', '']] as LabelPairs)),
        ]);
      }
      return r;
    });

    // Node-level gauges, refreshed at scrape time (Kong's worker-local storage).
    const connections0 = legacy
      ? gauge('kong_nginx_http_current_connections', 'Number of HTTP connections', 'sum')
      : gauge('kong_nginx_connections_total', 'Number of connections by subsystem', 'sum');
    const state = (s: string): GaugeCell =>
      connections0.bind(
        legacy
          ? [['state', s]]
          : [
              ['node_id', this.nodeId],
              ['subsystem', 'http'],
              ['state', s],
            ],
      );
    const conn = {
      accepted: state('accepted'),
      active: state('active'),
      handled: state('handled'),
      reading: state('reading'),
      total: state('total'),
      waiting: state('waiting'),
      writing: state('writing'),
    };
    const requestsTotal = legacy
      ? undefined
      : gauge('kong_nginx_requests_total', 'Number of requests total', 'sum').bind([
          ['node_id', this.nodeId],
          ['subsystem', 'http'],
        ]);
    gauge('kong_datastore_reachable', 'Datastore reachable from Kong, 0 is unreachable').bind([]).set(1);
    if (!legacy)
      gauge('kong_node_info', 'Kong Node metadata information')
        .bind([
          ['node_id', this.nodeId],
          ['version', version],
        ])
        .set(1);
    const lua = gauge('kong_memory_workers_lua_vms_bytes', 'Allocated bytes in worker Lua VM').bind([
      ...(legacy ? [] : ([['node_id', this.nodeId]] as LabelPairs)),
      ['pid', String(process.pid)],
      ['kong_subsystem', 'http'],
    ]);
    const errors = store
      .counter('kong', { name: 'kong_nginx_metric_errors', help: 'Number of nginx-lua-prometheus errors', ...kong })
      .bind([]);
    const refreshHealth = legacy || settings.upstreamHealthMetrics ? this.#bindHealth(gauge, routes) : undefined;
    const families = store.families(new Set(['kong']));
    store.addCollector('kong', () => {
      conn.accepted.set(connections.accepted);
      conn.handled.set(connections.accepted);
      conn.active.set(connections.active);
      conn.writing.set(connections.inFlight);
      conn.waiting.set(Math.max(0, connections.active - connections.inFlight));
      conn.reading.set(0);
      conn.total.set(connections.requests);
      requestsTotal?.set(connections.requests);
      lua.set(process.memoryUsage().heapUsed);
      refreshHealth?.();
      // Series refused by a family's series limit are this exporter's "metric errors".
      errors.value = families.reduce((n, f) => n + f.overflowed, 0);
    });
  }

  /**
   * One series per (upstream, target, state), one-hot; refreshed from the checkers at scrape time.
   * Kong lists the targets of its Upstream entities only (exporter.lua walks `get_all_upstreams()`,
   * kong/plugins/prometheus/exporter.lua:492-524); a backend is one when it has `backend/healthcheck`.
   * A host used without one is a plain Service host in Kong terms and has no row.
   */
  #bindHealth(gauge: (name: string, help: string) => Family<'gauge'>, routes: readonly CompiledRoute[]): () => void {
    const family = gauge(
      'kong_upstream_target_health',
      'Health status of targets of upstream. States = healthchecks_off|healthy|unhealthy|dns_error, value is 1 when state is populated.',
    );
    const seen = new Set<string>();
    const rows: { cells: Record<string, GaugeCell>; state: () => string }[] = [];
    routes.forEach((r) =>
      r.backends.forEach((b) => {
        const checker = b.health;
        if (checker === undefined) return;
        b.targets.forEach((t, ti) => {
          const target = `${t.hostname}:${t.port}`;
          const upstream = b.config.health?.upstream ?? t.hostname;
          const key = `${upstream}\u0000${target}`;
          if (seen.has(key)) return;
          seen.add(key);
          const cells: Record<string, GaugeCell> = {};
          for (const state of ['healthchecks_off', 'healthy', 'unhealthy', 'dns_error']) {
            cells[state] = family.bind([
              ['upstream', upstream],
              ['target', target],
              ['address', target],
              ['state', state],
              ['subsystem', 'http'],
            ]);
          }
          rows.push({
            cells,
            // An Upstream without checks reports its targets as healthchecks_off
            // (kong/runloop/balancer/healthcheckers.lua:331-335), unless their name does not resolve.
            state: () =>
              checker.enabled || checker.state(ti) === 'dns_error' ? checker.state(ti) : 'healthchecks_off',
          });
        });
      }),
    );
    return () => {
      for (const row of rows) {
        const current = row.state();
        for (const [state, cell] of Object.entries(row.cells)) cell.set(state === current ? 1 : 0);
      }
    };
  }

  record(rec: RequestRecord): void {
    if (rec.route < 0) return;
    const r = this.#routes[rec.route] as RouteCells;
    const first = rec.backends?.[0];
    const dispatched = first !== undefined && first.dispatchAt !== 0 ? first.dispatchAt : 0;
    // nginx records 499 for a client that left before the response head (ngx_http_terminate_request
    // sets it when nothing was sent); Kong had already marked the request proxied
    // (kong/init.lua:1246 KONG_PROXIED before the upstream call), so its source is the service.
    const status = rec.aborted ? CLIENT_CLOSED_REQUEST : rec.status;
    const fromService = rec.aborted || answeredByBackend(rec);
    const consumer = this.#perConsumer ? rec.consumer : undefined;
    if (this.#requests !== undefined) {
      const slot = (fromService ? this.#slots : 0) + (consumer === undefined || this.#legacy ? 0 : consumer.index + 1);
      const byCode = r.codes[status] ?? (r.codes[status] = []);
      const cell =
        byCode[slot] ??
        (byCode[slot] = !admits(r, status)
          ? this.#requests.overflow()
          : this.#legacy
            ? this.#requests.bind([
                ['service', r.service],
                ['route', r.route],
                ['code', String(status)],
              ])
            : this.#requests.bind([
                ['service', r.service],
                ['route', r.route],
                ['code', String(status)],
                ['source', fromService ? 'service' : 'kong'],
                ['workspace', 'default'],
                ['consumer', consumer?.name ?? ''],
              ]));
      cell.add(1);
    }
    if (this.#consumerStatus !== undefined && consumer !== undefined) {
      const byCode = r.consumerCodes[status] ?? (r.consumerCodes[status] = []);
      const cell =
        byCode[consumer.index] ??
        (byCode[consumer.index] = !admits(r, status)
          ? this.#consumerStatus.overflow()
          : this.#consumerStatus.bind([
              ['service', r.service],
              ['route', r.route],
              ['code', String(status)],
              ['consumer', consumer.name],
            ]));
      cell.add(1);
    }
    if (r.kong !== undefined) {
      r.kong.observe(Math.round((dispatched !== 0 ? dispatched : rec.end) - rec.start));
      r.request?.observe(Math.round(rec.end - rec.start));
      if (first !== undefined && first.headersAt !== 0)
        r.upstream?.observe(Math.round(first.headersAt - first.dispatchAt));
    }
    if (r.ingress !== undefined) {
      let ingress = r.ingress;
      let egress = r.egress;
      if (consumer !== undefined && !this.#legacy && r.bandwidth !== undefined) {
        const family = r.bandwidth;
        const pair =
          r.consumerBandwidth[consumer.index] ??
          (r.consumerBandwidth[consumer.index] = (['ingress', 'egress'] as const).map((d) =>
            family.bind([
              ['service', r.service],
              ['route', r.route],
              ['direction', d],
              ['workspace', 'default'],
              ['consumer', consumer.name],
            ]),
          ) as [CounterCell, CounterCell]);
        [ingress, egress] = pair;
      }
      // Bytes of the client connection for this request (gateway: ClientConnections.settle).
      if (rec.wireIn > 0) ingress.add(rec.wireIn);
      if (rec.wireOut > 0) egress?.add(rec.wireOut);
    }
  }
}

/** 499 is Kong's own code, always a series of its own; backend-made codes go through the route's budget. */
function admits(r: RouteCells, status: number): boolean {
  return status === CLIENT_CLOSED_REQUEST || r.statuses.admit(status);
}

/** Kong's `source`: the response came from a backend (a no-op answer, or a merged one with a complete backend). */
function answeredByBackend(rec: RequestRecord): boolean {
  const brs = rec.backends;
  if (brs === undefined) return false;
  for (const b of brs)
    if (b.headersAt !== 0 && b.outcome === Outcome.Ok && (b.stageComplete || brs.length === 1)) return true;
  return false;
}
