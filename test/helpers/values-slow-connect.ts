/**
 * Connection set-up that takes a known time, so DNS and TLS durations can be checked against numbers
 * the test chose: a name whose lookups answer after a delay, and a TLS upstream whose handshake is
 * held up by a relay that delays the server's first flight.
 */
import dns from 'node:dns';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import type { TestContext } from 'node:test';
import type { TestCerts } from './certs.js';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: unknown, family?: number) => void;

/**
 * Makes this process's lookups of `host` answer 127.0.0.1 after `delayMs` (net.connect resolves
 * through dns.lookup unless the host is an IP address), until the test ends.
 */
export function delayLookups(t: TestContext, host: string, delayMs: number): void {
  const original = dns.lookup;
  const slow = (hostname: string, options: unknown, callback?: LookupCallback): void => {
    const cb = (typeof options === 'function' ? options : callback) as LookupCallback;
    if (hostname !== host) {
      (original as (...a: unknown[]) => void)(hostname, options, callback);
      return;
    }
    const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true;
    setTimeout(() => (all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)), delayMs);
  };
  (dns as { lookup: unknown }).lookup = slow;
  t.after(() => {
    (dns as { lookup: unknown }).lookup = original;
  });
}

/**
 * An HTTPS upstream (the certs' server certificate, valid for localhost) behind a relay that holds
 * the server's bytes until `delayMs` after the client connected: the TLS handshake takes at least
 * that long, and nothing else does (the request on an open connection is not delayed).
 */
export async function slowHandshakeUpstream(
  t: TestContext,
  certs: TestCerts,
  delayMs: number,
  body = '{"ok":true}',
): Promise<{ port: number; connections: () => number }> {
  const server = createHttpsServer({ key: certs.pem(certs.serverKey), cert: certs.pem(certs.serverCert) }, (_q, r) => {
    r.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const target = (server.address() as AddressInfo).port;
  let connections = 0;
  const sockets = new Set<Socket>();
  const relay = createServer((client) => {
    connections++;
    const until = Date.now() + delayMs;
    const upstream = connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      const wait = until - Date.now();
      if (wait <= 0) client.write(chunk);
      else {
        upstream.pause();
        setTimeout(() => {
          client.write(chunk);
          upstream.resume();
        }, wait);
      }
    });
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all([
      new Promise((r) => relay.close(r)),
      new Promise((r) => {
        server.closeAllConnections();
        server.close(r);
      }),
    ]);
  });
  return { port: (relay.address() as AddressInfo).port, connections: () => connections };
}
