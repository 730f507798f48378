// After the rounds of bench/cpu-per-request.ts: proof that the telemetry
// being charged for was really on. Each metrics gateway's Prometheus
// /metrics must count at least the requests it served, its Kong listener
// must count them too, its /__stats must answer, and each trace gateway's
// sink must have received every span the gateway made: none dropped or
// failed by the gateway's own count (tollgate_telemetry_spans_total), the
// sink holding exactly what the gateway says it exported, and at rate 1 the
// spans of every request served. A variant whose telemetry silently did
// nothing (or shed its spans) would otherwise post a flattering ratio.

import { metricsParts, type Telemetry, type TelemetryPorts } from './cpu-gateways.js';
import { getText, sumSamples } from './otlp-bench-util.js';
import type { OtlpSinkCounts } from './otlp-sink.js';

/**
 * Spans of one GET /noop on a gateway of lib/cpu-gateways.ts (every layer on): global, proxy,
 * backend stage, client and read.
 */
export const NOOP_SPANS = 5;

export interface Check {
  readonly label: string;
  readonly ok: boolean;
  readonly detail: string;
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');

async function scrape(url: string): Promise<{ status: number; text: string }> {
  try {
    return await getText(url);
  } catch (error) {
    return { status: 0, text: error instanceof Error ? error.message : String(error) };
  }
}

/** That the exposition on `port` counts at least `served` in `family` (summed over its series). */
async function counted(gateway: string, what: string, port: number, family: string, served: number): Promise<Check> {
  const page = await scrape(`http://127.0.0.1:${port}/metrics`);
  const found = sumSamples(page.text, family);
  return {
    label: `${gateway}: ${what} ${family}`,
    ok: page.status === 200 && found.sum >= served,
    detail: `HTTP ${page.status}, ${int(found.sum)} in ${found.series} series (requests completed: ${int(served)})`,
  };
}

/** The trace settings of a gateway named as lib/cpu-gateways.ts names them (`otlp-<transport>-<rate>[@base]`). */
function tracesOf(gateway: string): Telemetry | undefined {
  const m = /^otlp-(http|grpc)-([0-9.]+)(@base)?$/.exec(gateway);
  return m === null ? undefined : { kind: 'traces', transport: m[1] as 'http' | 'grpc', rate: Number(m[2]) };
}

/** What the gateway says became of its spans, summed over its exporters (and workers). */
function spanOutcomes(text: string): { exported: number; dropped: number; failed: number; series: number } {
  const of = (outcome: string): { series: number; sum: number } =>
    sumSamples(text, 'tollgate_telemetry_spans_total', [`outcome="${outcome}"`]);
  const exported = of('exported');
  return { exported: exported.sum, dropped: of('dropped').sum, failed: of('failed').sum, series: exported.series };
}

/**
 * `served`: requests wrk completed against this gateway over every run (measured and warm-up), plus
 * probes. `sinkCounts` reads the sink again (an export may still be on its way when the check starts).
 * `telemetry`: the gateway's settings, else read from its name.
 */
export async function checkTelemetry(
  gateway: string,
  ports: TelemetryPorts,
  served: number,
  sink: OtlpSinkCounts | undefined,
  telemetry: Telemetry | undefined = tracesOf(gateway),
  sinkCounts?: () => Promise<OtlpSinkCounts>,
): Promise<Check[]> {
  const checks: Check[] = [];
  // A gateway with some of the metric namespaces (lib/cpu-gateways.ts `metrics-<part>`) is checked on those.
  const parts = metricsParts(telemetry ?? { kind: 'metrics' });
  if (parts.includes('otel'))
    checks.push(await counted(gateway, 'Prometheus', ports.metrics, 'http_server_duration_count', served));
  // 3.x naming (the default): kong_http_requests_total; 2.x naming calls it kong_http_status.
  if (parts.includes('kong'))
    checks.push(await counted(gateway, 'Kong', ports.kong, 'kong_http_requests_total', served));
  if (parts.includes('stats')) {
    const stats = await scrape(`http://127.0.0.1:${ports.stats}/__stats`);
    checks.push({
      label: `${gateway}: /__stats`,
      ok: stats.status === 200,
      detail: `HTTP ${stats.status}, ${int(Buffer.byteLength(stats.text))} bytes`,
    });
  }
  if (sink !== undefined) checks.push(...(await checkSpans(gateway, ports, served, sink, telemetry, sinkCounts)));
  return checks;
}

async function checkSpans(
  gateway: string,
  ports: TelemetryPorts,
  served: number,
  first: OtlpSinkCounts,
  telemetry: Telemetry | undefined,
  sinkCounts: (() => Promise<OtlpSinkCounts>) | undefined,
): Promise<Check[]> {
  let sink = first;
  let prom = await scrape(`http://127.0.0.1:${ports.metrics}/metrics`);
  let outcomes = spanOutcomes(prom.text);
  // The sink counts an export when it arrives, the gateway when it is answered: let one finish.
  for (let i = 0; i < 5 && sinkCounts !== undefined && sink.traces.items !== outcomes.exported; i++) {
    await new Promise((r) => setTimeout(r, 500));
    sink = await sinkCounts();
    prom = await scrape(`http://127.0.0.1:${ports.metrics}/metrics`);
    outcomes = spanOutcomes(prom.text);
  }
  const t = sink.traces;
  // At rate 0, or with an unsampled parent on every request, nothing is sampled: the sink must receive nothing.
  const none = telemetry?.kind === 'traces' && (telemetry.rate === 0 || telemetry.unsampledParents === true);
  const checks: Check[] = [
    {
      label: `${gateway}: sink spans${none ? ' (none sampled)' : ''}`,
      ok: (none ? t.items === 0 : t.items > 0) && t.malformed === 0,
      detail: `${int(t.requests)} exports, ${int(t.items)} spans, ${int(t.bytes / 1024)} KiB, ${t.malformed} malformed`,
    },
    {
      label: `${gateway}: no span dropped or failed, the sink has every exported one`,
      ok: outcomes.series > 0 && outcomes.dropped === 0 && outcomes.failed === 0 && t.items === outcomes.exported,
      detail: `gateway: ${int(outcomes.exported)} exported, ${int(outcomes.dropped)} dropped, ${int(outcomes.failed)} failed; sink: ${int(t.items)}`,
    },
  ];
  if (telemetry?.kind === 'traces' && telemetry.rate >= 1) {
    const expected = NOOP_SPANS * served;
    checks.push({
      label: `${gateway}: ${NOOP_SPANS} spans for every request served at rate 1`,
      // Requests wrk cut off at the end of a run were traced too, but not counted as served.
      ok: t.items >= expected,
      detail: `${int(t.items)} spans for ${int(served)} requests (at least ${int(expected)} expected)`,
    });
  }
  return checks;
}
