/**
 * Tollgate's own Grafana dashboards (dashboards/*.json) against a real Prometheus scraping real
 * Tollgates: every target of every panel returns data once Grafana's variables are filled in, and
 * every variable's picker lists values. One gateway runs in-process with every telemetry feature the
 * dashboards read (KrakenD-style OTel families with the runtime families, Kong families with a
 * consumer and a health-checked upstream, an OTLP trace exporter); a `tollgate run` primary adds the
 * cluster self-metrics, which only a primary has. The structural checks (one datasource variable,
 * every variable defined, no Go or stale names, every panel of KrakenD's dashboard kept) need no
 * Prometheus.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { freePort, startCli, waitForHttp, writeConfig } from '../helpers/cli.js';
import { startGateway } from '../helpers/gateway.js';
import { skipUnlessJudge } from '../helpers/judges.js';
import { startOtlpReceiver } from '../helpers/otlp-receiver.js';
import { startPrometheus } from '../helpers/prometheus.js';
import {
  allPanels,
  dashboardUpstream,
  panelQueries,
  substituteVariables,
  type GrafanaPanel,
} from '../helpers/grafana.js';
import { deadPort, startUpstream } from '../helpers/upstream.js';

const DASHBOARDS = join(import.meta.dirname, '../../dashboards');
const KRAKEND_ORIGINAL = join(import.meta.dirname, '../../../shared/fixtures/krakend-dashboards/for-prometheus.json');
const FILES = ['tollgate-krakend.json', 'tollgate-kong.json'] as const;

interface Variable {
  readonly name: string;
  readonly type: string;
  readonly definition?: string;
  readonly query?: unknown;
  readonly includeAll?: boolean;
  readonly allValue?: string;
  readonly current?: { readonly value?: unknown };
}
interface Dashboard {
  readonly uid?: string;
  readonly title?: string;
  readonly panels?: readonly GrafanaPanel[];
  readonly templating?: { readonly list?: readonly Variable[] };
}

interface Query {
  readonly file: string;
  readonly title: string;
  readonly expr: string;
  /** For a variable's query: the label whose values the picker lists. */
  readonly label?: string;
}

function load(file: string): Dashboard {
  return JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as Dashboard;
}

function queries(file: string, d: Dashboard): Query[] {
  return panelQueries(d).map((q) => ({ file, ...q }));
}

/** Grafana's own variables, as a dashboard over the last minutes would fill them. */
const BUILTINS: Readonly<Record<string, string>> = {
  __rate_interval: '1m',
  __interval: '1m',
  __interval_ms: '60000',
  __range: '1m',
  __range_s: '60',
  __range_ms: '60000',
};

/**
 * What Grafana puts in for each template variable: a concrete value where the test knows one (the
 * `app` label of our scrape jobs), the current value of custom variables, and the "All" value
 * (`.*`) of query variables. The datasource variable never appears in an expression.
 */
function variableValues(d: Dashboard, concrete: Readonly<Record<string, string>>): Map<string, string> {
  const values = new Map(Object.entries(BUILTINS));
  for (const v of d.templating?.list ?? []) {
    const fixed = concrete[v.name];
    if (fixed !== undefined) values.set(v.name, fixed);
    else if (v.type === 'custom' && typeof v.current?.value === 'string') values.set(v.name, v.current.value);
    else if (v.type === 'query' && v.includeAll === true) values.set(v.name, v.allValue ?? '.*');
  }
  return values;
}

function substitute(expr: string, values: ReadonlyMap<string, string>): string {
  return substituteVariables(expr, values);
}

/**
 * A query variable's `label_values(selector, label)` as PromQL that returns one series per value, so a
 * picker that would list nothing (a wrong metric or label name) shows up as an empty result.
 */
function variableQueries(file: string, d: Dashboard): Query[] {
  return (d.templating?.list ?? []).flatMap((v) => {
    if (v.type !== 'query') return [];
    const m = /^label_values\((.+),\s*(\w+)\)$/.exec(v.definition ?? '');
    if (m?.[1] === undefined || m[2] === undefined)
      throw new Error(`${file}: variable ${v.name}: unexpected query ${v.definition ?? ''}`);
    return [{ file, title: `variable $${v.name}`, expr: `count by (${m[2]}) (${m[1]})`, label: m[2] }];
  });
}

describe('Grafana dashboards (dashboards/)', () => {
  it('import cleanly: a datasource variable everywhere, unique ids, every variable defined', () => {
    for (const file of FILES) {
      const text = readFileSync(join(DASHBOARDS, file), 'utf8');
      const d = JSON.parse(text) as Dashboard & { __inputs?: unknown };
      assert.equal(d.__inputs, undefined, `${file}: no __inputs, so file provisioning needs no substitution`);
      assert.ok(!text.includes('DS_PROMETHEUS'), `${file}: stale DS_PROMETHEUS reference`);
      assert.match(d.uid ?? '', /^tollgate-/);
      const vars = d.templating?.list ?? [];
      const ds = vars.find((v) => v.type === 'datasource');
      assert.deepEqual([ds?.name, ds?.query], ['datasource', 'prometheus'], `${file}: datasource variable`);
      const panels = allPanels(d);
      const ids = panels.map((p) => p.id);
      assert.equal(new Set(ids).size, ids.length, `${file}: duplicate panel ids`);
      for (const p of panels.filter((x) => x.type !== 'row')) {
        assert.ok((p.targets ?? []).length > 0, `${file}: "${p.title ?? ''}" has no query`);
        assert.equal(p.datasource?.uid, '${datasource}', `${file}: "${p.title ?? ''}" panel datasource`);
        for (const t of p.targets ?? [])
          assert.equal(t.datasource?.uid, '${datasource}', `${file}: "${p.title ?? ''}" target datasource`);
      }
      const values = variableValues(d, { app: 'tollgate' });
      for (const q of queries(file, d)) assert.doesNotThrow(() => substitute(q.expr, values), `${file}: "${q.title}"`);
      for (const v of vars)
        if (v.type === 'query')
          assert.doesNotThrow(() => substitute(JSON.stringify(v.query), values), `${file}: variable ${v.name}`);
    }
  });

  it('tollgate-krakend.json keeps every non-Go panel of KrakenD 20651 and fixes its stale names', (t) => {
    if (!existsSync(KRAKEND_ORIGINAL)) {
      t.skip(`../shared/fixtures is absent (${KRAKEND_ORIGINAL}); cannot compare with KrakenD's dashboard`);
      return;
    }
    const original = JSON.parse(readFileSync(KRAKEND_ORIGINAL, 'utf8')) as Dashboard;
    const ours = load('tollgate-krakend.json');
    const goPanel = (p: GrafanaPanel): boolean => (p.targets ?? []).some((x) => /\bgo_[a-z_]+/.test(x.expr ?? ''));
    const kept = allPanels(original).filter((p) => !goPanel(p) && !(p.type === 'row' && p.title === 'Application'));
    const ourIds = new Set(allPanels(ours).map((p) => p.id));
    assert.deepEqual(
      kept.filter((p) => !ourIds.has(p.id)).map((p) => p.title),
      [],
      'panels of the original that were dropped',
    );
    const exprs = queries('tollgate-krakend.json', ours).map((q) => q.expr);
    assert.deepEqual(
      exprs.filter((e) => /\bgo_[a-z_]+/.test(e)),
      [],
      'no Go runtime queries',
    );
    assert.deepEqual(
      exprs.filter((e) => e.includes('http_client_request_read_size_hist')),
      [],
      'stale read-size name',
    );
    assert.ok(exprs.some((e) => e.includes('http_client_response_read_size_hist_sum')));
    assert.deepEqual(
      exprs.filter((e) => /\bdelta\(/.test(e)),
      [],
      'delta() is for gauges; every family here is a counter or histogram',
    );
    for (const family of [
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_gc_duration_seconds_bucket',
      'nodejs_active_handles',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'process_open_fds',
      'tollgate_cluster_workers',
      'tollgate_cluster_worker_restarts_total',
      'tollgate_telemetry_spans_total',
    ]) {
      assert.ok(
        exprs.some((e) => e.includes(family)),
        `a panel queries ${family}`,
      );
    }
  });

  it('every query of both dashboards returns data from a real Prometheus', async (t) => {
    if (skipUnlessJudge(t, 'prometheus')) return;
    const up = await startUpstream(t, dashboardUpstream);
    const dead = `http://127.0.0.1:${await deadPort()}`;
    const rx = await startOtlpReceiver(t, { grpc: false });

    // The cluster self-metrics exist only in a `tollgate run` primary: start one next to the in-process gateway.
    const [clusterPort, clusterMetricsPort] = [await freePort(), await freePort()];
    const clusterFile = writeConfig({
      version: 3,
      port: clusterPort,
      listen_ip: '127.0.0.1',
      workers: 1,
      extra_config: {
        'telemetry/opentelemetry': {
          service_name: 'tollgate-cluster',
          exporters: {
            prometheus: [
              {
                name: 'local',
                port: clusterMetricsPort,
                listen_ip: '127.0.0.1',
                process_metrics: true,
                go_metrics: true,
              },
            ],
          },
        },
      },
      endpoints: [{ endpoint: '/c', backend: [{ host: [up.url], url_pattern: '/u/1' }] }],
    });
    const cluster = startCli(t, ['run', '-c', clusterFile, '--log-level', 'warn', '--drain-timeout', '1000']);

    const health = {
      upstream: 'users-pool',
      active: { http_path: '/health', interval: 0.2, healthy: { successes: 1 }, unhealthy: { http_failures: 1 } },
    };
    const gw = await startGateway(t, {
      extra_config: {
        'telemetry/opentelemetry': {
          service_name: 'tollgate-dashboards',
          exporters: {
            prometheus: [{ name: 'local', port: 0, listen_ip: '127.0.0.1', process_metrics: true, go_metrics: true }],
            otlp: [{ name: 'collector', host: rx.httpUrl, use_http: true, disable_metrics: true }],
          },
        },
        'telemetry/kong-prometheus': {
          status_code_metrics: true,
          latency_metrics: true,
          bandwidth_metrics: true,
          upstream_health_metrics: true,
          per_consumer: true,
          listen_address: '127.0.0.1:0',
        },
        'auth/api-keys': { keys: [{ key: 'acme-key-1', consumer: 'acme' }] },
      },
      endpoints: [
        {
          endpoint: '/users/{id}',
          extra_config: { 'telemetry/kong-prometheus': { route: 'users', service: 'users-svc' } },
          backend: [
            { host: [up.url], url_pattern: '/u/{id}', extra_config: { 'backend/healthcheck': health } },
            { host: [up.url], url_pattern: '/chunked', group: 'c' },
          ],
        },
        {
          endpoint: '/partial',
          backend: [
            { host: [up.url], url_pattern: '/u/1' },
            { host: [up.url], url_pattern: '/down' },
            { host: [dead], url_pattern: '/x' },
          ],
        },
        { endpoint: '/broken', backend: [{ host: [up.url], url_pattern: '/down' }] },
        { endpoint: '/slow', timeout: '100ms', backend: [{ host: [up.url], url_pattern: '/slow' }] },
        { endpoint: '/cancel', timeout: '2s', backend: [{ host: [up.url], url_pattern: '/slow' }] },
        {
          endpoint: '/keyed',
          extra_config: { 'auth/api-keys': {} },
          backend: [{ host: [up.url], url_pattern: '/u/2' }],
        },
      ],
    });
    const otelPort = gw.gateway.telemetry.exporters[0]?.address?.port;
    const kongPort = gw.gateway.telemetry.kongStatus?.address?.port;
    await waitForHttp(`http://127.0.0.1:${clusterMetricsPort}/metrics`, 20_000).catch((err: unknown) => {
      throw new Error(`tollgate run did not serve /metrics: ${String(err)}\n${cluster.output()}`);
    });
    const prom = await startPrometheus(t, {
      scrapeIntervalMs: 500,
      targets: [
        { job: 'tollgate', target: `127.0.0.1:${otelPort}`, labels: { app: 'tollgate' } },
        { job: 'tollgate-kong', target: `127.0.0.1:${kongPort}` },
        { job: 'tollgate-cluster', target: `127.0.0.1:${clusterMetricsPort}`, labels: { app: 'tollgate' } },
      ],
    });

    const get = async (url: string, headers: Record<string, string> = {}): Promise<void> => {
      await (await request(url, { headers })).body.dump();
    };
    const traffic = async (): Promise<void> => {
      for (const path of ['/users/1', '/users/2', '/partial', '/broken', '/slow', '/nope', '/keyed'])
        await get(`${gw.url}${path}`);
      await get(`${gw.url}/keyed`, { authorization: 'Bearer acme-key-1' });
      await get(`http://127.0.0.1:${clusterPort}/c`);
      const ac = new AbortController();
      const pending = request(`${gw.url}/cancel`, { signal: ac.signal }).catch(() => undefined);
      setTimeout(() => ac.abort(), 30);
      await pending;
    };
    await traffic();
    await prom.waitForScrapes('tollgate', 1);
    // Traffic across several scrapes, so rate(), increase() and histogram_quantile() see increases.
    const until = Date.now() + 2_500;
    while (Date.now() < until) await traffic();
    for (const job of ['tollgate', 'tollgate-kong', 'tollgate-cluster']) await prom.waitForScrapes(job, 2);

    const empty: string[] = [];
    const checked: Record<string, number> = {};
    for (const file of FILES) {
      const d = load(file);
      const values = variableValues(d, { app: 'tollgate' });
      for (const q of [...variableQueries(file, d), ...queries(file, d)]) {
        const result = await prom.query(substitute(q.expr, values));
        checked[file] = (checked[file] ?? 0) + 1;
        const label = q.label;
        const data = label === undefined ? result.length > 0 : result.some((r) => (r.metric[label] ?? '') !== '');
        if (!data) empty.push(`${file} "${q.title}": ${q.expr}`);
      }
    }
    assert.ok(
      (checked['tollgate-krakend.json'] ?? 0) > 90,
      `only ${checked['tollgate-krakend.json'] ?? 0} KrakenD-dashboard queries checked`,
    );
    assert.ok(
      (checked['tollgate-kong.json'] ?? 0) > 40,
      `only ${checked['tollgate-kong.json'] ?? 0} Kong-dashboard queries checked`,
    );
    assert.deepEqual(empty, [], `dashboard queries without data:\n${empty.join('\n')}`);
    for (const target of await prom.targets())
      assert.equal(target.lastError, '', `${target.scrapePool}: ${target.lastError}`);
  });
});
