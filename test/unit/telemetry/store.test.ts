import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { golden } from '../../helpers/golden.js';
import { MetricStore } from '../../../src/telemetry/store/store.js';
import { renderPrometheusText } from '../../../src/telemetry/exposition/prometheus-text.js';
import { renderOpenMetrics } from '../../../src/telemetry/exposition/openmetrics.js';
import { negotiateFormat } from '../../../src/telemetry/exposition/negotiate.js';
import { sanitizeName } from '../../../src/config/label-name.js';
import { escapeLabelValue } from '../../../src/telemetry/store/labels.js';

function sampleStore(): MetricStore {
  const store = new MetricStore();
  const scope = [
    ['otel_scope_name', 'io.krakend.krakend-otel'],
    ['otel_scope_version', ''],
  ] as const;
  const h = store.histogram('otel', {
    name: 'http_server_duration',
    help: 'Request time.',
    buckets: [0.01, 0.1, 1],
    constLabels: scope,
  });
  const c = h.bind([
    ['http_route', '/users/:id'],
    ['http_request_method', 'GET'],
    ['http_response_status_code', '200'],
  ]);
  for (const v of [0.005, 0.05, 0.05, 0.5, 2]) c.observe(v);
  const size = store.histogram('otel', {
    name: 'http_server_response_size',
    help: 'Bytes.',
    buckets: [128, 1048576],
    constLabels: scope,
  });
  size.bind([['http_route', '/users/:id']]).observe(300);
  const ctr = store.counter('otel', {
    name: 'http_client_request_started_count',
    help: 'Started.',
    constLabels: scope,
  });
  ctr
    .bind([
      ['server_address', 'api.internal'],
      ['note', 'quote " backslash \\ newline \n end'],
    ])
    .add(3);
  store
    .counter('otel', { name: 'http_client_response_read_time_seconds', help: 'Read time.', unit: 'seconds' })
    .bind([])
    .add(0.25);
  store
    .gauge('otel', { name: 'target_info', help: 'Target metadata' })
    .bind([
      ['service_name', 'gw'],
      ['service_version', '1.0.0'],
    ])
    .set(1);
  store.histogram('otel', { name: 'never_observed', help: 'No data.', buckets: [1] }).bind([]);
  return store;
}

describe('metric store and expositions', () => {
  it('renders Prometheus text 0.0.4 (golden)', () => {
    golden('exposition.prom', renderPrometheusText(sampleStore().snapshot(undefined, 0)));
  });

  it('renders OpenMetrics 1.0 with # EOF, UNIT and canonical le values (golden)', () => {
    golden('exposition.om.txt', renderOpenMetrics(sampleStore().snapshot(undefined, 0)));
  });

  it('sorts labels by name, keeps the last of a duplicated name, and escapes values', () => {
    const store = new MetricStore();
    const f = store.counter('otel', { name: 'x', help: 'h' });
    f.bind([
      ['b', '1'],
      ['a', 'first'],
      ['a', 'second'],
    ]).add(1);
    assert.equal(
      renderPrometheusText(store.snapshot()),
      '# HELP x_total h\n# TYPE x_total counter\nx_total{a="second",b="1"} 1\n',
    );
    assert.equal(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
    assert.equal(escapeLabelValue('bad \ud800 surrogate'), 'bad \ufffd surrogate');
    assert.equal(sanitizeName('http.client.request.get-conn.duration'), 'http_client_request_get_conn_duration');
    assert.equal(sanitizeName('9lives'), '_9lives');
  });

  it('binds each label set once and caps series with one overflow series', () => {
    const store = new MetricStore();
    const f = store.counter('otel', { name: 'capped', help: 'h', seriesLimit: 3 });
    const a = f.bind([['k', 'a']]);
    assert.equal(f.bind([['k', 'a']]), a, 'same labels, same cell');
    for (let i = 0; i < 100; i++) f.bind([['k', `v${i}`]]).add(1);
    assert.equal(f.cells.length, 4, '3 series + 1 overflow');
    assert.equal(f.overflowed, 98);
    const text = renderPrometheusText(store.snapshot());
    assert.match(text, /capped_total\{otel_metric_overflow="true"\} 98/);
  });

  it('takes snapshots by group and runs collectors first', () => {
    const store = new MetricStore();
    const g = store.gauge('process', { name: 'p', help: 'h' }).bind([]);
    let n = 0;
    store.addCollector('process', () => g.set(++n));
    store.counter('otel', { name: 'o', help: 'h' }).bind([]).add(1);
    assert.deepEqual(
      store.snapshot(new Set(['otel'])).families.map((f) => f.name),
      ['o'],
    );
    assert.equal(n, 0, 'collector of another group not run');
    const snap = store.snapshot(new Set(['process']));
    assert.deepEqual(
      snap.families.map((f) => f.name),
      ['p'],
    );
    assert.equal(n, 1);
    assert.throws(() => store.counter('otel', { name: 'o', help: 'dup' }), /registered twice/);
  });

  it('renders again after the values change, and never reuses a line prefix across families', () => {
    const store = new MetricStore();
    const c = store.counter('otel', { name: 'reqs', help: 'h' }).bind([['route', '/a']]);
    c.add(1);
    assert.match(renderPrometheusText(store.snapshot()), /^reqs_total\{route="\/a"\} 1$/m);
    c.add(2);
    assert.match(renderPrometheusText(store.snapshot()), /^reqs_total\{route="\/a"\} 3$/m);
    // The same attributes object under another family name (a merge could hand one over) gets its own prefix.
    const snap = store.snapshot();
    const fam = snap.families[0];
    assert.ok(fam !== undefined);
    const renamed = { at: snap.at, families: [{ ...fam, name: 'other', exposedName: 'other_total' }] };
    assert.match(renderPrometheusText(renamed), /^other_total\{route="\/a"\} 3$/m);
    assert.match(renderOpenMetrics(renamed), /^other_total\{route="\/a"\} 3$/m);
  });

  it('negotiates OpenMetrics only when the scraper asks for it', () => {
    assert.equal(negotiateFormat(undefined), 'text');
    assert.equal(negotiateFormat('text/plain'), 'text');
    assert.equal(
      negotiateFormat(
        'application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2',
      ),
      'openmetrics',
    );
    assert.equal(negotiateFormat('application/openmetrics-text;version=1.0.0;q=0.2,text/plain;q=0.9'), 'text');
  });
});

describe('histogram exemplars', () => {
  it('keep the latest sampled observation per bucket, as one object until the bucket gets a newer one', () => {
    const store = new MetricStore();
    const cell = store.histogram('otel', { name: 'lat', help: 'h', buckets: [0.1, 1] }).bind([]);
    cell.observe(0.05);
    assert.equal(cell.exemplars, undefined, 'no exemplar before a sampled observation');
    cell.observeWithExemplar(0.05, 'trace-a', 'span-a', 1000);
    cell.observeWithExemplar(5, 'trace-b', 'span-b', 2000);
    const first = cell.exemplars;
    assert.deepEqual(first, [
      { traceId: 'trace-a', spanId: 'span-a', value: 0.05, timestampMs: 1000 },
      undefined,
      { traceId: 'trace-b', spanId: 'span-b', value: 5, timestampMs: 2000 },
    ]);
    const kept = first?.[0];
    const overflow = first?.[2];
    assert.equal(cell.exemplars?.[0], kept, 'an unchanged bucket reads as the same object');
    cell.observe(0.07);
    assert.equal(cell.exemplars?.[0], kept, 'an unsampled observation replaces nothing');
    cell.observeWithExemplar(0.08, 'trace-c', 'span-c', 3000);
    const now = cell.exemplars;
    assert.notEqual(now?.[0], kept, 'a replaced exemplar is a new object');
    assert.deepEqual(now?.[0], { traceId: 'trace-c', spanId: 'span-c', value: 0.08, timestampMs: 3000 });
    assert.equal(now?.[2], overflow, 'other buckets keep theirs');
    assert.deepEqual([...cell.counts], [4, 0, 1]);
    assert.equal(cell.count, 5);
  });
});
