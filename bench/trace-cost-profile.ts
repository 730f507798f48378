// Where a traced request's CPU goes: one Tollgate gateway of bench/cpu-per-request.ts
// (same config, lib/cpu-gateways.ts) run under `node --cpu-prof`, loaded by wrk,
// then stopped so every process writes its profile; prints the worker's top
// functions by self time and the CPU per request of the run.
//
//   node --import tsx bench/trace-cost-profile.ts --telemetry http-1 [--duration 10] [--top 40]
//
// --telemetry: off | metrics | metrics-<otel|kong|stats> | http-<rate> | grpc-<rate>. Profiles are kept in
// --out (default a temp dir) for a closer look (Chrome DevTools, speedscope).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tollgateBinArg, intArg } from './lib/args.js';
import { spawnTracked } from './lib/children.js';
import { startCountingSink } from './lib/counting-sink.js';
import { GATEWAYS, metricsParts, tollgateConfig, type GatewaySpec, type Telemetry } from './lib/cpu-gateways.js';
import { armRun, log, parseFlags, runDriver, sleep, startUpstream } from './lib/driver.js';
import { getFreePort } from './lib/free-port.js';
import { getText, sumSamples } from './lib/otlp-bench-util.js';
import { treeCpu } from './lib/process-tree-cpu.js';
import { waitForHttp200 } from './lib/readiness.js';
import { createRunTempDir } from './lib/temp-dir.js';
import { which } from './lib/which.js';
import { runWrk } from './lib/wrk.js';
import { rateCapScript } from './lib/wrk-rate.js';
import { writeFile } from 'node:fs/promises';

const TAG = 'trace-cost-profile';
const USAGE = `Usage: node --import tsx bench/trace-cost-profile.ts [options]

  --telemetry <t>   off | metrics | metrics-<otel|kong|stats> | http-<rate> | grpc-<rate>
                                                                     (default http-1)
  --duration <s>    measured wrk seconds (after a 3 s warm-up)       (default 10)
  --connections <n> wrk connections                                 (default 50)
  --path <p>        /noop or /merge                                  (default /noop)
  --rate <req/s>    cap wrk at about this rate instead of saturating  (default 0: saturation)
  --traceparent <v> send this traceparent with every request (e.g. a sampled parent,
                    00-<32 hex>-<16 hex>-01)                        (default: none)
  --top <n>         functions listed                                 (default 40)
  --out <dir>       where the .cpuprofile files go                   (default: a temp dir)
  --tollgate-bin    the launcher to profile                          (default <repo>/bin/tollgate.js)
`;

interface Options {
  readonly telemetry: Telemetry;
  readonly duration: number;
  readonly connections: number;
  readonly path: string;
  readonly rate: number;
  readonly traceparent: string | undefined;
  readonly top: number;
  readonly out: string | undefined;
  readonly bin: string;
}

function parseTelemetry(s: string): Telemetry {
  // off, metrics and metrics-<part> as cpu-per-request.ts runs them; traces at any rate.
  const named = GATEWAYS.find((g) => g.name === s && g.jwt !== true && g.telemetry?.kind !== 'traces');
  if (named?.telemetry !== undefined) return named.telemetry;
  const m = /^(http|grpc)-([0-9.]+)$/.exec(s);
  if (m === null)
    throw new Error(`--telemetry: off, metrics, metrics-<otel|kong|stats>, http-<rate> or grpc-<rate>, not ${s}`);
  return { kind: 'traces', transport: m[1] as 'http' | 'grpc', rate: Number(m[2]) };
}

function parse(argv: readonly string[]): Options | undefined {
  const v = parseFlags(argv, [
    'telemetry',
    'duration',
    'connections',
    'path',
    'rate',
    'traceparent',
    'top',
    'out',
    'tollgate-bin',
  ]);
  if (v === undefined) return undefined;
  return {
    telemetry: parseTelemetry(v.telemetry ?? 'http-1'),
    duration: intArg('duration', v.duration, 10, 1),
    connections: intArg('connections', v.connections, 50, 1),
    path: v.path ?? '/noop',
    rate: intArg('rate', v.rate, 0, 0),
    traceparent: v.traceparent,
    top: intArg('top', v.top, 40, 1),
    out: v.out,
    bin: tollgateBinArg(v['tollgate-bin']),
  };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** Self time per function (name, file, line) of one .cpuprofile, as shares of its sampled time. */
function selfTimes(file: string): { total: number; rows: [string, number][] } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i] as number);
    const dt = p.timeDeltas[i] ?? 0;
    total += dt;
    if (n === undefined) continue;
    const f = n.callFrame;
    const where = f.url === '' ? '' : ` ${f.url.split('/').slice(-3).join('/')}:${f.lineNumber + 1}`;
    const k = `${f.functionName || '(anonymous)'}${where}`;
    self.set(k, (self.get(k) ?? 0) + dt);
  }
  return { total, rows: [...self].sort((a, b) => b[1] - a[1]) };
}

async function main(o: Options): Promise<void> {
  armRun(o.duration + 120);
  const wrk = which('wrk');
  if (wrk === undefined) throw new Error('needs wrk on PATH');
  const temp = createRunTempDir('tollgate-trace-profile-');
  const out = o.out ?? join(temp, 'profiles');
  const upstream = await startUpstream('./telemetry-upstream.ts', 1024);
  const t = o.telemetry;
  const sink = t.kind === 'traces' ? await startCountingSink('sink', t.transport) : undefined;
  if (sink !== undefined && !sink.ok) throw new Error(`sink: ${sink.reason}`);
  const ports = {
    metrics: await getFreePort(),
    kong: await getFreePort(),
    stats: await getFreePort(),
    sink: sink?.port ?? 0,
  };
  const port = await getFreePort();
  const spec: GatewaySpec = { name: 'profiled', kind: 'tollgate', telemetry: t };
  const config = tollgateConfig(spec, port, upstream.port, ports, 1);
  const configFile = join(temp, 'profiled.json');
  await writeFile(configFile, JSON.stringify(config));
  const child = spawnTracked(
    'tollgate',
    process.execPath,
    ['--cpu-prof', '--cpu-prof-dir', out, o.bin, 'run', '-c', configFile, '--log-level', 'warn'],
    { env: { ...process.env, NODE_ENV: 'production', OTEL_BSP_SCHEDULE_DELAY: '500' } },
  );
  const origin = `http://127.0.0.1:${port}`;
  const ready = await waitForHttp200(`${origin}/__health`, 15_000, child);
  if (!ready.ok) throw new Error(`tollgate: ${ready.reason}`);
  const url = `${origin}${o.path}`;
  const script = o.rate > 0 ? await rateCapScript(temp, o.connections, o.rate) : undefined;
  const headers = o.traceparent === undefined ? undefined : { traceparent: o.traceparent };
  const load = { url, threads: 1, connections: o.connections, timeoutSeconds: 5, script, headers };
  await runWrk(wrk, { ...load, durationSeconds: 3 });
  await sleep(1000);
  const pid = child.process.pid ?? -1;
  const cpu0 = treeCpu(pid);
  const measured = await runWrk(wrk, { ...load, durationSeconds: o.duration });
  await sleep(1000);
  const cpu1 = treeCpu(pid);
  // Only a gateway with telemetry/opentelemetry has a /metrics listener to ask.
  const otel = metricsParts(t).includes('otel');
  const prom = otel ? (await getText(`http://127.0.0.1:${ports.metrics}/metrics`)).text : '';
  const served = otel ? sumSamples(prom, 'http_server_duration_count').sum : NaN;
  const spanLines = prom.split('\n').filter((l) => l.startsWith('tollgate_telemetry_spans'));
  const counts = sink !== undefined && sink.ok ? await sink.counts() : undefined;
  await child.stop(15_000);
  const us = cpu0 && cpu1 ? ((cpu1.ms - cpu0.ms) * 1000) / measured.requests : NaN;
  log(
    `${TAG}: ${measured.requests} requests (${measured.requestsPerSecond.toFixed(0)} req/s), ${us.toFixed(1)} µs CPU/request, errors ${measured.errors}/${measured.non2xx}`,
  );
  log(`${TAG}: gateway requests ${served}; ${spanLines.join('; ')}`);
  if (counts !== undefined) log(`${TAG}: sink ${counts.traces.items} spans in ${counts.traces.requests} exports`);
  // The worker's profile is the one with the most samples (the primary mostly idles).
  const files = readdirSync(out)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(out, f))
    .sort((a, b) => statSync(b).size - statSync(a).size);
  const worker = files[0];
  if (worker === undefined) throw new Error(`no profile in ${out}`);
  const { total, rows } = selfTimes(worker);
  const lines = rows
    .slice(0, o.top)
    .map(([k, v]) => `${((100 * v) / total).toFixed(2).padStart(6)}%  ${k}`)
    .join('\n');
  process.stdout.write(`\nworker profile ${worker} (${(total / 1000).toFixed(0)} ms sampled)\n${lines}\n`);
}

await runDriver(TAG, USAGE, parse, main);
