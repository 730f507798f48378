/**
 * Status codes a backend makes up: a code outside 100–599 is not a status (RFC 9110 §15), so the
 * gateway answers 502 and no metric ever carries it; within 100–599, a raw TCP backend answering
 * 800 different codes on one no-op route leaves /metrics, the Kong families and /__stats bounded,
 * with the overflow series taking what a route's budget of unnamed codes does not.
 */
import { strict as assert } from 'node:assert';
import { STATUS_CODES } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { Pool, request } from 'undici';
import { UNNAMED_STATUS_BUDGET } from '../../src/telemetry/store/status-budget.js';
import { parseSamples, type Sample } from '../helpers/exposition.js';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { title } from './cases.js';
import { scrapeText } from './support.js';

/**
 * A backend that answers `GET /s/<code>` with the status line `HTTP/1.1 <code> X` (whatever `<code>`
 * is: three digits or not), keep-alive, no body where HTTP forbids one.
 */
async function statusBackend(t: TestContext): Promise<string> {
  const open = new Set<Socket>();
  const server = createServer((socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    socket.on('data', (d: Buffer) => {
      buffered += d.toString('latin1');
      let end: number;
      while ((end = buffered.indexOf('\r\n\r\n')) !== -1) {
        const code = /^GET \/s\/(\S+) /.exec(buffered)?.[1] ?? '500';
        buffered = buffered.slice(end + 4);
        const n = Number(code);
        const bodyless = n === 204 || n === 304 || (n >= 100 && n < 200);
        socket.write(
          bodyless ? `HTTP/1.1 ${code} X\r\n\r\n` : `HTTP/1.1 ${code} X\r\ncontent-length: 2\r\n\r\n{}`,
          'latin1',
        );
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const s of open) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

async function setUp(t: TestContext): Promise<RunningGateway> {
  const up = await statusBackend(t);
  return startGateway(t, {
    timeout: '2s',
    extra_config: {
      'telemetry/opentelemetry': {
        exporters: { prometheus: [{ name: 'p', port: 0 }] },
        layers: { backend: { metrics: { round_trip: true, read_payload: true, detailed_connection: true } } },
      },
      'telemetry/kong-prometheus': {
        listen_address: '127.0.0.1:0',
        status_code_metrics: true,
        latency_metrics: true,
        bandwidth_metrics: true,
      },
      'telemetry/metrics': { listen_address: '127.0.0.1:0' },
    },
    endpoints: [
      {
        endpoint: '/s/{c}',
        output_encoding: 'no-op',
        backend: [{ host: [up], url_pattern: '/s/{c}', encoding: 'no-op' }],
      },
      { endpoint: '/j/{c}', backend: [{ host: [up], url_pattern: '/s/{c}' }] },
    ],
  });
}

interface Exports {
  readonly metricsText: string;
  readonly metrics: Sample[];
  readonly kongText: string;
  readonly kong: Sample[];
  readonly stats: Record<string, unknown>;
}

async function exports(gw: RunningGateway): Promise<Exports> {
  const metricsText = await scrapeText(gw);
  const kongText = await (
    await request(`http://127.0.0.1:${gw.gateway.telemetry.kongStatus?.address?.port}/metrics`, { reset: true })
  ).body.text();
  const stats = (await (
    await request(`http://127.0.0.1:${gw.gateway.telemetry.stats?.address?.port}/__stats`, { reset: true })
  ).body.json()) as Record<string, unknown>;
  return { metricsText, metrics: parseSamples(metricsText), kongText, kong: parseSamples(kongText), stats };
}

/** Sends GET `/<prefix>/<code>` for every code, `concurrency` at a time; returns the status the client got per code. */
async function sweep(
  gw: RunningGateway,
  prefix: string,
  codes: readonly string[],
  concurrency = 8,
): Promise<Map<string, number>> {
  const pool = new Pool(gw.url, { connections: concurrency });
  const got = new Map<string, number>();
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < codes.length) {
          const code = codes[next++] as string;
          const r = await pool.request({ path: `/${prefix}/${code}`, method: 'GET' });
          await r.body.dump();
          got.set(code, r.statusCode);
        }
      }),
    );
  } finally {
    await pool.close();
  }
  return got;
}

/** Every status-like label value in an exposition (OTel `http_response_status_code`, Kong `code`). */
function statusLabels(samples: readonly Sample[]): Set<string> {
  const out = new Set<string>();
  for (const s of samples)
    for (const k of ['http_response_status_code', 'code']) if (s.labels[k] !== undefined) out.add(s.labels[k]);
  return out;
}

const range = (from: number, to: number): string[] =>
  Array.from({ length: to - from + 1 }, (_v, i) => String(from + i));
const namedIn = (from: number, to: number): number =>
  range(from, to).filter((c) => STATUS_CODES[Number(c)] !== undefined).length;

describe('backend statuses: out of range refused, in range bounded', () => {
  it(title('status-out-of-range'), async (t) => {
    const gw = await setUp(t);
    const invalid = ['600', '700', '999'];
    const noop = await sweep(gw, 's', [...invalid, '1000', '12345', '099', '299'], 1);
    const json = await sweep(gw, 'j', [...invalid, '200'], 1);
    for (const c of [...invalid, '1000', '12345', '099']) assert.equal(noop.get(c), 502, `no-op, backend ${c}`);
    assert.equal(noop.get('299'), 299, 'an unnamed code within 100–599 is relayed');
    for (const c of invalid) assert.equal(json.get(c), 500, `json, backend ${c}`);
    assert.equal(json.get('200'), 200);
    const r = await request(`${gw.url}/s/999`);
    assert.deepEqual(((await r.body.json()) as { code: string }).code, 'TG_ERR_BACKEND_UNAVAILABLE');
    const e = await exports(gw);
    const labels = [...statusLabels(e.metrics), ...statusLabels(e.kong)].map(Number);
    assert.deepEqual(
      labels.filter((n) => n !== 0 && (n < 100 || n > 599)),
      [],
      'no metric carries a status outside 100–599',
    );
    assert.deepEqual(
      Object.keys(e.stats).filter((k) => /\.status\.(?:[6-9]\d\d|\d{4,}|0\d\d)\.count$/.test(k)),
      [],
      '/__stats neither',
    );
    // The refused answers are failed round trips (status 0), as a response that is not HTTP is.
    const failed = e.metrics.filter(
      (s) => s.name.endsWith('failed_count_total') && s.labels.http_response_status_code === '0',
    );
    // No-op: three codes above 599, three llhttp refuses, the extra 999; json: three above 599.
    assert.equal(
      failed.reduce((n, s) => n + s.value, 0),
      3 + 3 + 1 + 3,
      JSON.stringify(failed),
    );
    assert.ok(!(e.metricsText + e.kongText).includes('"999"'));
  });

  it(title('status-cardinality-backend'), async (t) => {
    const gw = await setUp(t);
    await sweep(gw, 's', ['200']);
    const before = await exports(gw);
    const codes = range(200, 999);
    const got = await sweep(gw, 's', codes);
    const after = await exports(gw);
    // Per route: the named codes of 200–599, the budget of unnamed ones, the 502s; the rest is overflow.
    const bound = namedIn(200, 599) + UNNAMED_STATUS_BUDGET;
    const serverStatuses = new Set(
      after.metrics
        .filter((s) => s.name === 'http_server_duration_count' && s.labels.http_route === '/s/:c')
        .map((s) => s.labels.http_response_status_code),
    );
    assert.ok(serverStatuses.size <= bound, `${serverStatuses.size} server status series > ${bound}`);
    assert.ok(
      after.metrics.some(
        (s) => s.name === 'http_server_duration_count' && s.labels.otel_metric_overflow === 'true' && s.value > 0,
      ),
      'the server overflow series',
    );
    assert.ok(
      after.metrics.some(
        (s) => s.name.startsWith('http_client_') && s.labels.otel_metric_overflow === 'true' && s.value > 0,
      ),
      'the round-trip overflow series',
    );
    const kongCodes = new Set(
      after.kong
        .filter((s) => s.name === 'kong_http_requests_total' && s.labels.route === '/s/{c}')
        .map((s) => s.labels.code),
    );
    // Kong's own 499 (a client that left) always has a series of its own, so a backend answering 499 too gets it.
    assert.ok(kongCodes.size <= bound + 1, `${kongCodes.size} Kong code series > ${bound + 1}`);
    assert.ok(
      after.kong.some(
        (s) => s.name === 'kong_http_requests_total' && s.labels.otel_metric_overflow === 'true' && s.value > 0,
      ),
      'the Kong overflow series',
    );
    assert.ok(
      (after.kong.find((s) => s.name === 'kong_nginx_metric_errors_total')?.value ?? 0) > 0,
      'overflow counts as a Kong metric error',
    );
    const statusKeys = Object.keys(after.stats).filter(
      (k) => k.startsWith('krakend.router.response./s/:c.status.') && k.endsWith('.count'),
    );
    assert.ok(statusKeys.length <= bound + 1, `${statusKeys.length} /__stats status keys`);
    assert.ok(
      (after.stats['krakend.router.response./s/:c.status.other.count'] as number) > 0,
      '/__stats counts the rest under status.other',
    );
    // Measured: 0.07 → 36.1 MB before the fix (one series per code in every status-labelled family), 3.1 MB after.
    const mb = (s: string): number => Buffer.byteLength(s) / 1e6;
    t.diagnostic(
      `/metrics ${mb(before.metricsText).toFixed(2)} → ${mb(after.metricsText).toFixed(2)} MB, ${before.metrics.length} → ${after.metrics.length} samples; Kong ${mb(before.kongText).toFixed(3)} → ${mb(after.kongText).toFixed(3)} MB; server status series ${serverStatuses.size}, Kong codes ${kongCodes.size}, /__stats status keys ${statusKeys.length}`,
    );
    assert.ok(mb(after.metricsText) < 4, `/metrics is ${mb(after.metricsText).toFixed(1)} MB`);
    const relayed = new Set([...got].filter(([c, s]) => String(s) === c).map(([c]) => c));
    assert.deepEqual([...relayed].sort(), range(200, 599), 'every code within 100–599 is relayed');
    assert.ok(
      [...got].filter(([c]) => Number(c) > 599).every(([, s]) => s === 502),
      'every other one is a 502',
    );
    // A second sweep over every code binds nothing new.
    await sweep(gw, 's', codes);
    const again = await exports(gw);
    assert.equal(again.metrics.length, after.metrics.length);
    assert.equal(again.kong.length, after.kong.length);
    assert.equal(Object.keys(again.stats).length, Object.keys(after.stats).length);
  });
});
