import { strict as assert } from 'node:assert';
import { deserialize, serialize } from 'node:v8';
import { it } from 'node:test';
import { StoreDeltaWriter, StoreMirror, type StoreDelta } from '../../../src/telemetry/cluster/store-delta.js';
import { MetricStore } from '../../../src/telemetry/store/store.js';

/** What crosses the IPC channel (advanced serialization): a structured clone. */
const overIpc = (d: StoreDelta): StoreDelta => deserialize(serialize(d)) as StoreDelta;

const series = (d: StoreDelta): number => d.added.reduce((n, f) => n + f.series.length, 0);

function normalized(s: ReturnType<MetricStore['snapshot']>): unknown {
  return s.families.map((f) => ({
    ...f,
    bounds: [...f.bounds],
    series: f.series.map((x) => ('counts' in x ? { ...x, counts: [...x.counts] } : x)),
  }));
}

it('the mirror holds the whole store while each report carries only what changed', () => {
  const store = new MetricStore();
  const reqs = store.counter('otel', { name: 'reqs', help: 'h' });
  const lat = store.histogram('otel', { name: 'lat', help: 'h', buckets: [0.1, 1] });
  const rss = store.gauge('process', { name: 'rss', help: 'h' });
  const a = reqs.bind([['route', '/a']]);
  const la = lat.bind([['route', '/a']]);
  const g = rss.bind([]);
  a.add(1);
  la.observeWithExemplar(0.05, 'trace', 'span', 1000);
  g.set(5);
  lat.bind([['route', '/never']]); // a histogram nothing was observed in is no series

  const writer = new StoreDeltaWriter(store);
  const mirror = new StoreMirror();
  const first = overIpc(writer.next(1));
  assert.equal(series(first), 3);
  assert.ok(
    first.added.every((f) => f.meta !== undefined),
    'first report describes its families',
  );
  assert.equal(first.values.length, 0);
  mirror.apply(first);
  assert.deepEqual(normalized(mirror.snapshot()), normalized(store.snapshot(undefined, 1)));

  const idle = overIpc(writer.next(2));
  assert.equal(series(idle) + idle.values.length + idle.exemplars.length, 0, 'nothing changed, nothing sent');
  mirror.apply(idle);
  assert.equal(mirror.snapshot().at, 2);

  // One counter moves and a new series appears: the known one as three numbers, the new one in full
  // without its family's description; a new exemplar travels alone.
  a.add(2);
  reqs.bind([['route', '/b']]).add(7);
  la.observeWithExemplar(0.5, 'trace2', 'span2', 2000);
  const second = overIpc(writer.next(3));
  assert.deepEqual(
    second.added.map((f) => [f.index, f.meta, f.positions]),
    [[0, undefined, [1]]],
  );
  assert.deepEqual([...second.values], [0, 0, 3, 1, 0, 2, 0.55, 1, 1, 0]);
  assert.deepEqual(
    second.exemplars.map((x) => [x.family, x.position, x.bucket, x.exemplar.traceId]),
    [[1, 0, 1, 'trace2']],
  );
  const before = mirror.snapshot();
  mirror.apply(second);
  assert.deepEqual(normalized(mirror.snapshot()), normalized(store.snapshot(undefined, 3)));
  assert.equal(
    (before.families[0]?.series[0] as { value: number }).value,
    1,
    'an earlier snapshot is not changed by later reports',
  );

  // A histogram's first observation makes it a series; a gauge set to the value it had is not news.
  lat.bind([['route', '/never']]).observe(3);
  g.set(5);
  const third = overIpc(writer.next(4));
  assert.deepEqual(
    third.added.map((f) => [f.index, f.positions]),
    [[1, [1]]],
  );
  assert.equal(third.values.length, 0);
  mirror.apply(third);
  assert.deepEqual(normalized(mirror.snapshot()), normalized(store.snapshot(undefined, 4)));

  // A read of one group reports that group only; the other's change waits for a read that wants it.
  a.add(1);
  g.set(6);
  const processOnly = overIpc(writer.next(5, new Set(['process'])));
  assert.deepEqual([...processOnly.values], [2, 0, 6]);
  mirror.apply(processOnly);
  assert.equal((mirror.snapshot().families[0]?.series[0] as { value: number }).value, 3, 'otel not reported yet');
  const all = overIpc(writer.next(6));
  assert.deepEqual([...all.values], [0, 0, 4]);
  mirror.apply(all);
  assert.deepEqual(normalized(mirror.snapshot()), normalized(store.snapshot(undefined, 6)));
});

it('stays equal to the store over random updates, runtime collectors and late families', () => {
  let seed = 42;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const store = new MetricStore();
  const c = store.counter('otel', { name: 'c', help: 'h' });
  const h = store.histogram('otel', { name: 'h', help: 'h', buckets: [1, 10, 100] });
  const g = store.gauge('g', { name: 'g', help: 'h' });
  let ticks = 0;
  const collected = store.gauge('process', { name: 'collected', help: 'h' }).bind([]);
  store.addCollector('process', () => collected.set(++ticks));
  const writer = new StoreDeltaWriter(store);
  const mirror = new StoreMirror();
  let sent = 0;
  for (let round = 0; round < 200; round++) {
    for (let k = rnd(20); k > 0; k--) {
      const label: [string, string][] = [['k', String(rnd(50))]];
      const op = rnd(4);
      if (op === 0) c.bind(label).add(1 + rnd(3));
      else if (op === 1) h.bind(label).observe(rnd(200));
      else if (op === 2) g.bind(label).set(rnd(3) === 0 ? Number.NaN : rnd(5));
      else if (op === 3 && rnd(10) === 0) h.bind(label).observeWithExemplar(rnd(20), `t${round}`, 's', round);
    }
    // A family registered after the first reports (a worker never does this, but the mirror copes).
    if (round === 100) store.counter('late', { name: 'late', help: 'h' }).bind([]).add(1);
    const d = overIpc(writer.next(round));
    sent += series(d) + d.values.length / 3;
    mirror.apply(d);
    const expected = normalized(store.snapshot(undefined, round));
    // The collector ran once more for the comparison snapshot; compare it apart.
    const actual = normalized(mirror.snapshot()) as { name: string; series: { value?: number }[] }[];
    const exp = expected as typeof actual;
    assert.deepEqual(
      actual.filter((f) => f.name !== 'collected'),
      exp.filter((f) => f.name !== 'collected'),
      `round ${round}`,
    );
    assert.equal(actual.find((f) => f.name === 'collected')?.series[0]?.value, ticks - 1);
  }
  const total = store.snapshot().families.reduce((n, f) => n + f.series.length, 0);
  assert.ok(sent < total * 200 * 0.3, `deltas sent ${sent} series over 200 reports of ${total}`);
});
