/**
 * `/__stats` and InfluxDB values of one gateway process against KrakenD's for the same traffic (issue 19
 * items 11-13): expvar's `cmdline` and `memstats` (the same readings as the krakend.service keys),
 * population standard deviation and variance of the response sizes the test received, and Influx points
 * stamped with the time the snapshot was taken, so pushing it again rewrites the same point
 * (krakend-influx influxdb.go:102, `time.Unix(0, snapshot.Time)`), with KrakenD's `count` semantics.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { startGateway } from '../helpers/gateway.js';
import { INFLUXD, startInflux } from '../helpers/influxdb.js';
import { startUpstream, type Upstream } from '../helpers/upstream.js';
import type { TestContext } from 'node:test';

const SIZES = [3, 10, 40, 100, 250, 7, 64, 1000, 3, 55, 128, 17];

function population(values: readonly number[]): { mean: number; variance: number; stddev: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length;
  return { mean, variance, stddev: Math.sqrt(variance) };
}

async function sizedUpstream(t: TestContext): Promise<Upstream> {
  return startUpstream(t, (req, res) => {
    const n = Number(/^\/s\/(\d+)$/.exec(req.url ?? '')?.[1] ?? 0);
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': n }).end('x'.repeat(n));
  });
}

const ENDPOINT = (up: Upstream): Record<string, unknown> => ({
  endpoint: '/s/{n}',
  output_encoding: 'no-op',
  backend: [{ host: [up.url], url_pattern: '/s/{n}', encoding: 'no-op' }],
});

/** GETs every size and returns the body lengths received. */
async function load(url: string, sizes: readonly number[]): Promise<number[]> {
  const out: number[] = [];
  for (const n of sizes) {
    const r = await request(`${url}/s/${n}`);
    out.push(Buffer.from(await r.body.arrayBuffer()).length);
  }
  return out;
}

describe('/__stats of one process, as KrakenD’s expvar', () => {
  it('has cmdline and memstats, and the population standard deviation of what was received', async (t) => {
    const up = await sizedUpstream(t);
    const gw = await startGateway(t, {
      extra_config: { 'telemetry/metrics': { listen_address: '127.0.0.1:0', collection_time: '60s' } },
      endpoints: [ENDPOINT(up)],
    });
    const received = await load(gw.url, SIZES);
    const port = gw.gateway.telemetry.stats?.address?.port;
    const rssBefore = process.memoryUsage.rss();
    const stats = JSON.parse(await (await request(`http://127.0.0.1:${port}/__stats`)).body.text()) as Record<
      string,
      unknown
    >;
    const rssAfter = process.memoryUsage.rss();

    assert.deepEqual(stats.cmdline, process.argv);
    assert.equal(stats['tollgate.cluster.workers'], undefined, 'one process: no cluster key');
    const memstats = stats.memstats as Record<string, number>;
    for (const k of [
      'Alloc',
      'Sys',
      'HeapAlloc',
      'HeapSys',
      'HeapIdle',
      'HeapInuse',
      'LastGC',
      'PauseTotalNs',
      'NumGC',
    ])
      assert.equal(memstats[k], stats[`krakend.service.runtime.MemStats.${k}`], `memstats.${k}`);
    const sys = memstats.Sys as number;
    assert.ok(
      sys >= Math.min(rssBefore, rssAfter) * 0.9 && sys <= Math.max(rssBefore, rssAfter) * 1.1,
      'Sys is the RSS',
    );

    const want = population(received);
    const size = (s: string): number => stats[`krakend.router.response./s/:n.size.${s}`] as number;
    assert.equal(size('count'), SIZES.length);
    assert.ok(Math.abs(size('mean') - want.mean) < 1e-9 * want.mean);
    assert.ok(Math.abs(size('std-dev') - want.stddev) < 1e-9 * want.stddev, `${size('std-dev')} ≠ ${want.stddev}`);
    // The sample (n − 1) standard deviation is what this must not be.
    const sample = Math.sqrt((want.variance * SIZES.length) / (SIZES.length - 1));
    assert.ok(Math.abs(size('std-dev') - sample) > 1);
  });
});

describe('InfluxDB points of one process', () => {
  it('carry the snapshot time: a snapshot pushed twice is one point, the next snapshot another', async (t) => {
    if (INFLUXD === undefined) {
      t.skip('influxd is not installed (Debian package influxdb)');
      return;
    }
    const influx = await startInflux(t);
    const up = await sizedUpstream(t);
    const gw = await startGateway(t, {
      extra_config: {
        // Long periods: the test ends windows and pushes itself.
        'telemetry/metrics': { listen_address: '127.0.0.1:0', collection_time: '1h', endpoint_disabled: true },
        'telemetry/influx': {
          address: influx.url,
          ttl: '1h',
          db: 'krakend',
          username: influx.user,
          password: influx.password,
        },
      },
      endpoints: [ENDPOINT(up)],
    });
    const stats = gw.gateway.telemetry.stats;
    const pusher = gw.gateway.telemetry.influx;
    assert.ok(stats !== undefined && pusher !== undefined);

    const first = await load(gw.url, SIZES);
    const snap1 = stats.tick();
    await pusher.push();
    // A second push of the same snapshot, in a later second: krakend-influx writes it with the same time.
    await sleep(1100);
    await pusher.push();
    const second = await load(gw.url, SIZES.slice(0, 5));
    const snap2 = stats.tick();
    await pusher.push();
    const t1 = Math.floor(snap1.at / 1000);
    // More than a second after the first tick: another second, so another point.
    const t2 = Math.floor(snap2.at / 1000);
    assert.notEqual(t1, t2);

    const responses = await influx.query(`SELECT "total", "count" FROM "responses" WHERE "status" = '200'`);
    // krakend-influx's count is the change since the previous push (counter/counter.go:47-55), so the
    // repeated push rewrote the first point's count with 0.
    assert.deepEqual(responses[0]?.values, [
      [t1, first.length, 0],
      [t2, first.length + second.length, second.length],
    ]);
    const sizes = await influx.query(`SELECT "max", "min", "mean", "stddev", "variance" FROM "router.response-size"`);
    const [a, b] = [population(first), population(second)];
    assert.deepEqual(sizes[0]?.values, [
      [t1, Math.max(...first), Math.min(...first), Math.trunc(a.mean), Math.trunc(a.stddev), Math.trunc(a.variance)],
      [t2, Math.max(...second), Math.min(...second), Math.trunc(b.mean), Math.trunc(b.stddev), Math.trunc(b.variance)],
    ]);
  });
});
