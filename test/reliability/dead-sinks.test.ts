/**
 * Telemetry that cannot deliver must not slow requests down (STYLE: "a dead collector costs a log
 * line, not memory or latency"). The same gateway config runs twice, one phase after the other: with
 * live sinks (a real OTLP receiver on gRPC and HTTP, an InfluxDB-shaped server answering 204), then with
 * dead ones (TCP servers that accept and never answer) plus scrapers that never read their /metrics.
 * Requests are paced over more than two metric periods so every push path is stuck during the sample.
 */
import { strict as assert } from 'node:assert';
import { createServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { Pool } from 'undici';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { startOtlpReceiver } from '../helpers/otlp-receiver.js';
import { closeServer, sendJson, startUpstream } from '../helpers/upstream.js';
import { title } from './cases.js';
import { eventually, percentile, startBlackHole, scrape, total } from './support.js';

const SAMPLES = 400;
/** Discarded first: JIT warm-up and first connections are not what is compared. */
const WARMUP = 50;
const PACE_MS = 6;

interface Sinks {
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly influxUrl: string;
  /** Resolves once every sink has been contacted at least once. */
  readonly engaged: () => boolean;
}

async function liveSinks(t: TestContext): Promise<Sinks> {
  const otlp = await startOtlpReceiver(t);
  let writes = 0;
  const influx = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      writes++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => influx.listen(0, '127.0.0.1', r));
  t.after(() => closeServer(influx));
  const port = (influx.address() as { port: number }).port;
  const grpcSeen = (): boolean => otlp.requests.some((r) => r.transport === 'grpc' && r.signal === 'metrics');
  const httpSeen = (): boolean => otlp.requests.some((r) => r.transport === 'http' && r.signal === 'metrics');
  return {
    grpcPort: otlp.grpcPort,
    httpPort: otlp.httpPort,
    influxUrl: `http://127.0.0.1:${port}`,
    engaged: () => grpcSeen() && httpSeen() && writes > 0,
  };
}

async function deadSinks(t: TestContext): Promise<Sinks & { accepted: () => number[] }> {
  const [grpc, http, influx] = await Promise.all([startBlackHole(t), startBlackHole(t), startBlackHole(t)]);
  return {
    grpcPort: grpc.port,
    httpPort: http.port,
    influxUrl: influx.url,
    engaged: () => grpc.accepted > 0 && http.requests > 0 && influx.requests > 0,
    accepted: () => [grpc.accepted, http.accepted, influx.accepted],
  };
}

async function gatewayWith(t: TestContext, sinks: Sinks, upstreamUrl: string): Promise<RunningGateway> {
  return startGateway(t, {
    extra_config: {
      'telemetry/opentelemetry': {
        service_name: 'sinks',
        metric_reporting_period: 1,
        trace_sample_rate: 1,
        exporters: {
          prometheus: [{ name: 'prom', port: 0 }],
          otlp: [
            { name: 'grpc', host: '127.0.0.1', port: sinks.grpcPort },
            { name: 'http', host: '127.0.0.1', port: sinks.httpPort, use_http: true },
          ],
        },
      },
      'telemetry/metrics': { collection_time: '100ms', listen_address: '127.0.0.1:0' },
      'telemetry/influx': { address: sinks.influxUrl, ttl: '200ms', buffer_size: 10, username: 'u', password: 'p' },
    },
    endpoints: [{ endpoint: '/a', backend: [{ host: [upstreamUrl], url_pattern: '/a' }] }],
  });
}

/** Scrapers that ask for /metrics, many times on each socket, and never read the answers. */
function stuckScrapers(t: TestContext, port: number, sockets: number): void {
  const open: Socket[] = [];
  for (let i = 0; i < sockets; i++) {
    const s = connect(port, '127.0.0.1', () => s.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(50)));
    s.pause();
    s.on('error', () => undefined);
    open.push(s);
  }
  t.after(() => open.forEach((s) => s.destroy()));
}

async function paced(gw: RunningGateway): Promise<number[]> {
  const pool = new Pool(gw.url, { connections: 1 });
  const out: number[] = [];
  try {
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      const started = performance.now();
      const r = await pool.request({ path: '/a', method: 'GET' });
      await r.body.dump();
      assert.equal(r.statusCode, 200);
      if (i >= WARMUP) out.push(performance.now() - started);
      await new Promise((res) => setTimeout(res, PACE_MS));
    }
  } finally {
    await pool.close();
  }
  return out;
}

describe('dead and slow telemetry sinks', () => {
  it(title('sink-dead-all'), async (t) => {
    process.env.OTEL_BSP_SCHEDULE_DELAY = '100';
    t.after(() => delete process.env.OTEL_BSP_SCHEDULE_DELAY);
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, { ok: true }));

    const live = await liveSinks(t);
    const gwLive = await gatewayWith(t, live, up.url);
    const withLive = await paced(gwLive);
    assert.ok(await eventually(live.engaged, 5_000), 'the live sinks received data');
    await gwLive.gateway.close(1_000);

    const dead = await deadSinks(t);
    const gwDead = await gatewayWith(t, dead, up.url);
    stuckScrapers(t, gwDead.gateway.telemetry.exporters[0]?.address?.port ?? 0, 4);
    const withDead = await paced(gwDead);
    assert.ok(
      await eventually(dead.engaged, 5_000),
      `every dead sink was contacted (accepted ${dead.accepted().join('/')})`,
    );

    const samples = await scrape(gwDead);
    const skipped = total(samples, 'tollgate_telemetry_metric_pushes_total', { outcome: 'skipped' });
    assert.ok(skipped >= 2, `OTLP pushes skip while one is stuck (${skipped} skipped), they do not pile up`);
    const influxLines = gwDead.logs.filter((l) => l.msg === "Couldn't write to InfluxDB");
    assert.ok(influxLines.length <= 1, `${influxLines.length} Influx failure lines: rate limited`);
    const closing = performance.now();
    await gwDead.gateway.close(1_000);
    const closeMs = performance.now() - closing;
    // close(1000) gives telemetry one second in all (it took 3 s when each flush step had its own).
    assert.ok(closeMs < 2_000, `close(1000) with dead sinks took ${closeMs.toFixed(0)} ms`);

    const p99Live = percentile(withLive, 99);
    const p99Dead = percentile(withDead, 99);
    t.diagnostic(
      `p50 ${percentile(withLive, 50).toFixed(2)} ms live, ${percentile(withDead, 50).toFixed(2)} ms dead; p99 ${p99Live.toFixed(2)} ms live, ${p99Dead.toFixed(2)} ms dead (${SAMPLES} requests each); ${skipped} OTLP pushes skipped; close ${closeMs.toFixed(0)} ms`,
    );
    assert.ok(
      p99Dead < 2 * p99Live + 5,
      `p99 with dead sinks ${p99Dead.toFixed(2)} ms vs ${p99Live.toFixed(2)} ms with live ones`,
    );
  });
});
