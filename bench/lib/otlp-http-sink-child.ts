// Child process: a minimal OTLP/HTTP sink (protobuf, POST /v1/traces and
// /v1/metrics). It reads each body, counts requests, bytes and (by walking
// the wire format, lib/otlp-wire.ts) spans or metrics, and answers 200 with
// an empty body — an empty Export*ServiceResponse, which the exporter accepts.
// Nothing is decoded into objects, so the sink stays cheap at any rate.
//
// It speaks the same IPC protocol as the gRPC sink (lib/otlp-sink-child.ts):
// the port through ipc.ts, then { type: 'counts' } answered with
// { type: 'counts', counts } in the OtlpSinkCounts shape.

import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { exitWithParent, listenOnLoopback } from './ipc.js';
import { sinkCounters, type MutableCounts } from './sink-counts.js';
import { countOtlpLeaves } from './otlp-wire.js';

exitWithParent();

const { traces, metrics } = sinkCounters();
const SIGNALS: Readonly<Record<string, MutableCounts>> = { '/v1/traces': traces, '/v1/metrics': metrics };
/** A batch of the gateway is at most 1 MiB; anything far bigger is refused rather than buffered. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

function count(counts: MutableCounts, body: Buffer, gzip: boolean): void {
  counts.requests++;
  counts.bytes += body.length;
  try {
    counts.items += countOtlpLeaves(gzip ? gunzipSync(body) : body);
  } catch {
    counts.malformed++;
  }
}

const server = createServer((req, res) => {
  const counts = SIGNALS[(req.url ?? '/').split('?')[0] ?? ''];
  if (req.method !== 'POST' || counts === undefined) {
    res.writeHead(404, { 'content-length': '0' }).end();
    req.resume();
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  });
  req.once('end', () => {
    if (size > MAX_BODY_BYTES) {
      res.writeHead(413, { 'content-length': '0' }).end();
      return;
    }
    count(counts, Buffer.concat(chunks, size), req.headers['content-encoding'] === 'gzip');
    res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '0' }).end();
  });
  req.once('error', () => res.destroy());
});
server.keepAliveTimeout = 65_000;

listenOnLoopback(server, 'otlp http sink');
