// Child process: the origin server every target proxies to.
// GET|HEAD /payload answers a fixed body of --payload bytes with an explicit
// Content-Length (no chunking, so all proxies see identical framing); any
// other path is 404. It does as little work per request as possible so that
// the proxies, not the origin, dominate the measurements.

import { createServer } from 'node:http';
import { exitWithParent, listenOnLoopback, payloadOption } from './ipc.js';

exitWithParent();

const payloadBytes = payloadOption();

const body = Buffer.alloc(payloadBytes, 'x');
const okHeaders = {
  'content-type': 'application/octet-stream',
  'content-length': String(payloadBytes),
};
const notFound = Buffer.from('not found\n');

const server = createServer((req, res) => {
  const path = req.url ?? '/';
  if (path === '/payload' || path.startsWith('/payload?')) {
    res.writeHead(200, okHeaders);
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain', 'content-length': String(notFound.length) });
  res.end(notFound);
});

// Longer than any proxy's pool idle timeout, so proxies never race the origin
// closing an idle keep-alive connection (which shows up as spurious errors).
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;

listenOnLoopback(server, 'upstream');
