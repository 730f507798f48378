/**
 * /__stats and Influx values as go-metrics and krakend-influx compute them (issue 19 items 11-13):
 * the population variance (rcrowley/go-metrics sample.go SampleVariance divides by n), expvar.Float
 * formatting, cluster sums that keep instants as instants, memstats read from the same gauges, and
 * krakend-influx's empty-histogram rule and snapshot timestamps.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { DeltaTracker, toPoints } from '../../../src/telemetry/influx/points.js';
import { goFloat, renderExpvar } from '../../../src/telemetry/stats/expvar.js';
import { memstatsOf } from '../../../src/telemetry/stats/runtime-stats.js';
import { mergeRawStats, StatsRegistry, statsFromRaw } from '../../../src/telemetry/stats/stats-registry.js';
import { mergeWindows, WindowHistogram, windowSnapshot } from '../../../src/telemetry/stats/window-histogram.js';

/** go-metrics' SampleMean and SampleVariance, written out: sum / n, then Σ (v − mean)² / n. */
function goMetrics(values: readonly number[]): { mean: number; variance: number; stddev: number } {
  if (values.length === 0) return { mean: 0, variance: 0, stddev: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, v) => a + (v - mean) * (v - mean), 0) / values.length;
  return { mean, variance, stddev: Math.sqrt(variance) };
}

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual} ≠ ${expected}`);
}

/** Latencies in ns as krakend-metrics records them (int64 durations), spread over four orders of magnitude. */
function latencies(n: number, seed: number): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return 200_000 + (x % 900_000_000);
  });
}

describe('window histogram statistics', () => {
  it('are the population variance and standard deviation, as go-metrics SampleVariance', () => {
    const h = new WindowHistogram();
    for (let i = 1; i <= 100; i++) h.update(i);
    const s = h.snapshot();
    // Σ (i − 50.5)² / 100 for i = 1..100 = (100² − 1) / 12.
    assert.equal(s.variance, 833.25);
    close(s.stddev, Math.sqrt(833.25), 'stddev');
    for (const n of [1, 2, 7, 1028]) {
      const values = latencies(n, n);
      const w = new WindowHistogram();
      for (const v of values) w.update(v);
      const got = w.snapshot();
      const want = goMetrics(values);
      assert.equal(got.count, n);
      close(got.mean, want.mean, `mean of ${n}`);
      close(got.variance, want.variance, `variance of ${n}`);
      close(got.stddev, want.stddev, `stddev of ${n}`);
      assert.equal(got.min, Math.min(...values));
      assert.equal(got.max, Math.max(...values));
    }
    assert.equal(new WindowHistogram().snapshot().variance, 0);
  });

  it('keeps the whole window past the reservoir, and a cluster merge equals one process seeing every value', () => {
    const values = latencies(5000, 42);
    const whole = new WindowHistogram();
    const parts = [new WindowHistogram(), new WindowHistogram(), new WindowHistogram()];
    values.forEach((v, i) => {
      whole.update(v);
      (parts[i % 3 === 0 ? 0 : i % 7 === 0 ? 1 : 2] as WindowHistogram).update(v);
    });
    const want = goMetrics(values);
    close(whole.snapshot().variance, want.variance, 'whole window');
    const merged = windowSnapshot(mergeWindows(parts.map((p) => p.raw())));
    assert.equal(merged.count, values.length);
    close(merged.mean, want.mean, 'merged mean');
    close(merged.variance, want.variance, 'merged variance');
    assert.equal(merged.min, Math.min(...values));
    assert.equal(merged.max, Math.max(...values));
  });
});

describe('/__stats rendering', () => {
  it('writes histogram statistics as expvar.Float does (strconv.FormatFloat g, -1)', () => {
    // Go's outputs for these inputs: fmt.Println(strconv.FormatFloat(v, 'g', -1, 64)).
    const cases: [number, string][] = [
      [0, '0'],
      [5, '5'],
      [999999, '999999'],
      [1e6, '1e+06'],
      [1234567.5, '1.2345675e+06'],
      [123456.7, '123456.7'],
      [Math.sqrt(833.25), '28.86607004772212'],
      [0.0001, '0.0001'],
      [0.00001, '1e-05'],
      [-3.25, '-3.25'],
      [2 ** 64, '1.8446744073709552e+19'],
    ];
    for (const [v, text] of cases) assert.equal(goFloat(v), text, String(v));
    const reg = new StatsRegistry();
    const h = reg.histogram('krakend.router.response./a.time');
    for (const v of [1_000_000, 3_000_000]) h.update(v);
    const text = renderExpvar(reg.snapshot(), {});
    assert.match(text, /"krakend\.router\.response\.\/a\.time\.mean": 2e\+06,/);
    assert.match(text, /"krakend\.router\.response\.\/a\.time\.std-dev": 1e\+06\n/);
    assert.match(text, /"krakend\.router\.response\.\/a\.time\.count": 2,/);
  });

  it('builds memstats from the runtime gauges, in runtime.MemStats field order', () => {
    const gauges = new Map<string, number>([
      ['krakend.service.runtime.MemStats.NumGC', 3],
      ['krakend.service.runtime.MemStats.Alloc', 10],
      ['krakend.service.runtime.MemStats.Sys', 40],
      ['krakend.service.runtime.MemStats.LastGC', 1_700_000_000_000_000_000],
    ]);
    const m = memstatsOf(gauges);
    assert.deepEqual(Object.keys(m), [
      'Alloc',
      'Sys',
      'HeapAlloc',
      'HeapSys',
      'HeapIdle',
      'HeapInuse',
      'LastGC',
      'PauseTotalNs',
      'NumGC',
    ]);
    assert.equal(m.Alloc, 10);
    assert.equal(m.NumGC, 3);
    assert.equal(m.HeapSys, 0);
  });

  it('sums workers as one process: amounts add up, the last GC is the newest', () => {
    const worker = (alloc: number, lastGc: number): StatsRegistry => {
      const r = new StatsRegistry();
      r.gauge('krakend.service.runtime.MemStats.Alloc').value = alloc;
      r.gauge('krakend.service.runtime.MemStats.LastGC').value = lastGc;
      r.gauge('krakend.service.debug.GCStats.LastGC').value = lastGc;
      r.counter('krakend.router.connected-total').value = alloc / 10;
      return r;
    };
    const a = 1_700_000_000_000_000_000;
    const b = 1_700_000_005_000_000_000;
    const merged = mergeRawStats([worker(100, a).raw(1), worker(300, b).raw(2)], 3);
    assert.equal(merged.gauges.get('krakend.service.runtime.MemStats.Alloc'), 400);
    assert.equal(merged.gauges.get('krakend.service.runtime.MemStats.LastGC'), b);
    assert.equal(merged.gauges.get('krakend.service.debug.GCStats.LastGC'), b);
    assert.equal(merged.counters.get('krakend.router.connected-total'), 40);
    assert.equal(memstatsOf(statsFromRaw(merged).gauges).LastGC, b);
  });
});

describe('Influx points', () => {
  it('carry the snapshot time (seconds, truncated) and leave out windows whose statistics are all 0', () => {
    const reg = new StatsRegistry();
    reg.counter('krakend.router.response./a.status.204.count').value = 2;
    reg.histogram('krakend.router.response./a.size').update(0);
    reg.histogram('krakend.router.response./a.size').update(0);
    const t = reg.histogram('krakend.router.response./a.time');
    for (const v of [1000, 2000, 6000]) t.update(v);
    const at = 1_700_000_123_999;
    const points = toPoints(reg.snapshot(at), 'h', new DeltaTracker());
    assert.ok(points.length > 0);
    for (const p of points) assert.equal(p.time, 1_700_000_123);
    assert.deepEqual(
      points.map((p) => p.measurement),
      ['responses', 'router.response-time', 'router', 'router'],
      'krakend-influx skips the size histogram whose values were all 0 (histogram/histogram.go isEmpty)',
    );
    const time = points.find((p) => p.measurement === 'router.response-time');
    const want = goMetrics([1000, 2000, 6000]);
    // krakend-influx writes int(h.Mean), int(h.Stddev), int(h.Variance): truncated toward zero.
    assert.deepEqual(
      [time?.fields.mean, time?.fields.stddev, time?.fields.variance],
      [{ int: want.mean }, { int: want.stddev }, { int: want.variance }],
    );
    assert.equal(Math.trunc(want.variance), 4_666_666);
  });
});
