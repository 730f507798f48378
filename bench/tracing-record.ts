// Tracing cost per sampled request: Tollgate's RequestTracer (spans written
// straight to OTLP protobuf, batched) versus the same span tree built with
// the OpenTelemetry JS SDK (@opentelemetry/sdk-trace-base) and serialized with
// the official ProtobufTraceSerializer, side by side in one process and run.
//
//   node --import tsx bench/tracing-record.ts [--iterations 200000] [--sdk-iterations 20000] [--repeats 5]
//
// One "request" is a GET with one backend and every layer on: 5 spans
// (global SERVER, proxy, backend stage, client CLIENT, read), trace context
// injected into the backend headers, and the spans serialized for export
// (Tollgate: appended to its batch buffer and wrapped into an
// ExportTraceServiceRequest every 2048 spans; SDK: a batch of 2048 finished
// spans through ProtobufTraceSerializer). The transport is not included:
// bench/otlp-throughput.ts measures the whole gateway with a gRPC sink.

import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { context, propagation, SpanKind, trace, type Context, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator, W3CBaggagePropagator, CompositePropagator } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import {
  BasicTracerProvider,
  type ReadableSpan,
  type SpanProcessor,
  AlwaysOnSampler,
} from '@opentelemetry/sdk-trace-base';
import {
  exitOnHelp,
  intOption,
  machineSummary,
  median,
  quietCheck,
  startForeignLoadMeter,
  timeSync,
} from './lib/micro.js';
import { loadConfigValue } from '../src/config/load.js';
import { RequestRecord } from '../src/telemetry/record.js';
import { traceInjector } from '../src/telemetry/tracing/trace-injector.js';
import { observedRoutes } from '../test/helpers/routes.js';
import { answeredOk, encodingTracer, type EncodingTracer } from '../test/helpers/traced-request.js';

const argv = process.argv.slice(2);
exitOnHelp(
  argv,
  'Usage: node --import tsx bench/tracing-record.ts [options]\n' +
    '  --iterations N      Tollgate requests per timed repeat        (default 200000)\n' +
    '  --sdk-iterations N  OTel SDK requests per timed repeat        (default 20000)\n' +
    '  --repeats N         timed repeats per variant, interleaved    (default 5)\n',
);
const ITERATIONS = intOption(argv, 'iterations', 200_000);
const SDK_ITERATIONS = intOption(argv, 'sdk-iterations', 20_000);
const REPEATS = intOption(argv, 'repeats', 5);
const BATCH = 2048;

const { config } = loadConfigValue(
  {
    version: 3,
    port: 8080,
    extra_config: {
      'telemetry/opentelemetry': {
        service_name: 'bench',
        trace_sample_rate: 1,
        exporters: { otlp: [{ name: 'sink', host: '127.0.0.1', port: 4317 }] },
      },
    },
    endpoints: [
      {
        endpoint: '/users/{id}',
        method: 'GET',
        backend: [{ host: ['http://127.0.0.1:8081'], url_pattern: '/users/{id}' }],
      },
    ],
  },
  'bench-tracing.json',
);
const otel = config.otel;
if (otel === undefined) throw new Error('telemetry/opentelemetry was not parsed');
const routes = observedRoutes(config);
const injector =
  traceInjector(otel) ??
  ((): never => {
    throw new Error('tracing is not on');
  })();
const reportHeaders = routes[0]?.backends[0]?.otel?.traces.reportHeaders === true;

const req = new IncomingMessage(new Socket());
req.url = '/users/42';
req.method = 'GET';
req.headers = { host: '127.0.0.1:8080', 'user-agent': 'wrk/4.2', accept: '*/*' };
const res = new ServerResponse(req);

// ---------------------------------------------------------------------------
// (a) Tollgate

function tollgateVariant(): EncodingTracer {
  return encodingTracer(config, injector.propagation, {
    maxQueue: 4 * BATCH,
    maxBatch: BATCH,
    delayMs: 60_000,
    exportTimeoutMs: 30_000,
    maxBatchBytes: 1 << 24,
  });
}

function runTollgate(v: EncodingTracer, n: number): void {
  const { tracer } = v;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const rec = new RequestRecord('GET', '/users/42', t);
    rec.route = 0;
    tracer.begin(rec, req, res);
    rec.proxyStart = t + 0.1;
    const b = rec.backend(0);
    b.stageStart = t + 0.2;
    b.dispatchAt = t + 0.3;
    b.origin = 'http://127.0.0.1:8081';
    b.path = '/users/42';
    const headers: Record<string, string> = { 'user-agent': 'wrk/4.2' };
    injector.inject(rec, b, headers, reportHeaders);
    b.connectedAt = t + 0.3;
    answeredOk(rec, b, t, 1024);
    tracer.record(rec);
  }
}

// ---------------------------------------------------------------------------
// (b) OpenTelemetry JS SDK: the same span tree and attributes

class CollectingProcessor implements SpanProcessor {
  spans: ReadableSpan[] = [];
  exportedSpans = 0;
  exportedBytes = 0;
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    this.spans.push(span);
    if (this.spans.length >= BATCH) {
      this.exportedBytes += ProtobufTraceSerializer.serializeRequest(this.spans)?.length ?? 0;
      this.exportedSpans += this.spans.length;
      this.spans = [];
    }
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

interface SdkVariant {
  readonly tracer: Tracer;
  readonly processor: CollectingProcessor;
  readonly propagator: CompositePropagator;
}

function sdkVariant(): SdkVariant {
  const processor = new CollectingProcessor();
  const provider = new BasicTracerProvider({ sampler: new AlwaysOnSampler(), spanProcessors: [processor] });
  const propagator = new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
  });
  propagation.setGlobalPropagator(propagator);
  return { tracer: provider.getTracer('io.krakend.krakend-otel'), processor, propagator };
}

function runSdk(v: SdkVariant, n: number): void {
  const { tracer, propagator } = v;
  for (let i = 0; i < n; i++) {
    const parentCtx: Context = propagator.extract(context.active(), req.headers, {
      get: (c, k) => c[k] as string | undefined,
      keys: (c) => Object.keys(c),
    });
    const global = tracer.startSpan(
      '/users/{id}',
      {
        kind: SpanKind.SERVER,
        attributes: {
          'url.scheme': 'http',
          'krakend.stage': 'global',
          'http.route': '/users/{id}',
          'url.full': req.url ?? '/',
          'http.request.method': 'GET',
          'server.address': '127.0.0.1:8080',
          'user_agent.original': 'wrk/4.2',
          'client.address': '127.0.0.1',
        },
      },
      parentCtx,
    );
    const gctx = trace.setSpan(parentCtx, global);
    const proxy = tracer.startSpan(
      '/users/{id}',
      { attributes: { 'http.request.method': 'GET', 'http.route': '/users/{id}', 'krakend.stage': 'proxy' } },
      gctx,
    );
    const pctx = trace.setSpan(gctx, proxy);
    const base = {
      'http.request.method': 'GET',
      'http.route': '/users/{id}',
      'krakend.endpoint.route': '/users/{id}',
      'krakend.endpoint.method': 'GET',
    };
    const stage = tracer.startSpan('/users/{id}', { attributes: { ...base, 'krakend.stage': 'backend' } }, pctx);
    const sctx = trace.setSpan(pctx, stage);
    const client = tracer.startSpan(
      '/users/{id}',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          ...base,
          'krakend.stage': 'backend-request',
          'url.full': 'http://127.0.0.1:8081/users/42',
          'server.address': '127.0.0.1',
        },
      },
      sctx,
    );
    const headers: Record<string, string> = { 'user-agent': 'wrk/4.2' };
    propagator.inject(trace.setSpan(sctx, client), headers, { set: (c, k, val) => void (c[k] = val) });
    client.addEvent('first-byte-time');
    const read = tracer.startSpan(
      'http.client.response.read.tracker',
      { attributes: { ...base, 'krakend.stage': 'backend-request' } },
      trace.setSpan(sctx, client),
    );
    read.setAttributes({ 'http.client.response.read.size': 1024, 'http.client.response.read.time': 0.0001 });
    read.end();
    client.setAttributes({
      'http.response.status_code': 200,
      'http.response.body.size': 1024,
      'response-duration': 0.0007,
      'get-conn-duration': 0,
      'dns-duration': 0,
      'tls-duration': 0,
    });
    client.end();
    stage.setAttribute('complete', true);
    stage.end();
    proxy.setAttributes({ complete: true, 'http.response.status_code': 200 });
    proxy.end();
    global.setAttributes({ 'http.response.status_code': 200, 'http.response.body.size': 1024 });
    global.end();
  }
}

// ---------------------------------------------------------------------------

interface Variant {
  readonly name: string;
  readonly iterations: number;
  readonly run: (n: number) => void;
  readonly cpu: number[];
}

async function main(): Promise<void> {
  const quiet = await quietCheck();
  process.stderr.write(
    `tracing-record: ${machineSummary()}; ${REPEATS} repeats of ` +
      `${ITERATIONS.toLocaleString('en-US')} (tollgate) / ${SDK_ITERATIONS.toLocaleString('en-US')} (sdk) sampled requests; background CPU before: ${quiet.busyPercent}%\n`,
  );
  const t = tollgateVariant();
  const s = sdkVariant();
  const variants: Variant[] = [
    { name: 'tollgate RequestTracer + batch encoding', iterations: ITERATIONS, run: (n) => runTollgate(t, n), cpu: [] },
    {
      name: 'OTel JS SDK spans + ProtobufTraceSerializer',
      iterations: SDK_ITERATIONS,
      run: (n) => runSdk(s, n),
      cpu: [],
    },
  ];
  for (const v of variants) v.run(Math.ceil(v.iterations / 4));
  const foreign = startForeignLoadMeter();
  for (let r = 0; r < REPEATS; r++) {
    for (const v of r % 2 === 0 ? variants : [...variants].reverse()) {
      const timing = timeSync(() => v.run(v.iterations));
      v.cpu.push(timing.cpuNs / v.iterations);
      // Let the batcher's (synchronous) exports settle between repeats.
      await new Promise((x) => setImmediate(x));
    }
  }
  const foreignPercent = foreign();
  const tNs = median(variants[0]?.cpu ?? []);
  const sNs = median(variants[1]?.cpu ?? []);
  const out = [
    '',
    'Tracing cost per sampled request (5 spans, context injected, serialized for OTLP export), CPU time, median of repeats',
    '',
    `  ${'variant'.padEnd(46)} ${'ns/request'.padStart(11)} ${'bytes/span'.padStart(11)}`,
    `  ${(variants[0]?.name ?? '').padEnd(46)} ${Math.round(tNs).toLocaleString('en-US').padStart(11)} ${(t.exported.bytes / Math.max(1, t.exported.spans)).toFixed(0).padStart(11)}`,
    `  ${(variants[1]?.name ?? '').padEnd(46)} ${Math.round(sNs).toLocaleString('en-US').padStart(11)} ${(s.processor.exportedBytes / Math.max(1, s.processor.exportedSpans)).toFixed(0).padStart(11)}`,
    '',
    `  OTel SDK / Tollgate: ${(sNs / tNs).toFixed(1)}x`,
    `  spans exported: tollgate ${t.exported.spans.toLocaleString('en-US')}, sdk ${s.processor.exportedSpans.toLocaleString('en-US')}`,
    `  foreign CPU during the run: ${foreignPercent.toFixed(0)}%${quiet.warning === undefined ? '' : `; ${quiet.warning}`}`,
    '',
  ];
  process.stdout.write(out.join('\n'));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
