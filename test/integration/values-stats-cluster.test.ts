/**
 * `/__stats`, InfluxDB and the process families in the cluster topology (`tollgate run` with a primary
 * and two workers), against what KrakenD reports for the same traffic (issue 19 items 6, 11, 12, 13):
 * expvar's `cmdline` and `memstats` next to the krakend.* keys, population standard deviations of the
 * response sizes the test received, Influx points stamped with the snapshot time (one point per
 * snapshot however often it is pushed), and the namespace's network bytes counted once, not per worker.
 */
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { freePort, waitForHttp, writeConfig } from '../helpers/cli.js';
import { parseSamples, value } from '../helpers/exposition.js';
import { INFLUXD, startInflux } from '../helpers/influxdb.js';
import { startUpstream } from '../helpers/upstream.js';
import { ipExtOctets, rssBytes, softLimit, startTollgate, workerPids } from '../helpers/values-procfs.js';

const COLLECTION_MS = 4000;
/** Response body sizes the upstream is asked for; their variance is not an integer (no truncation edge). */
const SIZES = [3, 10, 40, 100, 250, 7, 64, 1000, 3, 55, 128, 17];
const ROUNDS = 3;

function population(values: readonly number[]): { mean: number; variance: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return { mean, variance: values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length };
}

/** Sends every size ROUNDS times, each request on a connection of its own (both workers serve). */
async function load(url: string): Promise<number[]> {
  const received: number[] = [];
  const lane = async (sizes: readonly number[]): Promise<void> => {
    for (const n of sizes) {
      const agent = new Agent({ connections: 1, pipelining: 0 });
      try {
        const r = await request(`${url}/s/${n}`, { dispatcher: agent, reset: true });
        const body = Buffer.from(await r.body.arrayBuffer());
        assert.equal(r.statusCode, 200);
        received.push(body.length);
      } finally {
        await agent.close();
      }
    }
  };
  const all = Array.from({ length: ROUNDS }, () => SIZES).flat();
  await Promise.all([0, 1, 2, 3].map((i) => lane(all.filter((_, j) => j % 4 === i))));
  return received;
}

/** Resolves just after a multiple of COLLECTION_MS since the epoch: the workers' collection grid. */
async function justAfterTick(): Promise<number> {
  const next = (Math.floor(Date.now() / COLLECTION_MS) + 1) * COLLECTION_MS;
  await sleep(next - Date.now() + 300);
  return next;
}

describe(
  'cluster topology: /__stats, InfluxDB and process families as one KrakenD process',
  { timeout: 90_000 },
  () => {
    it('keeps expvar’s keys, sums workers as one process, and stamps Influx points with the snapshot time', async (t) => {
      if (INFLUXD === undefined || !existsSync('/proc/self/net/netstat')) {
        t.skip('needs influxd (Debian package influxdb) and procfs');
        return;
      }
      const influx = await startInflux(t);
      const up = await startUpstream(t, (req, res) => {
        const n = Number(/^\/s\/(\d+)$/.exec(req.url ?? '')?.[1] ?? 0);
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': n }).end('x'.repeat(n));
      });
      const [port, metricsPort, statsPort] = [await freePort(), await freePort(), await freePort()];
      const file = writeConfig({
        version: 3,
        port,
        workers: 2,
        extra_config: {
          'telemetry/opentelemetry': {
            exporters: {
              prometheus: [{ name: 'p', port: metricsPort, listen_ip: '127.0.0.1', process_metrics: true }],
            },
          },
          'telemetry/metrics': {
            listen_address: `127.0.0.1:${statsPort}`,
            collection_time: `${COLLECTION_MS / 1000}s`,
          },
          'telemetry/influx': {
            address: influx.url,
            ttl: '1s',
            db: 'krakend',
            username: influx.user,
            password: influx.password,
          },
        },
        endpoints: [
          {
            endpoint: '/s/{n}',
            output_encoding: 'no-op',
            backend: [{ host: [up.url], url_pattern: '/s/{n}', encoding: 'no-op' }],
          },
        ],
      });
      const cli = startTollgate(t, ['run', '-c', file, '--log-level', 'info']);
      const url = `http://127.0.0.1:${port}`;
      await waitForHttp(`${url}/__health`, 30_000).catch((err: unknown) => {
        throw new Error(`${String(err)}\n${cli.output().slice(-3000)}`);
      });
      await waitForHttp(`http://127.0.0.1:${metricsPort}/metrics`, 10_000);
      const startedNs = Date.now() * 1e6;

      // One collection window holds the whole load: it starts right after a tick of the workers' grid.
      const windowStart = await justAfterTick();
      const received = await load(url);
      const pids = workerPids(cli.output());
      assert.equal(pids.length, 2, cli.output().slice(-2000));
      const rssBefore = pids.reduce((n, p) => n + rssBytes(p), 0);
      const statsText = await (await request(`http://127.0.0.1:${statsPort}/__stats`)).body.text();
      const rssAfter = pids.reduce((n, p) => n + rssBytes(p), 0);
      assert.ok(Date.now() < windowStart + COLLECTION_MS, 'the load and the read fit in one window');
      const stats = JSON.parse(statsText) as Record<string, unknown>;

      // expvar's layout: cmdline and memstats, as in every Go process, plus a key of Tollgate's own.
      assert.deepEqual(stats.cmdline, cli.argv);
      const memstats = stats.memstats as Record<string, number>;
      assert.deepEqual(Object.keys(memstats), [
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
      assert.equal(stats['tollgate.cluster.workers'], 2);
      assert.equal(stats.workers, undefined);
      for (const k of ['Alloc', 'Sys', 'HeapAlloc', 'HeapSys', 'NumGC', 'PauseTotalNs', 'LastGC'])
        assert.equal(memstats[k], stats[`krakend.service.runtime.MemStats.${k}`], `memstats.${k} is the key's value`);
      // Sys is the resident memory of the processes that serve (the two workers), read here from /proc.
      const sys = memstats.Sys as number;
      assert.ok(
        sys >= 0.8 * Math.min(rssBefore, rssAfter) && sys <= 1.2 * Math.max(rssBefore, rssAfter),
        `memstats.Sys ${sys} ≈ the workers' RSS ${rssBefore}..${rssAfter}`,
      );
      // LastGC is an instant (epoch ns): the newest worker's, never a sum.
      assert.ok((memstats.LastGC as number) <= Date.now() * 1e6, 'LastGC is not in the future');
      if ((memstats.NumGC as number) > 0) assert.ok((memstats.LastGC as number) >= startedNs - 60e9);

      // The window's response sizes: count, extremes, mean and the population standard deviation.
      const want = population(received);
      const size = (s: string): number => stats[`krakend.router.response./s/:n.size.${s}`] as number;
      assert.equal(size('count'), received.length);
      assert.equal(size('min'), Math.min(...received));
      assert.equal(size('max'), Math.max(...received));
      assert.ok(Math.abs(size('mean') - want.mean) < 1e-9 * want.mean, `mean ${size('mean')} ≠ ${want.mean}`);
      const stddev = Math.sqrt(want.variance);
      assert.ok(Math.abs(size('std-dev') - stddev) < 1e-9 * stddev, `std-dev ${size('std-dev')} ≠ ${stddev}`);

      // The namespace's network bytes once (each worker reads the same counter), as the test reads them.
      const before = ipExtOctets();
      const samples = parseSamples(await (await request(`http://127.0.0.1:${metricsPort}/metrics`)).body.text());
      const after = ipExtOctets();
      const rx = value(samples, 'process_network_receive_bytes_total');
      const tx = value(samples, 'process_network_transmit_bytes_total');
      assert.ok(before.in <= rx && rx <= after.in, `receive ${rx} within [${before.in}, ${after.in}]`);
      assert.ok(before.out <= tx && tx <= after.out, `transmit ${tx} within [${before.out}, ${after.out}]`);
      assert.equal(value(samples, 'process_virtual_memory_max_bytes'), softLimit('Max address space'));

      // Two more ticks, pushed every second: each snapshot is one point at its tick, however often pushed.
      const tick = windowStart + COLLECTION_MS;
      await sleep(tick + 2 * COLLECTION_MS + 1500 - Date.now());
      const sizeRows = await influx.query(
        `SELECT "min", "max", "mean", "stddev", "variance" FROM "router.response-size"`,
      );
      assert.deepEqual(
        sizeRows[0]?.values,
        [
          [
            tick / 1000,
            Math.min(...received),
            Math.max(...received),
            Math.trunc(want.mean),
            Math.trunc(stddev),
            Math.trunc(want.variance),
          ],
        ],
        'one point for the window, at the tick that closed it; later windows are empty and left out',
      );
      const responses = await influx.query(`SELECT "total" FROM "responses" WHERE "status" = '200'`);
      const rows = responses[0]?.values ?? [];
      assert.ok(rows.length >= 3 && rows.length <= 4, `one point per tick, not per push: ${JSON.stringify(rows)}`);
      for (const [time] of rows)
        assert.equal((time as number) % (COLLECTION_MS / 1000), 0, `${String(time)} is a tick`);
      assert.deepEqual(rows.at(-1)?.[1], received.length);
    });
  },
);
