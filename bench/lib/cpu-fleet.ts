// The gateways of one bench/cpu-per-request.ts run: started together (each
// Tollgate with traces beside its own counting sink), probed for a correct
// answer, warmed up, checked against what their telemetry says they served,
// and, with `--fresh`, started anew for every measured run and stopped after it.

import { checkTelemetry, type Check } from './cpu-checks.js';
import {
  startFloor,
  startNginx,
  startTollgate,
  type GatewaySpec,
  type RunningGateway,
  type TelemetryPorts,
  type Variant,
} from './cpu-gateways.js';
import { startCountingSink } from './counting-sink.js';
import { httpGet } from './http-get.js';
import type { LoadGenerator, LoadOptions } from './load-result.js';
import type { OtlpSink } from './otlp-sink.js';
import { isShuttingDown } from './cleanup.js';

export interface Gateway extends RunningGateway {
  readonly spec: GatewaySpec;
  readonly ports: TelemetryPorts | undefined;
  readonly sink: OtlpSink | undefined;
  /** Requests wrk completed against it (warm-ups and measured runs) plus probes, for the /metrics check. */
  served: number;
}

export interface FleetOptions {
  readonly specs: readonly GatewaySpec[];
  /** The Tollgate CLI of specs without their own `bin`. */
  readonly bin: string;
  readonly workers: number | undefined;
  readonly tempDir: string;
  readonly upstreamPort: number;
  readonly leashSeconds: number;
  /** The JWK set file of a `jwt` gateway. */
  readonly jwksPath: string | undefined;
  /** `--pin`: Tollgate gateways start under `taskset -c <cpus>`. */
  readonly taskset?: { readonly bin: string; readonly cpus: string } | undefined;
}

export interface Fleet {
  readonly gateways: Map<string, Gateway>;
  /** Gateways that may be missing (nginx), with the reason. */
  readonly unavailable: Map<string, string>;
}

async function startGateway(spec: GatewaySpec, o: FleetOptions): Promise<Gateway | string> {
  const plain = { ports: undefined, sink: undefined, served: 0, spec };
  if (spec.kind === 'floor') {
    const s = await startFloor(`http://127.0.0.1:${o.upstreamPort}`);
    return s.ok ? { ...s, ...plain } : s.reason;
  }
  if (spec.kind === 'nginx') {
    const s = await startNginx(o.tempDir, o.upstreamPort, o.leashSeconds);
    return s.ok ? { ...s, ...plain } : s.reason;
  }
  const t = spec.telemetry;
  const sinkStart = t?.kind === 'traces' ? await startCountingSink(`sink-${spec.name}`, t.transport) : undefined;
  if (sinkStart !== undefined && !sinkStart.ok) return `sink: ${sinkStart.reason}`;
  const s = await startTollgate(spec, {
    bin: spec.bin ?? o.bin,
    tempDir: o.tempDir,
    upstreamPort: o.upstreamPort,
    sinkPort: sinkStart?.port ?? 0,
    workers: o.workers,
    leashSeconds: o.leashSeconds,
    jwksPath: o.jwksPath,
    taskset: o.taskset,
  });
  if (!s.ok) {
    await sinkStart?.child.stop(5000);
    return s.reason;
  }
  return { ...s, spec, ports: t === undefined || t.kind === 'off' ? undefined : s.ports, sink: sinkStart, served: 0 };
}

/** Starts every gateway, one after another. nginx may be missing; any other gateway that fails is a broken bench. */
export async function startFleet(o: FleetOptions, log: (message: string) => void): Promise<Fleet> {
  const gateways = new Map<string, Gateway>();
  const unavailable = new Map<string, string>();
  for (const spec of o.specs) {
    if (isShuttingDown()) break;
    let started = await startGateway(spec, o);
    // A port found free can be taken before the gateway binds it (another process's outgoing connection
    // gets it as its local port; likelier with --fresh, which starts gateways many times): new
    // ports are picked on each start.
    for (
      let retry = 0;
      retry < 3 && typeof started === 'string' && started.includes('address already in use');
      retry++
    ) {
      log(`${spec.name}: a port was taken before it was bound; starting again on new ports`);
      started = await startGateway(spec, o);
    }
    if (typeof started === 'string') {
      if (spec.kind !== 'nginx') throw new Error(`${spec.name} failed to start: ${started}`);
      unavailable.set(spec.name, started);
      log(`${spec.name} unavailable: ${started}`);
      continue;
    }
    gateways.set(spec.name, started);
    log(
      `${spec.name} ready at ${started.origin} (pid ${started.child.process.pid ?? '?'})${started.sink !== undefined ? `, sink on 127.0.0.1:${started.sink.port}` : ''}`,
    );
  }
  return { gateways, unavailable };
}

/**
 * One Tollgate gateway of `spec` (with its sink), for the benches that load a single process in turns
 * (sampled-cost.ts, trace-phases.ts); `gateways` is the map `initialWarmUp` takes.
 */
export async function startOneGateway(
  spec: GatewaySpec,
  bin: string,
  tempDir: string,
  upstreamPort: number,
  log: (message: string) => void,
): Promise<{ readonly gw: Gateway; readonly gateways: ReadonlyMap<string, Gateway> }> {
  const { gateways, unavailable } = await startFleet(
    { specs: [spec], bin, workers: undefined, tempDir, upstreamPort, leashSeconds: 3600, jwksPath: undefined },
    log,
  );
  const gw = gateways.get(spec.name);
  if (gw === undefined)
    throw new Error(`${spec.name} did not start: ${unavailable.get(spec.name) ?? 'unknown reason'}`);
  return { gw, gateways };
}

/** Stops every gateway and its sink (before the fleet is started again). */
export async function stopFleet(gateways: ReadonlyMap<string, Gateway>): Promise<void> {
  await Promise.all([...gateways.values()].flatMap((g) => [g.child.stop(5000), g.sink?.child.stop(5000)]));
}

/**
 * Correctness probe: 200 and a body; the no-op paths must carry exactly the upstream's payload. A
 * JWT-checked path must also refuse a request without its token, or the check is not on.
 */
export async function probeVariants(
  variants: readonly Variant[],
  gateways: ReadonlyMap<string, Gateway>,
  payloadBytes: number,
): Promise<void> {
  for (const v of variants) {
    const gw = gateways.get(v.gateway) as Gateway;
    if (v.authRequired === true) {
      const refused = await httpGet(`${gw.origin}${v.path}`, 5000);
      gw.served++;
      if (refused.status !== 401)
        throw new Error(`probe ${v.name} GET ${v.path} without a token: expected 401, got ${refused.status}`);
    }
    const { status, bodyBytes } = await httpGet(`${gw.origin}${v.path}`, 5000, v.headers);
    gw.served++;
    const exact = v.path === '/merge' ? bodyBytes > 0 : bodyBytes === payloadBytes;
    if (status !== 200 || !exact)
      throw new Error(
        `probe ${v.name} GET ${v.path}: expected 200 with ${v.path === '/merge' ? 'a body' : `${payloadBytes} bytes`}, got ${status} with ${bodyBytes} bytes`,
      );
  }
}

/** The first seconds of load on a fresh process are mostly JIT compilation (on V8's own threads, counted in the tree). */
export async function initialWarmUp(
  generator: LoadGenerator,
  variants: readonly Variant[],
  gateways: ReadonlyMap<string, Gateway>,
  load: Omit<LoadOptions, 'url' | 'durationSeconds' | 'headers'>,
  seconds: number,
  log: (message: string) => void,
): Promise<void> {
  for (const v of variants) {
    if (isShuttingDown() || seconds === 0) break;
    const gw = gateways.get(v.gateway) as Gateway;
    log(`initial warm-up ${v.name} (${seconds}s)`);
    gw.served += (
      await generator.run({ ...load, url: `${gw.origin}${v.path}`, headers: v.headers, durationSeconds: seconds })
    ).requests;
  }
}

/**
 * What each gateway's own telemetry says against what it served (lib/cpu-checks.ts); with `round`
 * (fresh gateways), the labels say which round's processes were checked.
 */
export async function fleetChecks(gateways: ReadonlyMap<string, Gateway>, round?: number): Promise<Check[]> {
  const checks: Check[] = [];
  for (const gw of gateways.values()) {
    if (gw.ports === undefined) continue;
    const found = await checkTelemetry(
      gw.spec.name,
      gw.ports,
      gw.served,
      await gw.sink?.counts(),
      gw.spec.telemetry,
      gw.sink?.counts,
    );
    checks.push(...(round === undefined ? found : found.map((c) => ({ ...c, label: `round ${round}: ${c.label}` }))));
  }
  return checks;
}
