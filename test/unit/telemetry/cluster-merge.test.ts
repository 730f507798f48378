import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { cumulativeOnly, mergeSnapshots } from '../../../src/telemetry/cluster/merge.js';
import { mergeRawStats, statsFromRaw } from '../../../src/telemetry/stats/stats-registry.js';
import { mergeWindows, WindowHistogram } from '../../../src/telemetry/stats/window-histogram.js';
import { MetricStore } from '../../../src/telemetry/store/store.js';

/** One worker's store: a counter, a histogram with an exemplar, and gauges with each merge rule. */
function worker(requests: number, latencies: readonly number[], pid: string, traceAt: number): MetricStore {
  const s = new MetricStore();
  s.counter('otel', { name: 'reqs', help: 'h' })
    .bind([['route', '/a']])
    .add(requests);
  const h = s.histogram('otel', { name: 'lat', help: 'h', buckets: [0.1, 1] }).bind([['route', '/a']]);
  for (const v of latencies) h.observeWithExemplar(v, `trace-${pid}`, 'span', traceAt);
  s.gauge('process', { name: 'rss', help: 'h', merge: 'sum' }).bind([]).set(100);
  s.gauge('process', { name: 'start', help: 'h', merge: 'min' }).bind([]).set(Number(pid));
  s.gauge('otel-info', { name: 'info', help: 'h' }).bind([]).set(1);
  s.gauge('kong', { name: 'mem', help: 'h' })
    .bind([['pid', pid]])
    .set(7);
  return s;
}

it('adds counters and histogram buckets over workers, keeps the newest exemplar and applies each gauge rule', () => {
  const a = worker(3, [0.05, 0.5], '10', 1000).snapshot();
  const b = worker(4, [0.5, 5], '20', 2000).snapshot();
  const m = mergeSnapshots([a, b], 5);
  const fam = (name: string) => m.families.find((f) => f.name === name);
  const one = (name: string) => fam(name)?.series[0];
  assert.deepEqual(
    m.families.map((f) => f.name),
    ['reqs', 'lat', 'rss', 'start', 'info', 'mem'],
  );
  assert.equal((one('reqs') as { value: number }).value, 7);
  const lat = one('lat') as {
    counts: Float64Array;
    count: number;
    sum: number;
    exemplars: readonly ({ traceId: string } | undefined)[];
  };
  assert.deepEqual([...lat.counts], [1, 2, 1]);
  assert.equal(lat.count, 4);
  assert.equal(lat.sum, 6.05);
  assert.equal(lat.exemplars[1]?.traceId, 'trace-20');
  assert.equal(lat.exemplars[0]?.traceId, 'trace-10');
  assert.equal((one('rss') as { value: number }).value, 200);
  assert.equal((one('start') as { value: number }).value, 10);
  assert.equal((one('info') as { value: number }).value, 1);
  // A label only one worker has stays that worker's series.
  assert.equal(fam('mem')?.series.length, 2);
});

it('keeps only counters and histograms of a worker that is gone', () => {
  const gone = cumulativeOnly(worker(5, [0.5], '30', 1).snapshot());
  assert.deepEqual(
    gone.families.map((f) => f.name),
    ['reqs', 'lat'],
  );
  const m = mergeSnapshots([gone, worker(1, [], '40', 1).snapshot()], 2);
  assert.equal((m.families.find((f) => f.name === 'reqs')?.series[0] as { value: number }).value, 6);
});

it('merges telemetry/metrics windows: exact count, min, max, mean; samples weighted by count', () => {
  const x = new WindowHistogram();
  const y = new WindowHistogram();
  for (let i = 0; i < 3000; i++) x.update(1);
  for (let i = 0; i < 1000; i++) y.update(100);
  const w = mergeWindows([x.raw(), y.raw()]);
  assert.equal(w.count, 4000);
  assert.equal(w.min, 1);
  assert.equal(w.max, 100);
  assert.ok(w.samples.length <= 1028);
  const highShare = [...w.samples].filter((v) => v === 100).length / w.samples.length;
  assert.ok(Math.abs(highShare - 0.25) < 0.01, `share of the second worker's samples: ${highShare}`);
  const stats = statsFromRaw(
    mergeRawStats(
      [
        { at: 1, counters: new Map([['c', 2]]), gauges: new Map([['g', 3]]), histograms: new Map([['h', x.raw()]]) },
        { at: 1, counters: new Map([['c', 5]]), gauges: new Map(), histograms: new Map([['h', y.raw()]]) },
      ],
      9,
    ),
  );
  assert.equal(stats.counters.get('c'), 7);
  assert.equal(stats.gauges.get('g'), 3);
  assert.equal(stats.histograms.get('h')?.count, 4000);
  assert.equal(stats.histograms.get('h')?.mean, (3000 + 100_000) / 4000);
  assert.equal(stats.histograms.get('h')?.percentile(0.5), 1);
  assert.equal(stats.histograms.get('h')?.percentile(0.99), 100);
});
