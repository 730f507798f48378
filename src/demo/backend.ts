/**
 * The demo upstream that `tollgate demo` starts on loopback: a few JSON resources to aggregate, a
 * collection, a large streamed file, a slow route (to see timeouts) and a flaky one (to see partial
 * responses). Deterministic, no state, no dependencies.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const USERS: Record<string, { id: number; name: string; email: string; city: string; password_hash: string }> = {
  '1': { id: 1, name: 'Ada Lovelace', email: 'ada@example.test', city: 'London', password_hash: 'x1' },
  '2': { id: 2, name: 'Alan Turing', email: 'alan@example.test', city: 'Wilmslow', password_hash: 'x2' },
  '3': { id: 3, name: 'Grace Hopper', email: 'grace@example.test', city: 'Arlington', password_hash: 'x3' },
};

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export async function startDemoBackend(port = 0): Promise<{ server: Server; url: string }> {
  let flaky = 0;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://demo');
    const parts = url.pathname.split('/').filter(Boolean);
    if (parts[0] === 'users' && parts.length === 2) {
      const u = USERS[parts[1] as string];
      if (u === undefined) json(res, 404, { error: 'no such user' });
      else json(res, 200, u);
      return;
    }
    if (parts[0] === 'users' && parts[2] === 'orders') {
      json(res, 200, {
        orders: [
          { id: `${parts[1]}-1`, total: 42.5 },
          { id: `${parts[1]}-2`, total: 7 },
        ],
        currency: 'EUR',
      });
      return;
    }
    if (url.pathname === '/catalog') {
      json(res, 200, [
        { sku: 'tg-1', title: 'Toll ticket', price: 3 },
        { sku: 'tg-2', title: 'Season pass', price: 90 },
      ]);
      return;
    }
    if (url.pathname === '/weather') {
      json(res, 200, {
        city: url.searchParams.get('city') ?? 'London',
        forecast: { today: 'rain', tomorrow: 'more rain' },
        source: 'demo',
      });
      return;
    }
    if (url.pathname === '/slow') {
      setTimeout(() => json(res, 200, { slow: true }), Number(url.searchParams.get('ms') ?? 1500)).unref();
      return;
    }
    if (url.pathname === '/flaky') {
      flaky++;
      if (flaky % 3 === 0) json(res, 503, { error: 'try again' });
      else json(res, 200, { lucky: true });
      return;
    }
    if (url.pathname === '/file') {
      const size = Math.min(Number(url.searchParams.get('size') ?? 1048576), 64 * 1048576);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
      const chunk = Buffer.alloc(65536, 0x61);
      let left = size;
      const pump = (): void => {
        while (left > 0) {
          const n = Math.min(left, chunk.length);
          left -= n;
          if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
      return;
    }
    json(res, 404, { error: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: p } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${p}` };
}
