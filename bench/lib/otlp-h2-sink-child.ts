// Child process: a minimal OTLP/gRPC sink on node:http2, with the flow-control
// windows of a collector under load. It answers the two unary Export methods
// (traces, metrics) with an empty message and grpc-status 0, counting requests,
// bytes and (lib/otlp-wire.ts) spans or metrics, like lib/otlp-sink-child.ts.
//
// Why not that grpc-js server: it keeps HTTP/2's initial 64 KiB windows, so a
// 2048-span export (~800 KiB) waits for a dozen WINDOW_UPDATE round trips, each
// one turn of the *gateway's* event loop, which under saturation is several
// milliseconds: exports then take longer than the queue lasts and spans are
// dropped for the sink's sake. A real collector (grpc-go, BDP estimation) grows
// its windows to megabytes under sustained load; this sink opens 16 MiB
// windows at once.
//
// Same IPC protocol as the other sinks: the port through ipc.ts, then
// { type: 'counts' } answered with { type: 'counts', counts }.

import { constants, createServer, type ServerHttp2Stream } from 'node:http2';
import { gunzipSync } from 'node:zlib';
import { exitWithParent, listenOnLoopback } from './ipc.js';
import { sinkCounters, type MutableCounts } from './sink-counts.js';
import { countOtlpLeaves } from './otlp-wire.js';

exitWithParent();

const { traces, metrics } = sinkCounters();
const SIGNALS: Readonly<Record<string, MutableCounts>> = {
  '/opentelemetry.proto.collector.trace.v1.TraceService/Export': traces,
  '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export': metrics,
};
const WINDOW = 16 * 1024 * 1024;
const MAX_BODY_BYTES = 64 * 1024 * 1024;
/** An empty message: not compressed, length 0. */
const EMPTY_MESSAGE = Buffer.alloc(5);

/** The messages of a gRPC request body (5-byte prefix each: compressed flag, big-endian length). */
function count(counts: MutableCounts, body: Buffer, gzip: boolean): void {
  counts.requests++;
  let at = 0;
  try {
    while (at + 5 <= body.length) {
      const compressed = body[at] === 1;
      const n = body.readUInt32BE(at + 1);
      const message = body.subarray(at + 5, at + 5 + n);
      at += 5 + n;
      const plain = compressed && gzip ? gunzipSync(message) : message;
      counts.bytes += plain.length;
      counts.items += countOtlpLeaves(plain);
    }
    if (at !== body.length) counts.malformed++;
  } catch {
    counts.malformed++;
  }
}

function answer(stream: ServerHttp2Stream, status: number, message?: string): void {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () =>
    stream.sendTrailers({
      'grpc-status': String(status),
      ...(message === undefined ? {} : { 'grpc-message': message }),
    }),
  );
  stream.end(status === 0 ? EMPTY_MESSAGE : undefined);
}

const server = createServer({ settings: { initialWindowSize: WINDOW } });
server.on('session', (session) => {
  session.on('connect', () => session.setLocalWindowSize(WINDOW));
  session.on('error', () => undefined);
});
server.on('stream', (stream, headers) => {
  stream.on('error', () => undefined);
  const counts = SIGNALS[String(headers[constants.HTTP2_HEADER_PATH])];
  if (counts === undefined) {
    stream.resume();
    answer(stream, 12, 'unknown method');
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  stream.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  });
  stream.once('end', () => {
    if (size > MAX_BODY_BYTES) {
      answer(stream, 8, 'message too large');
      return;
    }
    count(counts, Buffer.concat(chunks, size), headers['grpc-encoding'] === 'gzip');
    answer(stream, 0);
  });
});

listenOnLoopback(server, 'otlp h2 sink');
