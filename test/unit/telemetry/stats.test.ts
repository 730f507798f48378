import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { toLine } from '../../../src/telemetry/influx/line-protocol.js';
import { DeltaTracker, toPoints } from '../../../src/telemetry/influx/points.js';
import { renderExpvar } from '../../../src/telemetry/stats/expvar.js';
import { StatsRegistry } from '../../../src/telemetry/stats/stats-registry.js';
import { parseListenAddress } from '../../../src/config/namespaces/common.js';
import { templatedUrlPattern } from '../../../src/telemetry/stats/stats-view.js';
import { WindowHistogram } from '../../../src/telemetry/stats/window-histogram.js';

it('keeps count, min, max, mean, stddev and percentiles of a window, and clears it', () => {
  const h = new WindowHistogram();
  for (let i = 1; i <= 100; i++) h.update(i);
  const s = h.snapshot();
  assert.equal(s.count, 100);
  assert.equal(s.min, 1);
  assert.equal(s.max, 100);
  assert.equal(s.mean, 50.5);
  // Population standard deviation, as go-metrics' SampleStdDev (divides by n).
  assert.ok(Math.abs(s.stddev - 28.8661) < 0.001);
  assert.equal(s.percentile(0.5), 50.5);
  assert.equal(s.percentile(0.99), 99.99);
  h.clear();
  assert.equal(h.snapshot().count, 0);
  assert.equal(h.snapshot().percentile(0.5), 0);
  for (let i = 0; i < 100_000; i++) h.update(i % 1000);
  const big = h.snapshot();
  assert.equal(big.count, 100_000);
  assert.ok(Math.abs(big.percentile(0.5) - 500) < 60, 'the reservoir keeps a uniform sample');
});

it('renders expvar JSON with sorted keys and expanded histograms', () => {
  const reg = new StatsRegistry();
  reg.counter('b.count').value = 2;
  reg.gauge('a.gauge').value = 7;
  reg.histogram('c.h').update(5);
  const text = renderExpvar(reg.snapshot(), { cmdline: ['node'] });
  assert.ok(text.startsWith('{\n"a.gauge": 7,\n"b.count": 2,\n"c.h.50-percentile": 5,'), text);
  assert.ok(text.endsWith('"cmdline": ["node"]\n}\n'), text);
  assert.deepEqual(Object.keys(JSON.parse(text) as object).length, 13);
});

it('writes InfluxDB line protocol with its escaping rules', () => {
  assert.equal(
    toLine({
      measurement: 'router.response-time',
      tags: { name: '/a b,c=d', host: 'h1', empty: '' },
      fields: { mean: { int: 12.7 }, 'p0.5': 1.5, s: 'q"x' },
      time: 1700000000,
    }),
    'router.response-time,host=h1,name=/a\\ b\\,c\\=d mean=12i,p0.5=1.5,s="q\\"x" 1700000000',
  );
});

it('turns a snapshot into the krakend-influx measurements, with count deltas between pushes', () => {
  const reg = new StatsRegistry();
  const c = reg.counter('krakend.proxy.requests.layer.backend.name./u/{{.Id}}.complete.true.error.false');
  reg.counter('krakend.router.response./u/:id.status.200.count').value = 3;
  reg.counter('krakend.router.connected-total').value = 9;
  reg.gauge('krakend.service.runtime.MemStats.HeapAlloc').value = 1000;
  c.value = 4;
  const deltas = new DeltaTracker();
  const first = toPoints(reg.snapshot(10_000), 'gw', deltas).map(toLine);
  assert.ok(
    first.includes('requests,complete=true,error=false,host=gw,layer=backend,name=/u/{{.Id}} total=4i,count=4i 10'),
    first.join('\n'),
  );
  assert.ok(first.includes('responses,host=gw,name=/u/:id,status=200 total=3i,count=3i 10'));
  assert.ok(first.includes('router,direction=in,host=gw current=0i,total=9i,gauge=0i 10'));
  assert.ok(first.includes('runtime,host=gw MemStats.HeapAlloc=1000i 10'));
  c.value = 6;
  const second = toPoints(reg.snapshot(20_000), 'gw', deltas).map(toLine);
  assert.ok(second.some((l) => l.startsWith('requests,') && l.includes('total=6i,count=2i')));
});

it('parses listen addresses and templates url patterns as lura does', () => {
  assert.deepEqual(parseListenAddress(':8090', 1), { host: '', port: 8090 });
  assert.deepEqual(parseListenAddress('127.0.0.1:9000', 1), { host: '127.0.0.1', port: 9000 });
  assert.deepEqual(parseListenAddress('[::1]:9000', 1), { host: '::1', port: 9000 });
  assert.deepEqual(parseListenAddress(undefined, 8090), { host: '127.0.0.1', port: 8090 });
  assert.equal(templatedUrlPattern('/users/{id}/posts/{postId}'), '/users/{{.Id}}/posts/{{.PostId}}');
});
