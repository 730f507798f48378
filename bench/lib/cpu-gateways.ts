// The gateways and variants of bench/cpu-per-request.ts. A gateway is one
// process tree whose CPU time is read from /proc: the undici floor, nginx, or
// a real `tollgate run` on a generated KrakenD v3 config. A variant is a
// gateway plus the path loaded, so one Tollgate process serves both its
// no-op endpoint and its two-backend merge endpoint (and, on the `jwt`
// gateway, the same no-op endpoint behind an `auth/validator`).

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnTracked, type TrackedChild } from './children.js';
import { getFreePort } from './free-port.js';
import { kongAllFlags, loopbackHost } from './gateway-config.js';
import { BENCH_JWT } from './jwt-token.js';
import { nginxConfig } from './nginx.js';
import { startNodeServer } from './node-child.js';
import { waitForHttp200 } from './readiness.js';
import { startTollgateWithConfig } from './tollgate-with-config.js';
import { toolOutput, toolVersion } from './tool-version.js';
import { which } from './which.js';

/** The metric namespaces of the `metrics` gateway: OpenTelemetry (with its Prometheus exporter), Kong's, /__stats. */
export type MetricsPart = 'otel' | 'kong' | 'stats';

export const METRICS_PARTS: readonly MetricsPart[] = ['otel', 'kong', 'stats'];

export type Telemetry =
  | { readonly kind: 'off' }
  /** `parts`: only these namespaces (what each costs); every one when omitted. */
  | { readonly kind: 'metrics'; readonly parts?: readonly MetricsPart[] }
  /** `unsampledParents`: its variants send every request with an unsampled parent, so nothing is traced. */
  | {
      readonly kind: 'traces';
      readonly transport: 'http' | 'grpc';
      readonly rate: number;
      readonly unsampledParents?: boolean;
    };

/** The metric namespaces a gateway with `t` has (trace gateways have every one). */
export function metricsParts(t: Telemetry | undefined): readonly MetricsPart[] {
  if (t === undefined || t.kind === 'off') return [];
  return t.kind === 'metrics' ? (t.parts ?? METRICS_PARTS) : METRICS_PARTS;
}

export interface GatewaySpec {
  readonly name: string;
  readonly kind: 'floor' | 'nginx' | 'tollgate';
  readonly telemetry?: Telemetry;
  /** The CLI this Tollgate runs, when not the run's `--tollgate-bin` (the `--baseline-bin` twins). */
  readonly bin?: string;
  /** Also serves `/noop-jwt`: `/noop` behind an `auth/validator` (lib/jwt-token.ts makes its key and token). */
  readonly jwt?: boolean;
  /** `report_headers` on the span layers (default true: every feature on). */
  readonly reportHeaders?: boolean;
  /** `trace_sampler: parentbased_traceidratio`: a remote parent's flag decides at rate 1 too (sampled-cost.ts). */
  readonly followParent?: boolean;
}

export interface Variant {
  readonly name: string;
  readonly gateway: string;
  readonly path: string;
  readonly description: string;
  /** Variant whose µs/request is the denominator of "vs off". */
  readonly vsOff?: string;
  /** Variant whose µs/request is the denominator of "vs metrics" (trace variants). */
  readonly vsMetrics?: string;
  /** Request headers every load run and the probe send (the bearer token of the `jwt` gateway's variants). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The path checks a JWT: the probe also expects 401 without `headers`. */
  readonly authRequired?: boolean;
  /** Run only when `--variants` names it: a closer look at one figure, not one of the default run's. */
  readonly onlyWhenNamed?: boolean;
}

/** The name of a trace gateway and of its variant; `…-unsampled` for the one loaded with unsampled parents only. */
const traceName = (transport: 'http' | 'grpc', rate: number, unsampledParents: boolean): string =>
  `otlp-${transport}-${rate}${unsampledParents ? '-unsampled' : ''}`;

/** The traced gateway at `rate`; `unsampledParents`: the same gateway, whose variant sends unsampled parents only. */
export const trace = (transport: 'http' | 'grpc', rate: number, unsampledParents = false): GatewaySpec => ({
  name: traceName(transport, rate, unsampledParents),
  kind: 'tollgate',
  telemetry: { kind: 'traces', transport, rate, ...(unsampledParents ? { unsampledParents } : {}) },
});

export const GATEWAYS: readonly GatewaySpec[] = [
  { name: 'floor', kind: 'floor' },
  { name: 'nginx', kind: 'nginx' },
  { name: 'off', kind: 'tollgate', telemetry: { kind: 'off' } },
  { name: 'metrics', kind: 'tollgate', telemetry: { kind: 'metrics' } },
  ...METRICS_PARTS.map((p): GatewaySpec => ({
    name: `metrics-${p}`,
    kind: 'tollgate',
    telemetry: { kind: 'metrics', parts: [p] },
  })),
  trace('http', 0),
  trace('http', 0.1),
  trace('http', 1),
  trace('grpc', 0.1),
  trace('grpc', 1),
  trace('http', 0.1, true),
  { name: 'jwt', kind: 'tollgate', telemetry: { kind: 'off' }, jwt: true },
];

const PART_DESCRIPTIONS: Readonly<Record<MetricsPart, string>> = {
  otel: 'telemetry/opentelemetry (every layer, Prometheus with process and runtime metrics)',
  kong: 'telemetry/kong-prometheus (every flag)',
  stats: 'telemetry/metrics (/__stats)',
};

/** A remote parent on every request, sampled (`-01`) or not (`-00`); the rate-0.1 sampler follows its flag. */
export const PARENTS = {
  sampled: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
  unsampled: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00' },
} as const;

/**
 * The variant of `trace(transport, rate, unsampledParents)`. With `unsampledParents` it is the same
 * config in a process that never samples: against the plain variant, what sampling costs the process,
 * sampled requests and the rest; against metrics, the unsampled path with a parent to pass on.
 */
const traceVariant = (transport: 'http' | 'grpc', rate: number, unsampledParents = false): Variant => {
  const name = traceName(transport, rate, unsampledParents);
  const description = `metrics + traces, trace_sample_rate ${rate}, OTLP/${transport === 'http' ? 'HTTP' : 'gRPC'} to a counting sink`;
  return {
    name,
    gateway: name,
    path: '/noop',
    description: unsampledParents
      ? `${description}; every request with an unsampled parent (nothing traced)`
      : description,
    vsOff: 'off',
    vsMetrics: 'metrics',
    ...(unsampledParents ? { headers: PARENTS.unsampled, onlyWhenNamed: true } : {}),
  };
};

export const VARIANTS: readonly Variant[] = [
  {
    name: 'floor',
    gateway: 'floor',
    path: '/payload',
    description: 'node:http + one undici.Pool: the thinnest Node proxy',
    vsOff: 'off',
  },
  {
    name: 'nginx',
    gateway: 'nginx',
    path: '/payload',
    description: 'nginx, one process, upstream keepalive',
    vsOff: 'off',
  },
  { name: 'off', gateway: 'off', path: '/noop', description: 'Tollgate, GET /noop (no-op encoding), no telemetry' },
  {
    name: 'metrics',
    gateway: 'metrics',
    path: '/noop',
    description: 'all metrics: otel layers + Prometheus, /__stats, Kong',
    vsOff: 'off',
  },
  ...METRICS_PARTS.map((p): Variant => ({
    name: `metrics-${p}`,
    gateway: `metrics-${p}`,
    path: '/noop',
    description: `only ${PART_DESCRIPTIONS[p]} of the metrics gateway`,
    vsOff: 'off',
  })),
  traceVariant('http', 0),
  traceVariant('http', 0.1),
  traceVariant('http', 1),
  traceVariant('grpc', 0.1),
  traceVariant('grpc', 1),
  traceVariant('http', 0.1, true),
  {
    name: 'merge-off',
    gateway: 'off',
    path: '/merge',
    description: 'GET /merge: two JSON backends merged, no telemetry',
  },
  {
    name: 'merge-on',
    gateway: 'otlp-grpc-0.1',
    path: '/merge',
    description: 'GET /merge with all metrics + OTLP/gRPC traces at 0.1',
    vsOff: 'merge-off',
  },
  {
    name: 'jwt-off',
    gateway: 'jwt',
    path: '/noop',
    description: 'GET /noop with a bearer token nobody checks, no telemetry (jwt gateway)',
  },
  {
    name: 'jwt-on',
    gateway: 'jwt',
    path: '/noop-jwt',
    description: 'GET /noop-jwt: the same token checked by auth/validator (RS256, cached key), no telemetry',
    vsOff: 'jwt-off',
    authRequired: true,
  },
];

/** The variants on a `jwt` gateway, given the bearer token the run signed; the others as they are. */
export function withBearer(variants: readonly Variant[], gateways: readonly GatewaySpec[], token: string): Variant[] {
  const jwt = (v: Variant): boolean => gateways.some((g) => g.name === v.gateway && g.jwt === true);
  return variants.map((v) => (jwt(v) ? { ...v, headers: { ...v.headers, Authorization: `Bearer ${token}` } } : v));
}

export interface TelemetryPorts {
  readonly metrics: number;
  readonly kong: number;
  readonly stats: number;
  readonly sink: number;
}

const ALL_ON = { disable_stage: false, round_trip: true, read_payload: true, detailed_connection: true };

function telemetryConfig(
  t: Telemetry,
  p: TelemetryPorts,
  reportHeaders = true,
  followParent = false,
): Record<string, unknown> {
  if (t.kind === 'off') return {};
  const parts = metricsParts(t);
  const otlp =
    t.kind === 'traces'
      ? [
          {
            name: 'sink',
            host: '127.0.0.1',
            port: p.sink,
            use_http: t.transport === 'http',
            disable_metrics: true,
            disable_traces: false,
          },
        ]
      : undefined;
  const otel = {
    service_name: 'tollgate-cpu-bench',
    ...(t.kind === 'traces' ? { trace_sample_rate: t.rate } : {}),
    ...(followParent ? { trace_sampler: 'parentbased_traceidratio' } : {}),
    exporters: {
      prometheus: [{ name: 'local', port: p.metrics, listen_ip: '127.0.0.1', process_metrics: true, go_metrics: true }],
      ...(otlp !== undefined ? { otlp } : {}),
    },
    layers: {
      global: {
        disable_metrics: false,
        disable_traces: false,
        disable_propagation: false,
        report_headers: reportHeaders,
      },
      proxy: { disable_metrics: false, disable_traces: false, report_headers: reportHeaders },
      backend: { metrics: ALL_ON, traces: { ...ALL_ON, report_headers: reportHeaders } },
    },
  };
  return {
    extra_config: {
      ...(parts.includes('otel') ? { 'telemetry/opentelemetry': otel } : {}),
      ...(parts.includes('stats') ? { 'telemetry/metrics': { listen_address: `127.0.0.1:${p.stats}` } } : {}),
      ...(parts.includes('kong') ? { 'telemetry/kong-prometheus': kongAllFlags(p.kong) } : {}),
    },
  };
}

/** The endpoint's JWT check: every part of krakend-jose's validation (signature, issuer, audience, roles). */
function jwtValidator(jwksPath: string): Record<string, unknown> {
  return {
    alg: BENCH_JWT.alg,
    jwk_local_path: jwksPath,
    // A local JWK set needs it (KrakenD checks jwk_url's scheme even then: krakend-jose jws.go:86).
    disable_jwk_security: true,
    issuer: BENCH_JWT.issuer,
    audience: [BENCH_JWT.audience],
    roles: [BENCH_JWT.role],
  };
}

/**
 * The KrakenD v3 config of a Tollgate gateway: GET /noop (bytes through) and GET /merge (two JSON
 * backends, grouped); with `spec.jwt`, also GET /noop-jwt, /noop behind the JWK set at `jwksPath`.
 */
export function tollgateConfig(
  spec: GatewaySpec,
  port: number,
  upstreamPort: number,
  ports: TelemetryPorts,
  workers: number | undefined,
  jwksPath?: string,
): { port: number } & Record<string, unknown> {
  const host = loopbackHost(upstreamPort);
  if (spec.jwt === true && jwksPath === undefined) throw new Error(`${spec.name}: a jwt gateway needs a JWK set file`);
  const noop = {
    endpoint: '/noop',
    method: 'GET',
    output_encoding: 'no-op',
    backend: [{ host, url_pattern: '/payload', encoding: 'no-op' }],
  };
  return {
    version: 3,
    name: `tollgate-cpu-${spec.name}`,
    port,
    timeout: '3s',
    ...(workers !== undefined ? { workers } : {}),
    ...telemetryConfig(spec.telemetry ?? { kind: 'off' }, ports, spec.reportHeaders, spec.followParent),
    endpoints: [
      noop,
      ...(spec.jwt === true && jwksPath !== undefined
        ? [{ ...noop, endpoint: '/noop-jwt', extra_config: { 'auth/validator': jwtValidator(jwksPath) } }]
        : []),
      {
        endpoint: '/merge',
        method: 'GET',
        output_encoding: 'json',
        backend: [
          { host, url_pattern: '/json', encoding: 'json', group: 'a' },
          { host, url_pattern: '/json', encoding: 'json', group: 'b' },
        ],
      },
    ],
  };
}

export interface RunningGateway {
  readonly origin: string;
  /** Root of the process tree whose CPU is measured. */
  readonly child: TrackedChild;
  readonly detail?: string;
}

export type GatewayStart = ({ readonly ok: true } & RunningGateway) | { readonly ok: false; readonly reason: string };

export async function startFloor(upstreamOrigin: string): Promise<GatewayStart> {
  const started = await startNodeServer('floor', './floor-proxy.ts', ['--upstream', upstreamOrigin], 15_000);
  if (!started.ok) return started;
  return { ok: true, origin: `http://127.0.0.1:${started.port}`, child: started.child };
}

/** nginx in the foreground, one master-less process, from a generated config in `tempDir`; loopback only. */
export async function startNginx(tempDir: string, upstreamPort: number, leashSeconds: number): Promise<GatewayStart> {
  const bin = which('nginx');
  if (bin === undefined) return { ok: false, reason: 'nginx not found on PATH' };
  const dir = join(tempDir, 'nginx');
  await mkdir(dir, { recursive: true });
  const port = await getFreePort();
  const config = join(dir, 'nginx.conf');
  await writeFile(config, nginxConfig({ dir, port, upstreamPort, workers: 1, buildInfo: toolOutput(bin, ['-V']) }));
  const child = spawnTracked('nginx', bin, ['-p', dir, '-c', config, '-e', 'stderr'], { leashSeconds });
  const origin = `http://127.0.0.1:${port}`;
  const ready = await waitForHttp200(`${origin}/payload`, 10_000, child);
  if (!ready.ok) {
    await child.stop();
    return ready;
  }
  const version = toolVersion(bin, ['-v']);
  return { ok: true, origin, child, ...(version !== undefined ? { detail: version } : {}) };
}

export async function startTollgate(
  spec: GatewaySpec,
  o: {
    bin: string;
    tempDir: string;
    upstreamPort: number;
    sinkPort: number;
    workers: number | undefined;
    leashSeconds: number;
    /** The JWK set file of a `jwt` gateway. */
    jwksPath?: string | undefined;
    taskset?: { readonly bin: string; readonly cpus: string } | undefined;
  },
): Promise<GatewayStart & { ports?: TelemetryPorts }> {
  // Ports picked one after another (each probe socket is closed before the next pick).
  const ports: TelemetryPorts = {
    metrics: await getFreePort(),
    kong: await getFreePort(),
    stats: await getFreePort(),
    sink: o.sinkPort,
  };
  const port = await getFreePort();
  const started = await startTollgateWithConfig({
    name: `tollgate-${spec.name}`,
    config: tollgateConfig(spec, port, o.upstreamPort, ports, o.workers, o.jwksPath),
    bin: o.bin,
    tempDir: o.tempDir,
    leashSeconds: o.leashSeconds,
    taskset: o.taskset,
  });
  if (!started.ok) return started;
  return { ok: true, origin: started.origin, child: started.child, ports };
}

/** The name of a variant's or gateway's twin on the baseline build (`--baseline-bin`). */
export const baselineName = (name: string): string => `${name}@base`;

/**
 * The variants and gateways of a run: the chosen variants and, with a baseline build, a twin of every
 * Tollgate variant on its own gateway running that build, so both builds load in the same rounds.
 */
export function planVariants(
  chosen: readonly Variant[],
  baselineBin: string | undefined,
): { variants: Variant[]; gateways: GatewaySpec[] } {
  const gateways = GATEWAYS.filter((g) => chosen.some((v) => v.gateway === g.name));
  if (baselineBin === undefined) return { variants: [...chosen], gateways };
  const tollgate = (v: Variant): boolean => gateways.find((g) => g.name === v.gateway)?.kind === 'tollgate';
  const twin = (name: string | undefined): string | undefined =>
    name !== undefined && chosen.some((v) => v.name === name && tollgate(v)) ? baselineName(name) : undefined;
  const twins = chosen.filter(tollgate).map((v) => ({
    ...v,
    name: baselineName(v.name),
    gateway: baselineName(v.gateway),
    description: `${v.description} (baseline build)`,
    vsOff: twin(v.vsOff),
    vsMetrics: twin(v.vsMetrics),
  }));
  const baseGateways = gateways
    .filter((g) => g.kind === 'tollgate')
    .map((g) => ({ ...g, name: baselineName(g.name), bin: baselineBin }));
  return { variants: [...chosen, ...twins], gateways: [...gateways, ...baseGateways] };
}
