/** The backend stage's reports to the health checker follow Kong's passive counting. */
import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { Outcome } from '../../../src/backends/outcome.js';
import { HealthChecker } from '../../../src/backends/health.js';
import { reportExchange, type ExchangeFacts } from '../../../src/backends/passive-health.js';
import { parseHealthSettings } from '../../../src/config/namespaces/healthcheck.js';

function checker(passive: object): HealthChecker {
  const settings = parseHealthSettings({ passive });
  assert.ok(settings !== undefined);
  return new HealthChecker(settings, [{ origin: 'http://10.0.0.1:80', hostname: '10.0.0.1', port: 80 }]);
}

const sent = (outcome: Outcome, status = 0): ExchangeFacts => ({
  target: 0,
  dispatchAt: 1,
  headersAt: status === 0 ? 0 : 2,
  status,
  outcome,
});

it('counts unhealthy statuses, timeouts and connection failures toward their thresholds', () => {
  const h = checker({ unhealthy: { http_failures: 2, timeouts: 1, tcp_failures: 1 } });
  reportExchange(h, sent(Outcome.Ok, 500));
  assert.equal(h.state(0), 'healthy');
  reportExchange(h, sent(Outcome.Ok, 500));
  assert.equal(h.state(0), 'unhealthy');

  const t = checker({ unhealthy: { timeouts: 1 } });
  reportExchange(t, sent(Outcome.TimedOut));
  assert.equal(t.state(0), 'unhealthy');

  const c = checker({ unhealthy: { tcp_failures: 1 } });
  reportExchange(c, sent(Outcome.Failed));
  assert.equal(c.state(0), 'unhealthy');
});

it('a healthy status clears the failure count; cancelled or unsent exchanges count for nothing', () => {
  const h = checker({ unhealthy: { http_failures: 2, tcp_failures: 1 } });
  reportExchange(h, sent(Outcome.Ok, 500));
  reportExchange(h, sent(Outcome.Ok, 200));
  reportExchange(h, sent(Outcome.Ok, 500));
  assert.equal(h.state(0), 'healthy', 'the 200 in between reset the count');
  reportExchange(h, sent(Outcome.Canceled));
  reportExchange(h, { ...sent(Outcome.Failed), dispatchAt: 0 });
  assert.equal(h.state(0), 'healthy');
  reportExchange(h, sent(Outcome.Ok, 500));
  assert.equal(h.state(0), 'unhealthy');
});
