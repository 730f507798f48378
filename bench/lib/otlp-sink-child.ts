// Child process: a minimal OTLP/gRPC sink for bench/otlp-throughput.ts. It
// answers the two unary methods a gateway's OTLP exporters call,
//   /opentelemetry.proto.collector.trace.v1.TraceService/Export
//   /opentelemetry.proto.collector.metrics.v1.MetricsService/Export
// generically: the request stays raw bytes (no protobuf library, no message
// objects) and the response is an empty message, which in protobuf is zero
// bytes. It counts requests and bytes per service, and walks the wire format
// just far enough to count spans and metrics (length-delimited skips, no
// decoding of their contents), so the driver can show what was delivered.
//
// It runs as its own process, off the driver's event loop and off the
// gateway's core: accepting exports must not be charged to either. The
// driver learns the port through the ipc.ts protocol and asks for counts by
// sending { type: 'counts' }; the reply is { type: 'counts', counts }. SIGUSR2
// prints the same counts as one JSON line on stderr.

import {
  Server,
  ServerCredentials,
  type ServiceDefinition,
  type UntypedServiceImplementation,
  type sendUnaryData,
  type ServerUnaryCall,
} from '@grpc/grpc-js';
import { announce, exitWithParent } from './ipc.js';
import { sinkCounters, type MutableCounts } from './sink-counts.js';
import { countOtlpLeaves } from './otlp-wire.js';

exitWithParent();

const TRACE_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const METRICS_PATH = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';
const EMPTY = Buffer.alloc(0);

const { traces, metrics } = sinkCounters();

function handler(counts: MutableCounts) {
  return (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void => {
    const body = call.request;
    counts.requests++;
    counts.bytes += body.length;
    try {
      counts.items += countOtlpLeaves(body);
    } catch {
      counts.malformed++;
    }
    callback(null, EMPTY);
  };
}

function method(path: string): ServiceDefinition<UntypedServiceImplementation> {
  return {
    Export: {
      path,
      requestStream: false,
      responseStream: false,
      requestSerialize: (value: Buffer) => value,
      requestDeserialize: (bytes: Buffer) => bytes,
      responseSerialize: () => EMPTY,
      responseDeserialize: (bytes: Buffer) => bytes,
    },
  };
}

// Generous limits: a 512-span batch with every layer's attributes is a few hundred KiB.
const server = new Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
server.addService(method(TRACE_PATH), { Export: handler(traces) });
server.addService(method(METRICS_PATH), { Export: handler(metrics) });
// Any other method (logs, profiles) gets grpc-js's default UNIMPLEMENTED, as from a collector without that pipeline.

server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) => {
  if (error !== null) {
    announce({ type: 'unavailable', reason: `otlp sink could not bind: ${error.message}` });
    process.exit(1);
  }
  announce({ type: 'listening', port });
});
