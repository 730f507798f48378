/**
 * `http_client_request_dns_duration` and `http_client_request_tls_duration` of the gateway (issue 19
 * item 7) against krakend-otel for the same traffic: recorded on every round trip with
 * detailed_connection (http/client/transport_metrics.go:220-224), holding the lookup and handshake of
 * the connection a request opened and 0 for a request that reused one (the httptrace hooks did not
 * fire, transport_tracking.go:118-160). Lookups and handshakes are slowed by amounts the test chose;
 * the TLS case runs `tollgate run` (primary and worker) trusting the test's CA.
 */
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { makeCerts } from '../helpers/certs.js';
import { freePort, waitForHttp, writeConfig } from '../helpers/cli.js';
import { find, parseSamples, value, type Sample } from '../helpers/exposition.js';
import { startGateway } from '../helpers/gateway.js';
import { sendJson, startUpstream } from '../helpers/upstream.js';
import { startTollgate } from '../helpers/values-procfs.js';
import { delayLookups, slowHandshakeUpstream } from '../helpers/values-slow-connect.js';

const DNS_MS = 120;
const TLS_MS = 250;
/** Node's timers may fire a millisecond or two early against performance.now() (libuv's cached loop time). */
const AT_LEAST_DNS = DNS_MS - 3;
const AT_LEAST_TLS = TLS_MS - 5;
/**
 * A module `tollgate run` preloads (workers inherit NODE_OPTIONS): lookups of the host in
 * VALUES_SLOW_DNS (`host=ms`) answer 127.0.0.1 after that many milliseconds.
 */
const SLOW_DNS_MODULE = `import dns from 'node:dns';
const [host, ms] = (process.env.VALUES_SLOW_DNS ?? '').split('=');
const original = dns.lookup;
dns.lookup = function slowLookup(hostname, options, callback) {
  const cb = typeof options === 'function' ? options : callback;
  if (hostname !== host) return original.call(this, hostname, options, callback);
  const all = typeof options === 'object' && options !== null && options.all === true;
  setTimeout(() => (all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)), Number(ms));
};
`;

/** Sequential GETs on one client connection, a moment apart so the backend connection is reused. */
async function get(url: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = await request(url);
    assert.equal(r.statusCode, 200, await r.body.text());
    await r.body.dump().catch(() => undefined);
    await sleep(20);
  }
}

function seconds(
  samples: readonly Sample[],
  family: string,
  labels: Record<string, string>,
): { count: number; sum: number } {
  return { count: value(samples, `${family}_count`, labels), sum: value(samples, `${family}_sum`, labels) };
}

/** The observations in the lowest bucket: the zeros of reused connections land there. */
function lowestBucket(samples: readonly Sample[], family: string, labels: Record<string, string>): number {
  const buckets = find(samples, `${family}_bucket`, labels).sort((a, b) => Number(a.labels.le) - Number(b.labels.le));
  return (buckets[0] as Sample).value;
}

describe('DNS and TLS durations of backend round trips', { timeout: 90_000 }, () => {
  it('records the lookup once for the request that opened the connection, 0 for the rest, no TLS on http', async (t) => {
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, { ok: true }));
    delayLookups(t, 'localhost', DNS_MS);
    const gw = await startGateway(t, {
      extra_config: {
        'telemetry/opentelemetry': {
          exporters: { prometheus: [{ name: 'p', port: 0, listen_ip: '127.0.0.1' }] },
        },
      },
      endpoints: [{ endpoint: '/a', backend: [{ host: [`http://localhost:${up.port}`], url_pattern: '/x' }] }],
    });
    await get(`${gw.url}/a`, 3);
    const port = gw.gateway.telemetry.exporters[0]?.address?.port;
    const samples = parseSamples(await (await request(`http://127.0.0.1:${port}/metrics`)).body.text());
    const rt = { http_route: '/x', server_address: 'localhost', http_response_status_code: '200' };
    const dns = seconds(samples, 'http_client_request_dns_duration', rt);
    const tls = seconds(samples, 'http_client_request_tls_duration', rt);
    const getConn = seconds(samples, 'http_client_request_get_conn_duration', rt);
    assert.equal(dns.count, 3, 'recorded on every round trip');
    assert.ok(dns.sum >= AT_LEAST_DNS / 1000, `one lookup of ≥ ${DNS_MS} ms: ${dns.sum}`);
    assert.ok(dns.sum <= getConn.sum, `within the wait for the connection: ${dns.sum} ≤ ${getConn.sum}`);
    assert.ok(lowestBucket(samples, 'http_client_request_dns_duration', rt) >= 2, 'two reused connections: 0');
    assert.deepEqual([tls.count, tls.sum], [3, 0], 'http: no handshake');
  });

  it('records the TLS handshake of the connection a request opened, in the cluster topology', async (t) => {
    const certs = makeCerts();
    const up = await slowHandshakeUpstream(t, certs, TLS_MS);
    const [port, metricsPort] = [await freePort(), await freePort()];
    const file = writeConfig({
      version: 3,
      port,
      workers: 1,
      extra_config: {
        'telemetry/opentelemetry': {
          exporters: { prometheus: [{ name: 'p', port: metricsPort, listen_ip: '127.0.0.1' }] },
        },
      },
      endpoints: [{ endpoint: '/a', backend: [{ host: [`https://localhost:${up.port}`], url_pattern: '/x' }] }],
    });
    const preload = join(dirname(file), 'values-slow-dns.mjs');
    writeFileSync(preload, SLOW_DNS_MODULE);
    const cli = startTollgate(t, ['run', '-c', file], {
      NODE_EXTRA_CA_CERTS: certs.caCert,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${preload}`,
      VALUES_SLOW_DNS: `localhost=${DNS_MS}`,
    });
    await waitForHttp(`http://127.0.0.1:${port}/__health`, 30_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${cli.output().slice(-3000)}`);
    });
    await get(`http://127.0.0.1:${port}/a`, 4);
    assert.equal(up.connections(), 1, 'one backend connection, reused');
    const samples = parseSamples(await (await request(`http://127.0.0.1:${metricsPort}/metrics`)).body.text());
    const rt = { http_route: '/x', server_address: 'localhost', http_response_status_code: '200' };
    const dns = seconds(samples, 'http_client_request_dns_duration', rt);
    const tls = seconds(samples, 'http_client_request_tls_duration', rt);
    const getConn = seconds(samples, 'http_client_request_get_conn_duration', rt);
    assert.equal(tls.count, 4);
    assert.ok(tls.sum >= AT_LEAST_TLS / 1000, `one handshake of ≥ ${TLS_MS} ms: ${tls.sum}`);
    assert.ok(dns.sum >= AT_LEAST_DNS / 1000, `one lookup of ≥ ${DNS_MS} ms: ${dns.sum}`);
    assert.ok(dns.sum + tls.sum <= getConn.sum, `dns + tls within the connection wait ${getConn.sum}`);
    assert.equal(lowestBucket(samples, 'http_client_request_tls_duration', rt), 3, 'three reused connections: 0');
  });
});
