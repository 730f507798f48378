/**
 * Finished requests reach the metric views in groups (view-deferral.ts), and no read of the metrics
 * misses one: nothing is written while fewer than a group wait and the delay has not passed; a full
 * group, the delay or `flush` writes them all, in order, view by view; a view that throws costs no
 * other view or request its counts; and every way Telemetry's metrics are read (a store snapshot, a
 * cluster worker's report, `/__stats` live and at the collection tick) counts a request finished just
 * before it.
 */
import { strict as assert } from 'node:assert';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { it } from 'node:test';
import { loadConfigValue } from '../../../src/config/load.js';
import { createLogger } from '../../../src/log/logger.js';
import { RequestRecord, type RecordSink } from '../../../src/telemetry/record.js';
import { StoreMirror } from '../../../src/telemetry/cluster/store-delta.js';
import type { Snapshot } from '../../../src/telemetry/store/store.js';
import { Telemetry } from '../../../src/telemetry/telemetry.js';
import { VIEW_DELAY_MS, VIEW_GROUP, viewQueue } from '../../../src/telemetry/view-deferral.js';
import { observedRoutes } from '../../helpers/routes.js';
import { answeredOk } from '../../helpers/traced-request.js';

const silent = createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() }));

/** A request to route 0 that the backend answered 200, finished now. */
function finished(path = '/v'): RequestRecord {
  const t = performance.now();
  const rec = new RequestRecord('GET', path, t);
  rec.route = 0;
  rec.proxyStart = t + 0.1;
  const b = rec.backend(0);
  b.stageStart = t + 0.2;
  b.dispatchAt = t + 0.3;
  answeredOk(rec, b, t, 2);
  return rec;
}

class Collecting implements RecordSink {
  readonly seen: RequestRecord[] = [];
  constructor(readonly log: string[] = []) {}
  record(rec: RequestRecord): void {
    this.seen.push(rec);
    this.log.push(`${this.constructor.name}:${rec.path}`);
  }
}
class First extends Collecting {}
class Second extends Collecting {}

it('writes queued requests when a group is full, after the delay, or on flush; in order, view by view', async () => {
  const log: string[] = [];
  const a = new First(log);
  const b = new Second(log);
  const d = viewQueue([a, b], (_s, err) => assert.fail(String(err)));
  for (let i = 0; i < VIEW_GROUP - 1; i++) d.add(finished(`/r${i}`));
  assert.equal(a.seen.length, 0, 'one short of a group: nothing written yet');
  d.add(finished(`/r${VIEW_GROUP - 1}`));
  assert.equal(a.seen.length, VIEW_GROUP, 'a full group is written at once');
  assert.deepEqual(
    log,
    [...a.seen.map((r) => `First:${r.path}`), ...b.seen.map((r) => `Second:${r.path}`)],
    'each view takes the whole group before the next view',
  );
  assert.deepEqual(
    a.seen.map((r) => r.path),
    Array.from({ length: VIEW_GROUP }, (_v, i) => `/r${i}`),
    'in the order the requests finished',
  );

  d.add(finished('/late'));
  assert.equal(a.seen.length, VIEW_GROUP);
  await sleep(VIEW_DELAY_MS + 30);
  assert.equal(a.seen.length, VIEW_GROUP + 1, 'the delay writes a group that never filled');
  assert.equal(b.seen.length, VIEW_GROUP + 1);

  d.add(finished('/now'));
  d.flush();
  assert.equal(a.seen.at(-1)?.path, '/now', 'flush writes at once');
  d.flush();
  assert.equal(a.seen.length, VIEW_GROUP + 2, 'an empty flush writes nothing twice');
});

it('a view that throws loses no other view or request its counts', () => {
  class Throwing implements RecordSink {
    record(rec: RequestRecord): void {
      if (rec.path === '/bad') throw new Error('view bug');
    }
  }
  const after = new Collecting();
  const errors: unknown[] = [];
  const d = viewQueue([new Throwing(), after], (_s, err) => errors.push(err));
  d.add(finished('/ok1'));
  d.add(finished('/bad'));
  d.add(finished('/ok2'));
  d.flush();
  assert.deepEqual(
    after.seen.map((r) => r.path),
    ['/ok1', '/bad', '/ok2'],
  );
  assert.equal(errors.length, 1);
});

/** A process with every metrics view: OpenTelemetry (Prometheus exporter), Kong's, /__stats, the dashboard. */
function telemetry(worker: boolean): Telemetry {
  const { config } = loadConfigValue(
    {
      version: 3,
      port: 8080,
      extra_config: {
        'telemetry/opentelemetry': {
          service_name: 'deferral',
          exporters: { prometheus: [{ name: 'local', port: 0 }] },
          layers: { backend: { metrics: { round_trip: true, read_payload: true } } },
        },
        'telemetry/kong-prometheus': { status_code_metrics: true, latency_metrics: true, bandwidth_metrics: true },
        'telemetry/metrics': { listen_address: '127.0.0.1:0', collection_time: '60s' },
        'telemetry/dashboard': { listen_address: '127.0.0.1:0' },
      },
      endpoints: [{ endpoint: '/v', backend: [{ host: ['http://127.0.0.1:8081'], url_pattern: '/p' }] }],
    },
    'inline',
  );
  return new Telemetry(config, observedRoutes(config), {
    logger: silent,
    version: 'test',
    injector: undefined,
    worker,
  });
}

/** The count of `family`'s series (summed), in a snapshot. */
function count(s: Snapshot, family: string): number {
  const f = s.families.find((x) => x.name === family);
  return (f?.series ?? []).reduce((n, x) => n + ('count' in x ? x.count : x.value), 0);
}

/** `/__stats`' count of the endpoint's 200 responses (krakend-metrics' key). */
const STATUS_200 = 'krakend.router.response./v.status.200.count';

it('every read of the metrics counts the requests finished before it', async () => {
  const t = telemetry(true);
  t.record(finished());
  const snap = t.store.snapshot();
  assert.equal(count(snap, 'http_server_duration'), 1, 'OpenTelemetry view, read by a store snapshot');
  assert.equal(count(snap, 'kong_http_requests'), 1, "Kong's view, same snapshot");

  t.record(finished());
  const report = t.workerReport({ stats: true, slow: true });
  const mirror = new StoreMirror();
  mirror.apply(report.store);
  assert.equal(count(mirror.snapshot(), 'http_server_duration'), 2, "a cluster worker's report counts both");
  assert.equal(report.stats?.live.counters.get(STATUS_200), 2, '/__stats in it too');

  const stats = t.stats;
  assert.ok(stats !== undefined);
  t.record(finished());
  const live = await stats.live();
  assert.equal(live.stats.counters.get(STATUS_200), 3, '/__stats read live');
  t.record(finished());
  assert.equal(stats.liveRaw().counters.get(STATUS_200), 4, '… and raw');
  t.record(finished());
  const tick = stats.tick();
  assert.equal(tick.counters.get(STATUS_200), 5, 'the collection tick');

  // A second read hook on either store adds to the views' flush, as on the other store.
  let hooks = 0;
  stats.beforeRead(() => hooks++);
  t.store.beforeRead(() => hooks++);
  t.record(finished());
  assert.equal(stats.liveRaw().counters.get(STATUS_200), 6, '/__stats still counts it with a second hook');
  assert.equal(count(t.store.snapshot(), 'http_server_duration'), 6, '… and so does the store');
  assert.equal(hooks, 2, 'each second hook ran once');
  await t.close();
});
