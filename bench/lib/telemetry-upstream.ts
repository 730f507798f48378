// Child process: the origin for bench/telemetry-throughput.ts. Like
// upstream-server.ts, plus a JSON resource so the gateway's json endpoint
// (decode, re-encode) can be measured too:
//   GET /payload  -> --payload bytes of application/octet-stream
//   GET /json     -> a JSON object of about --payload bytes
// Both with an explicit Content-Length; anything else is 404.

import { createServer } from 'node:http';
import { exitWithParent, listenOnLoopback, payloadOption } from './ipc.js';

exitWithParent();

const payloadBytes = payloadOption();

const body = Buffer.alloc(payloadBytes, 'x');
const okHeaders = { 'content-type': 'application/octet-stream', 'content-length': String(payloadBytes) };

/** A small catalogue-like document: an id, a name and items, padded to roughly the payload size. */
function jsonDocument(size: number): Buffer {
  const doc: { id: number; name: string; active: boolean; items: { sku: string; qty: number; price: number }[] } = {
    id: 42,
    name: 'bench user',
    active: true,
    items: [],
  };
  while (Buffer.byteLength(JSON.stringify(doc)) < size) {
    const n = doc.items.length;
    doc.items.push({
      sku: `sku-${String(n).padStart(5, '0')}`,
      qty: (n % 7) + 1,
      price: Math.round(((n * 37) % 1000) * 10.5) / 100,
    });
  }
  return Buffer.from(JSON.stringify(doc));
}

const json = jsonDocument(payloadBytes);
const jsonHeaders = { 'content-type': 'application/json', 'content-length': String(json.length) };
const notFound = Buffer.from('not found\n');

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/payload') {
    res.writeHead(200, okHeaders);
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  if (path === '/json') {
    res.writeHead(200, jsonHeaders);
    res.end(req.method === 'HEAD' ? undefined : json);
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain', 'content-length': String(notFound.length) });
  res.end(notFound);
});

// Longer than any proxy's pool idle timeout, so a pooled connection is never closed under the gateway.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;

listenOnLoopback(server, 'upstream');
