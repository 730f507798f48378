import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { DashboardModel, quantile } from '../../../src/telemetry/dashboard/dashboard-model.js';
import { BACKENDS, DASHBOARD_GROUP, REQUESTS } from '../../../src/telemetry/dashboard/dashboard-view.js';
import { MetricStore } from '../../../src/telemetry/store/store.js';

it('interpolates quantiles inside buckets as histogram_quantile does', () => {
  const bounds = Float64Array.from([0.1, 0.2, 0.4]);
  assert.equal(quantile(0.5, bounds, [0, 0, 0, 0]), null);
  // 10 observations in (0.1, 0.2]: the median is half-way through that bucket.
  assert.ok(Math.abs((quantile(0.5, bounds, [0, 10, 0, 0]) as number) - 0.15) < 1e-12);
  assert.ok(Math.abs((quantile(0.99, bounds, [90, 0, 10, 0]) as number) - 0.38) < 1e-9);
  // The +Inf bucket answers with the highest finite bound.
  assert.equal(quantile(0.99, bounds, [0, 0, 0, 5]), 0.4);
});

it('turns successive snapshots into totals, window rates and quantiles, and chart points', () => {
  const store = new MetricStore();
  const buckets = [0.01, 0.1, 1];
  const req = store.histogram(DASHBOARD_GROUP, { name: REQUESTS, help: 'h', buckets });
  const be = store.histogram(DASHBOARD_GROUP, { name: BACKENDS, help: 'h', buckets });
  const ok = req.bind([
    ['route', '/a'],
    ['method', 'GET'],
    ['status', '200'],
  ]);
  const bad = req.bind([
    ['route', '/a'],
    ['method', 'GET'],
    ['status', '502'],
  ]);
  const up = be.bind([
    ['route', '/a'],
    ['backend', '/x'],
    ['outcome', 'ok'],
  ]);
  const model = new DashboardModel();
  for (let i = 0; i < 5; i++) ok.observe(0.005);
  const t0 = 1_000_000;
  model.update(store.snapshot(undefined, t0), []);
  for (let i = 0; i < 18; i++) ok.observe(0.05);
  for (let i = 0; i < 2; i++) bad.observe(0.5);
  for (let i = 0; i < 20; i++) up.observe(0.05);
  const s = model.update(store.snapshot(undefined, t0 + 2_000), []);
  assert.deepEqual(s.totals, { requests: 25, serverErrors: 2, clientErrors: 0 });
  // 20 requests in the 2 s since the first snapshot.
  assert.equal(s.rps, 10);
  assert.equal(s.errorRatio, 0.1);
  assert.ok((s.latency.gateway?.p50 ?? 0) > 10 && (s.latency.gateway?.p50 ?? 0) < 100);
  assert.ok((s.latency.gateway?.p99 ?? 0) > 100);
  assert.equal(s.routes[0]?.requests, 25);
  assert.equal(s.backends[0]?.requests, 20);
  assert.deepEqual(s.series.rps, [10]);
  assert.deepEqual(s.series.errorsPerS, [1]);
});
