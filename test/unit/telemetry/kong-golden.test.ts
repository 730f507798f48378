/** Golden expositions of the Kong families, 3.x and 2.x names, from deterministic request records. */
import { it } from 'node:test';
import { golden } from '../../helpers/golden.js';
import { observedRoutes } from '../../helpers/routes.js';
import { HealthChecker } from '../../../src/backends/health.js';
import { loadConfigValue } from '../../../src/config/load.js';
import { renderPrometheusText } from '../../../src/telemetry/exposition/prometheus-text.js';
import { ConnectionStats } from '../../../src/telemetry/kong/connections.js';
import { KongView } from '../../../src/telemetry/kong/kong-view.js';
import { Outcome, RequestRecord } from '../../../src/telemetry/record.js';
import { MetricStore } from '../../../src/telemetry/store/store.js';

/** The families driven by requests (node-level gauges carry a random node id, a pid and memory). */
const REQUEST_FAMILIES =
  /^(# (HELP|TYPE) )?kong_(http_requests_total|http_status|http_consumer_status|kong_latency_ms|upstream_latency_ms|request_latency_ms|latency|bandwidth_bytes|bandwidth|upstream_target_health)[ _{]/;

function exposition(naming: '3.x' | '2.x'): string {
  const { config } = loadConfigValue(
    {
      version: 3,
      extra_config: {
        'auth/api-keys': { keys: [{ key: 'k1', consumer: 'acme' }] },
        'telemetry/kong-prometheus': {
          naming,
          per_consumer: true,
          status_code_metrics: true,
          latency_metrics: true,
          bandwidth_metrics: true,
          upstream_health_metrics: true,
        },
      },
      endpoints: [
        {
          endpoint: '/users/{id}',
          extra_config: { 'telemetry/kong-prometheus': { route: 'users', service: 'users-svc' } },
          backend: [
            {
              host: ['http://10.0.0.5:8080'],
              url_pattern: '/u/{id}',
              // An Upstream in Kong terms (kong_upstream_target_health lists only those), without checks.
              extra_config: { 'backend/healthcheck': { upstream: 'users-upstream' } },
            },
          ],
        },
      ],
    },
    'golden',
  );
  const store = new MetricStore();
  const routes = observedRoutes(config).map((r) => ({
    ...r,
    backends: r.backends.map((b) => ({
      ...b,
      health: b.config.health === undefined ? undefined : new HealthChecker(b.config.health, b.targets),
    })),
  }));
  const view = new KongView(store, config.kong!, config, routes, new ConnectionStats(), '0.1.0');
  const requests: [number, number, boolean, boolean][] = [
    [200, 12, true, true],
    [200, 40, true, false],
    [401, 1, false, false],
    [502, 30, false, true],
  ];
  for (const [status, ms, answered, withConsumer] of requests) {
    const rec = new RequestRecord('GET', '/users/1', 1000);
    rec.route = 0;
    rec.status = status;
    rec.end = 1000 + ms;
    rec.consumer = withConsumer ? config.apiKeys?.keys.get('k1') : undefined;
    rec.wireIn = 180;
    rec.wireOut = 420;
    if (status !== 401) {
      rec.proxyStart = 1000.4;
      const br = rec.backend(0);
      br.dispatchAt = 1001;
      if (answered) {
        br.headersAt = 1000 + ms - 1;
        br.status = status;
        br.stageComplete = true;
      } else br.outcome = Outcome.Failed;
    }
    view.record(rec);
  }
  return renderPrometheusText(store.snapshot(new Set(['kong'])))
    .split('\n')
    .filter((l) => REQUEST_FAMILIES.test(l))
    .join('\n');
}

it('renders the Kong 3.x families (golden)', () => golden('kong-3x.prom', exposition('3.x')));
it('renders the Kong 2.x families (golden)', () => golden('kong-2x.prom', exposition('2.x')));
