/**
 * KrakenD's Grafana dashboard (grafana.com 20651, read from ../shared/fixtures) against a real
 * Prometheus scraping a real Tollgate: every query returns data, except the Go-runtime panels (no Go
 * here) and the read-size panel whose metric name is stale in KrakenD's own dashboard. The
 * exposition also passes promtool and the strict OpenMetrics parser.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { openMetricsParse, promtoolCheckMetrics, skipUnlessJudge } from '../helpers/judges.js';
import { startGateway } from '../helpers/gateway.js';
import { startPrometheus } from '../helpers/prometheus.js';
import { dashboardUpstream, panelQueries, substituteVariables, type GrafanaPanel } from '../helpers/grafana.js';
import { deadPort, startUpstream } from '../helpers/upstream.js';

const DASHBOARD = join(import.meta.dirname, '../../../shared/fixtures/krakend-dashboards/for-prometheus.json');

/** Grafana's variables, as the dashboard would fill them for our scrape job. */
const VARIABLES: ReadonlyMap<string, string> = new Map([
  ['app', 'tollgate'],
  ['instance', '.*'],
  ['endpoint', '.*'],
  ['__rate_interval', '20s'],
  ['__range_s', '60'],
  ['__range_ms', '60000'],
  ['__range', '1m'],
  ['__interval', '20s'],
  ['interval', '20s'],
  ['max_list', '5'],
]);

function queries(): { title: string; expr: string }[] {
  return panelQueries(JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels?: GrafanaPanel[] });
}

/** Panels that cannot return data from any non-Go gateway, or that query a name KrakenD renamed. */
function knownEmpty(expr: string): string | undefined {
  if (/\bgo_[a-z_]+/.test(expr)) return 'Go runtime panel (Tollgate reports nodejs_* families instead)';
  if (expr.includes('http_client_request_read_size_hist'))
    return "stale name in KrakenD's dashboard (renamed http_client_response_read_size_hist in krakend-otel 2024-03)";
  return undefined;
}

describe('KrakenD Grafana dashboard on a real Prometheus', () => {
  it('every query of for-prometheus.json returns data', async (t) => {
    if (!existsSync(DASHBOARD)) {
      t.skip(`../shared/fixtures is absent (${DASHBOARD}); the dashboard compatibility test needs it`);
      return;
    }
    if (skipUnlessJudge(t, 'prometheus', 'promtool', 'openmetrics')) return;
    const up = await startUpstream(t, dashboardUpstream);
    const dead = `http://127.0.0.1:${await deadPort()}`;
    const gw = await startGateway(t, {
      extra_config: {
        'telemetry/opentelemetry': {
          exporters: {
            prometheus: [{ name: 'local', port: 0, listen_ip: '127.0.0.1', process_metrics: true, go_metrics: true }],
          },
        },
      },
      endpoints: [
        {
          endpoint: '/users/{id}',
          backend: [
            { host: [up.url], url_pattern: '/u/{id}' },
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
        { endpoint: '/slow', timeout: '100ms', backend: [{ host: [up.url], url_pattern: '/slow' }] },
        { endpoint: '/cancel', timeout: '2s', backend: [{ host: [up.url], url_pattern: '/slow' }] },
      ],
    });
    const port = gw.gateway.telemetry.exporters[0]?.address?.port;
    const prom = await startPrometheus(t, {
      scrapeIntervalMs: 500,
      targets: [{ job: 'tollgate', target: `127.0.0.1:${port}`, labels: { app: 'tollgate' } }],
    });

    const traffic = async (): Promise<void> => {
      for (const path of ['/users/1', '/users/2', '/partial', '/slow', '/nope']) {
        const r = await request(`${gw.url}${path}`);
        await r.body.dump();
      }
      const ac = new AbortController();
      const pending = request(`${gw.url}/cancel`, { signal: ac.signal }).catch(() => undefined);
      setTimeout(() => ac.abort(), 30);
      await pending;
    };
    await traffic();
    await prom.waitForScrapes('tollgate', 1);
    // Traffic across several scrapes, so rate() and histogram_quantile() see increases.
    const until = Date.now() + 2_500;
    while (Date.now() < until) await traffic();
    await prom.waitForScrapes('tollgate', 2);

    const empty: string[] = [];
    let checked = 0;
    for (const q of queries()) {
      if (knownEmpty(q.expr) !== undefined) continue;
      const result = await prom.query(substituteVariables(q.expr, VARIABLES, false));
      checked++;
      if (result.length === 0) empty.push(`${q.title}: ${q.expr}`);
    }
    assert.ok(checked > 60, `only ${checked} queries checked`);
    assert.deepEqual(empty, [], `dashboard queries without data:\n${empty.join('\n')}`);
    const targets = await prom.targets();
    assert.equal(targets[0]?.lastError, '');

    const text = await (await request(`http://127.0.0.1:${port}/metrics`)).body.text();
    const promtool = await promtoolCheckMetrics(text);
    assert.ok(promtool.ok, `promtool check metrics: ${promtool.output}`);
    const om = await (
      await request(`http://127.0.0.1:${port}/metrics`, {
        headers: { accept: 'application/openmetrics-text;version=1.0.0' },
      })
    ).body.text();
    const parsed = await openMetricsParse(om);
    assert.ok(parsed.ok, `strict OpenMetrics parser: ${parsed.error ?? ''}`);
  });
});
