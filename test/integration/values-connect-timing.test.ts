/**
 * DNS and TLS set-up times of backend connections (issue 19 item 7), measured in the connector and
 * handed to the request the connection was opened for, as krakend-otel's httptrace hooks attribute
 * them (http/client/transport_tracking.go:118-160): the request that opened a connection reports its
 * lookup and handshake, a request on a reused connection 0 and 0, a host given as an IP no lookup, an
 * `http:` origin no handshake, and a connection that failed what it spent before failing. Lookups and
 * handshakes are slowed by amounts the test chooses, real sockets and a real TLS handshake throughout.
 */
import { strict as assert } from 'node:assert';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it, type TestContext } from 'node:test';
import { Pool, type Dispatcher } from 'undici';
import { claimNewConnection, timedConnector } from '../../src/backends/connect-timing.js';
import { makeCerts } from '../helpers/certs.js';
import { deadPort, sendJson, startUpstream } from '../helpers/upstream.js';
import { delayLookups, slowHandshakeUpstream } from '../helpers/values-slow-connect.js';

const DNS_MS = 120;
const TLS_MS = 250;
/** Node's timers may fire a millisecond or two early against performance.now() (libuv's cached loop time). */
const AT_LEAST_DNS = DNS_MS - 3;
const AT_LEAST_TLS = TLS_MS - 5;

interface Outcome {
  readonly dnsMs: number;
  readonly tlsMs: number;
  /** From dispatch to the socket being handed to the request (what get-conn measures). */
  readonly connectMs: number;
  readonly status: number;
  readonly error: Error | undefined;
}

/** A request handler that claims the connection's timings where the gateway's exchange does. */
function send(pool: Dispatcher, path = '/'): Promise<Outcome> {
  return new Promise((resolve) => {
    const sink = { dnsMs: 0, tlsMs: 0 };
    const dispatched = performance.now();
    let connectMs = 0;
    let status = 0;
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart() {
        claimNewConnection(sink);
        connectMs = performance.now() - dispatched;
      },
      onResponseStart(_c, statusCode) {
        status = statusCode;
      },
      onResponseData() {},
      onResponseEnd() {
        resolve({ ...sink, connectMs, status, error: undefined });
      },
      onResponseError(_c, error) {
        claimNewConnection(sink);
        resolve({ ...sink, connectMs: performance.now() - dispatched, status, error });
      },
    };
    pool.dispatch({ path, method: 'GET', headers: {} }, handler);
  });
}

function pool(t: TestContext, origin: string, ca?: Buffer): Pool {
  const p = new Pool(origin, {
    connect: timedConnector({ timeout: 10_000, ...(ca === undefined ? {} : { ca }) }),
    pipelining: 1,
    keepAliveTimeout: 10_000,
  });
  t.after(() => p.destroy());
  return p;
}

describe('backend connection set-up times', { timeout: 60_000 }, () => {
  it('gives the lookup and the handshake to the request that opened the connection, 0 to the next', async (t) => {
    const certs = makeCerts();
    const up = await slowHandshakeUpstream(t, certs, TLS_MS);
    delayLookups(t, 'localhost', DNS_MS);
    const p = pool(t, `https://localhost:${up.port}`, certs.pem(certs.caCert));

    const first = await send(p);
    assert.equal(first.status, 200, String(first.error));
    assert.ok(first.dnsMs >= AT_LEAST_DNS, `dns ${first.dnsMs} ms ≥ ${DNS_MS}`);
    assert.ok(first.tlsMs >= AT_LEAST_TLS, `tls ${first.tlsMs} ms ≥ ${TLS_MS}`);
    assert.ok(
      first.dnsMs + first.tlsMs <= first.connectMs,
      `dns + tls (${first.dnsMs} + ${first.tlsMs}) within the connection wait ${first.connectMs}`,
    );
    assert.ok(first.dnsMs < TLS_MS, 'the handshake is not counted as lookup');

    // undici hands a finished connection back to its pool after the response callback: the next
    // request, sent a moment later, reuses it (sent at once, it would open a second one).
    await sleep(20);
    const reused = await send(p);
    assert.equal(reused.status, 200);
    assert.deepEqual([reused.dnsMs, reused.tlsMs], [0, 0], 'a reused connection reports 0 for both');
    assert.equal(up.connections(), 1);

    // One request opening a connection while another reuses one: only the first reports set-up times.
    await sleep(20);
    const [a, b] = await Promise.all([send(pool(t, `https://localhost:${up.port}`, certs.pem(certs.caCert))), send(p)]);
    assert.ok(a.dnsMs >= AT_LEAST_DNS && a.tlsMs >= AT_LEAST_TLS, JSON.stringify(a));
    assert.deepEqual([b.dnsMs, b.tlsMs], [0, 0]);
    assert.equal(up.connections(), 2);
    // Two at once on a new pool: two connections, each request reports the one it opened.
    const fresh = pool(t, `https://localhost:${up.port}`, certs.pem(certs.caCert));
    const both = await Promise.all([send(fresh), send(fresh)]);
    assert.equal(up.connections(), 4);
    for (const o of both) assert.ok(o.dnsMs >= AT_LEAST_DNS && o.tlsMs >= AT_LEAST_TLS, JSON.stringify(o));
  });

  it('reports no lookup for an IP address and no handshake for http', async (t) => {
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, { ok: true }));
    delayLookups(t, 'localhost', DNS_MS);
    const byIp = await send(pool(t, `http://127.0.0.1:${up.port}`));
    assert.deepEqual([byIp.status, byIp.dnsMs, byIp.tlsMs], [200, 0, 0]);
    const byName = await send(pool(t, `http://localhost:${up.port}`));
    assert.equal(byName.status, 200);
    assert.ok(byName.dnsMs >= AT_LEAST_DNS, `dns ${byName.dnsMs}`);
    assert.equal(byName.tlsMs, 0);
  });

  it('gives a connection that failed the time it spent to the request it was for', async (t) => {
    delayLookups(t, 'localhost', DNS_MS);
    const refused = await send(pool(t, `http://localhost:${await deadPort()}`));
    assert.ok(refused.error !== undefined, 'the connection was refused');
    assert.ok(refused.dnsMs >= AT_LEAST_DNS, `dns ${refused.dnsMs}`);
    assert.equal(refused.tlsMs, 0);

    // A server that is not TLS: the handshake fails, after the time it took.
    const plain = await startUpstream(t, (_req, res) => sendJson(res, 200, {}));
    const failed = await send(pool(t, `https://127.0.0.1:${plain.port}`));
    assert.ok(failed.error !== undefined);
    assert.equal(failed.dnsMs, 0);
    assert.ok(failed.tlsMs > 0, `tls ${failed.tlsMs}`);
  });
});
