// What tracing adds to one request, in CPU time, in process: the tracer's
// three calls on a request (begin at its start, the injector before the
// backend call, record at its end) for GET /noop of bench/cpu-per-request.ts
// (the same config, lib/cpu-gateways.ts: every layer on, report_headers),
// against the same loop with tracing off. The gap "unsampled − off" is what a
// request that is not sampled pays (the target: ≤ 0.5 µs); "rate 1" includes
// the encoding of its spans into the batch and of the export request.
//
//   node --import tsx bench/trace-cost.ts [--iterations 200000] [--repeats 7]
//
// Transport is not included (bench/cpu-per-request.ts measures the whole
// gateway); the exporter here encodes the export request and drops it.

import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { tollgateConfig, type Telemetry } from './lib/cpu-gateways.js';
import {
  exitOnHelp,
  foreignLoadLines,
  intOption,
  machineSummary,
  median,
  quietCheck,
  startForeignLoadMeter,
  timeSync,
} from './lib/micro.js';
import { loadConfigValue } from '../src/config/load.js';
import { backendRequestHeaders } from '../src/proxy/headers.js';
import { RequestRecord } from '../src/telemetry/record.js';
import type { RequestTracer } from '../src/telemetry/tracing/request-tracer.js';
import { traceInjector, type TraceInjector } from '../src/telemetry/tracing/trace-injector.js';
import { answeredOk, encodingTracer } from '../test/helpers/traced-request.js';

const argv = process.argv.slice(2);
exitOnHelp(
  argv,
  'Usage: node --import tsx bench/trace-cost.ts [options]\n' +
    '  --iterations N   requests per timed repeat               (default 200000)\n' +
    '  --repeats N      timed repeats per variant, interleaved  (default 7)\n' +
    '  --only <i,j>     only these variants (1-based; off is always run), e.g. to profile one\n',
);
const ITERATIONS = intOption(argv, 'iterations', 200_000);
const REPEATS = intOption(argv, 'repeats', 7);
const ONLY = ((): number[] | undefined => {
  const i = argv.indexOf('--only');
  return i === -1 ? undefined : (argv[i + 1] ?? '').split(',').map(Number);
})();

interface Tracing {
  readonly tracer: RequestTracer;
  readonly injector: TraceInjector;
  readonly exported: { readonly spans: number };
}

function tracing(rate: number): Tracing {
  const telemetry: Telemetry = { kind: 'traces', transport: 'http', rate };
  const raw = tollgateConfig(
    { name: 'bench', kind: 'tollgate', telemetry },
    8080,
    8081,
    {
      metrics: 9090,
      kong: 9091,
      stats: 9092,
      sink: 4318,
    },
    undefined,
  );
  const { config } = loadConfigValue(raw, 'bench-trace-cost.json');
  const injector = traceInjector(config.otel);
  if (injector === undefined) throw new Error('tracing is not on');
  const { tracer, exported } = encodingTracer(config, injector.propagation, {
    maxQueue: 8192,
    maxBatch: 512,
    delayMs: 60_000,
    exportTimeoutMs: 30_000,
    maxBatchBytes: 1 << 22,
  });
  return { tracer, injector, exported };
}

/** The request as wrk sends it (Host only, or with a traceparent), and its response. */
function request(headers: Record<string, string>): { req: IncomingMessage; res: ServerResponse } {
  const req = new IncomingMessage(new Socket());
  req.url = '/noop';
  req.method = 'GET';
  req.headers = headers;
  const res = new ServerResponse(req);
  res.setHeader('content-type', 'application/octet-stream');
  res.setHeader('content-length', '1024');
  return { req, res };
}

const NO_HEADERS: ReadonlySet<string> = new Set();
const FORWARD = { userAgent: 'KrakenD Version 2.10.0', askGzip: true, method: 'GET' };

/** One GET /noop as the gateway fills its record; `t` undefined: tracing off. */
function run(t: Tracing | undefined, r: { req: IncomingMessage; res: ServerResponse }, n: number): number {
  let sink = 0;
  for (let i = 0; i < n; i++) {
    const now = performance.now();
    const rec = new RequestRecord('GET', '/noop', now);
    if (t !== undefined) t.tracer.begin(rec, r.req, r.res);
    rec.route = 0;
    rec.proxyStart = now + 0.01;
    const b = rec.backend(0);
    b.stageStart = now + 0.02;
    // Built as the gateway builds them (a literal object here would change how V8 adds a header to it).
    const headers = backendRequestHeaders(r.req, NO_HEADERS, false, FORWARD);
    if (t !== undefined && rec.trace !== undefined) t.injector.inject(rec, b, headers);
    b.target = 0;
    b.path = '/payload';
    b.dispatchAt = now + 0.3;
    answeredOk(rec, b, now, 1024);
    if (t !== undefined) t.tracer.record(rec);
    sink += Object.keys(headers).length;
  }
  return sink;
}

interface Variant {
  readonly name: string;
  readonly run: (n: number) => void;
  readonly ns: number[];
}

async function main(): Promise<void> {
  const quiet = await quietCheck();
  process.stderr.write(
    `trace-cost: ${machineSummary()}; ${REPEATS} repeats of ${ITERATIONS.toLocaleString('en-US')} requests; background CPU before: ${quiet.busyPercent}%\n`,
  );
  const plain = request({ host: '127.0.0.1:8080' });
  const unsampledParent = request({
    host: '127.0.0.1:8080',
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00',
  });
  const sampledParent = request({
    host: '127.0.0.1:8080',
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  });
  const none = tracing(0);
  const tenth = tracing(0.1);
  const all = tracing(1);
  let blackhole = 0;
  const variants: Variant[] = [
    { name: 'tracing off', run: (n) => (blackhole += run(undefined, plain, n)), ns: [] },
    { name: 'unsampled root (rate 0)', run: (n) => (blackhole += run(none, plain, n)), ns: [] },
    {
      name: 'unsampled remote parent (rate 0.1)',
      run: (n) => (blackhole += run(tenth, unsampledParent, n)),
      ns: [],
    },
    { name: 'rate 0.1', run: (n) => (blackhole += run(tenth, plain, n)), ns: [] },
    { name: 'rate 1 (5 spans, encoded and batched)', run: (n) => (blackhole += run(all, plain, n)), ns: [] },
    {
      name: 'sampled remote parent (rate 0.1, 5 spans)',
      run: (n) => (blackhole += run(tenth, sampledParent, n)),
      ns: [],
    },
  ];
  if (ONLY !== undefined)
    variants.splice(0, variants.length, ...variants.filter((_, i) => i === 0 || ONLY.includes(i)));
  for (const v of variants) v.run(Math.ceil(ITERATIONS / 4));
  const foreign = startForeignLoadMeter();
  for (let r = 0; r < REPEATS; r++) {
    const shift = r % variants.length;
    for (const v of [...variants.slice(shift), ...variants.slice(0, shift)]) {
      v.ns.push(timeSync(() => v.run(ITERATIONS)).cpuNs / ITERATIONS);
      await new Promise((x) => setImmediate(x));
    }
  }
  const foreignPercent = foreign();
  const off = median(variants[0]?.ns ?? []);
  const lines = [
    '',
    'Tracing cost per GET /noop (begin + inject + record), CPU time, median of repeats',
    '',
    `  ${'variant'.padEnd(40)} ${'ns/request'.padStart(10)} ${'over off'.padStart(9)}`,
    ...variants.map((v) => {
      const m = median(v.ns);
      return `  ${v.name.padEnd(40)} ${m.toFixed(0).padStart(10)} ${(v === variants[0] ? '' : (m - off).toFixed(0)).padStart(9)}`;
    }),
    '',
    `  spans encoded: rate 0.1 ${tenth.exported.spans.toLocaleString('en-US')}, rate 1 ${all.exported.spans.toLocaleString('en-US')} (checksum ${blackhole % 10})`,
    ...foreignLoadLines(foreignPercent, quiet).map((l) => `  ${l}`),
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
