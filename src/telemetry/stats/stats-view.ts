/**
 * KrakenD's extended metrics (https://github.com/krakend/krakend-metrics; docs/stats.md) as a view of
 * the request record: router counters and per-endpoint status counts, response size and time (ns)
 * histograms, proxy ("pipe") and backend request counts and latencies split by complete/error. Keys
 * are built once at start-up; a request increments pre-bound objects.
 */
import type { CompiledRoute } from '../../backends/backend-route.js';
import type { GatewayConfig } from '../../config/types.js';
import { paramKey } from '../../config/url-pattern.js';
import type { RecordSink, RequestRecord } from '../record.js';
import { StatusBudget } from '../store/status-budget.js';
import type { StatCounter, StatsRegistry } from './stats-registry.js';
import type { StatsSettings } from '../../config/namespaces/metrics.js';
import type { WindowHistogram } from './window-histogram.js';

/** A backend url_pattern as lura templates it (`/users/{id}` → `/users/{{.Id}}`), KrakenD's `<up>` key. */
export function templatedUrlPattern(pattern: string): string {
  return pattern.replace(/\{([^{}]+)\}/g, (_m, n: string) => `{{.${paramKey(n)}}}`);
}

interface Split {
  readonly requests: readonly StatCounter[];
  readonly latency: readonly WindowHistogram[];
}

function split(reg: StatsRegistry, layer: 'pipe' | 'backend', name: string): Split {
  const requests: StatCounter[] = [];
  const latency: WindowHistogram[] = [];
  for (const complete of [false, true]) {
    for (const error of [false, true]) {
      const suffix = `layer.${layer}.name.${name}.complete.${complete}.error.${error}`;
      requests.push(reg.counter(`krakend.proxy.requests.${suffix}`));
      latency.push(reg.histogram(`krakend.proxy.latency.${suffix}`));
    }
  }
  return { requests, latency };
}

const idx = (complete: boolean, error: boolean): number => (complete ? 2 : 0) + (error ? 1 : 0);

interface RouteCells {
  readonly key: string;
  readonly statuses: (StatCounter | undefined)[];
  /** Which statuses get a key of their own; the rest count under `status.other.count`. */
  readonly budget: StatusBudget;
  readonly size: WindowHistogram | undefined;
  readonly time: WindowHistogram | undefined;
  readonly pipe: Split | undefined;
  readonly backends: readonly (Split | undefined)[];
}

export class StatsView implements RecordSink {
  readonly #reg: StatsRegistry;
  readonly #settings: StatsSettings;
  readonly #routes: RouteCells[];
  readonly connected: StatCounter;
  readonly disconnected: StatCounter;
  readonly #tls: boolean;
  readonly #tlsCounters = new WeakMap<object, StatCounter[]>();

  constructor(reg: StatsRegistry, settings: StatsSettings, config: GatewayConfig, routes: readonly CompiledRoute[]) {
    this.#reg = reg;
    this.#settings = settings;
    this.#tls = config.tls !== undefined;
    this.connected = reg.counter('krakend.router.connected');
    this.disconnected = reg.counter('krakend.router.disconnected');
    for (const k of ['connected-total', 'disconnected-total']) reg.counter(`krakend.router.${k}`);
    for (const k of ['connected-gauge', 'disconnected-gauge']) reg.gauge(`krakend.router.${k}`);
    this.#routes = routes.map((r) => this.#bind(r));
  }

  #bind(route: CompiledRoute): RouteCells {
    const s = this.#settings;
    const key = route.pattern.normalized;
    if (!s.routerDisabled) this.#reg.counter(`krakend.router.response.${key}.status`);
    return {
      key,
      statuses: [],
      budget: new StatusBudget(),
      size: s.routerDisabled ? undefined : this.#reg.histogram(`krakend.router.response.${key}.size`),
      time: s.routerDisabled ? undefined : this.#reg.histogram(`krakend.router.response.${key}.time`),
      pipe: s.proxyDisabled ? undefined : split(this.#reg, 'pipe', key),
      backends: route.backends.map((b) =>
        s.backendDisabled ? undefined : split(this.#reg, 'backend', templatedUrlPattern(b.config.urlPattern)),
      ),
    };
  }

  record(rec: RequestRecord): void {
    if (rec.route < 0) return;
    const r = this.#routes[rec.route] as RouteCells;
    // The router wrapper counts requests to endpoints, not connections
    // (https://github.com/krakend/krakend-metrics/blob/HEAD/router.go).
    if (!this.#settings.routerDisabled) {
      this.connected.value++;
      this.disconnected.value++;
      const status = rec.status;
      const c =
        r.statuses[status] ??
        (r.statuses[status] = this.#reg.counter(
          `krakend.router.response.${r.key}.status.${r.budget.admit(status) ? status : 'other'}.count`,
        ));
      c.value++;
      // gin's Size(): -1 (noWritten) until a body write, as krakend-metrics reads it before gin
      // flushes the head (krakend-metrics gin/metrics.go:111-115, gin response_writer.go:16,102-104).
      r.size?.update(rec.bytesOut > 0 ? rec.bytesOut : -1);
      r.time?.update(Math.round((rec.end - rec.start) * 1e6));
      if (this.#tls) this.#recordTls(rec);
    }
    if (rec.proxyStart === 0) return;
    if (r.pipe !== undefined) {
      const i = idx(rec.proxyComplete, rec.proxyError);
      (r.pipe.requests[i] as StatCounter).value++;
      (r.pipe.latency[i] as WindowHistogram).update(Math.round((rec.proxyEnd - rec.proxyStart) * 1e6));
    }
    const brs = rec.backends;
    if (brs === undefined) return;
    for (let i = 0; i < brs.length; i++) {
      const br = brs[i];
      const b = r.backends[i];
      if (br === undefined || b === undefined || br.stageStart === 0) continue;
      const j = idx(br.stageComplete, br.stageError);
      (b.requests[j] as StatCounter).value++;
      (b.latency[j] as WindowHistogram).update(Math.round((br.stageEnd - br.stageStart) * 1e6));
    }
  }

  /** TLS version and cipher are fixed per connection: their counters are found once per connection. */
  #recordTls(rec: RequestRecord): void {
    const conn = rec.connection;
    if (conn === undefined) return;
    let counters = this.#tlsCounters.get(conn);
    if (counters === undefined) {
      counters = [];
      if (conn.tlsVersion !== undefined)
        counters.push(this.#reg.counter(`krakend.router.tls_version.${goTlsName(conn.tlsVersion)}.count`));
      if (conn.tlsCipher !== undefined)
        counters.push(this.#reg.counter(`krakend.router.tls_cipher.${conn.tlsCipher}.count`));
      this.#tlsCounters.set(conn, counters);
    }
    for (const c of counters) c.value++;
  }
}

/** Node's `TLSv1.3` as Go's constant name `VersionTLS13`, the form the keys use. */
function goTlsName(v: string): string {
  const m = /^TLSv1(?:\.(\d))?$/.exec(v);
  return m === null ? v : `VersionTLS1${m[1] ?? '0'}`;
}
