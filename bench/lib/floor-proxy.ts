// Child process: the "floor" — the thinnest reasonable undici proxy.
// It is the reference Tollgate is held to (target: >= 0.90x of its req/s), so
// it does only what any correct HTTP proxy must: forward method, path and
// end-to-end headers, and stream status, headers and body back. No routing,
// no config, no logging, no metrics.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Pool } from 'undici';
import { stripHopByHop } from './hop-by-hop.js';
import { exitWithParent, listenOnLoopback, upstreamOption } from './ipc.js';

exitWithParent();

const upstream = upstreamOption('floor proxy');

// One keep-alive pool to the single upstream; default connection limit
// (unbounded) means it grows to the client concurrency and then reuses.
const pool = new Pool(upstream, { keepAliveTimeout: 30_000, pipelining: 1 });

// undici sets Host from the pool origin, so the client's Host must not leak.
const DROP_REQUEST = new Set(['host']);

function hasRequestBody(req: IncomingMessage): boolean {
  return req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
}

function onUpstreamDone(res: ServerResponse, error: Error | null): void {
  if (error === null) return;
  if (!res.headersSent) {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end('bad gateway\n');
  } else {
    res.destroy(error);
  }
}

const server = createServer((req, res) => {
  // `stream` (rather than `request`) hands the body straight to our writable,
  // skipping the intermediate Readable — the cheapest undici API for proxying.
  pool.stream(
    {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: stripHopByHop(req.headers, DROP_REQUEST),
      body: hasRequestBody(req) ? req : null,
      opaque: res,
    },
    ({ statusCode, headers, opaque }) => {
      opaque.writeHead(statusCode, stripHopByHop(headers));
      return opaque;
    },
    (error) => onUpstreamDone(res, error),
  );
});

listenOnLoopback(server, 'floor proxy');
