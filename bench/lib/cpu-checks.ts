// After the rounds of bench/cpu-per-request.ts: proof that the telemetry
// being charged for was really on. Each metrics gateway's Prometheus
// /metrics must count at least the requests it served, its Kong listener
// must count them too, its /__stats must answer, and each trace gateway's
// sink must have received spans. A variant whose telemetry silently did
// nothing would otherwise post a flattering ratio.

import type { TelemetryPorts } from './cpu-gateways.js';
import { getText, sumSamples } from './otlp-bench-util.js';
import type { OtlpSinkCounts } from './otlp-sink.js';

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

/** `served`: requests wrk completed against this gateway over every run (measured and warm-up), plus probes. */
export async function checkTelemetry(
  gateway: string,
  ports: TelemetryPorts,
  served: number,
  sink: OtlpSinkCounts | undefined,
): Promise<Check[]> {
  const checks: Check[] = [];
  const prom = await scrape(`http://127.0.0.1:${ports.metrics}/metrics`);
  const server = sumSamples(prom.text, 'http_server_duration_count');
  checks.push({
    label: `${gateway}: Prometheus http_server_duration_count`,
    ok: prom.status === 200 && server.sum >= served,
    detail: `HTTP ${prom.status}, ${int(server.sum)} in ${server.series} series (requests completed: ${int(served)})`,
  });
  const kong = await scrape(`http://127.0.0.1:${ports.kong}/metrics`);
  // 3.x naming (the default): kong_http_requests_total; 2.x naming calls it kong_http_status.
  const status = sumSamples(kong.text, 'kong_http_requests_total');
  checks.push({
    label: `${gateway}: Kong kong_http_requests_total`,
    ok: kong.status === 200 && status.sum >= served,
    detail: `HTTP ${kong.status}, ${int(status.sum)} in ${status.series} series`,
  });
  const stats = await scrape(`http://127.0.0.1:${ports.stats}/__stats`);
  checks.push({
    label: `${gateway}: /__stats`,
    ok: stats.status === 200,
    detail: `HTTP ${stats.status}, ${int(Buffer.byteLength(stats.text))} bytes`,
  });
  if (sink !== undefined) {
    const t = sink.traces;
    checks.push({
      label: `${gateway}: sink spans`,
      ok: t.items > 0 && t.malformed === 0,
      detail: `${int(t.requests)} exports, ${int(t.items)} spans, ${int(t.bytes / 1024)} KiB, ${t.malformed} malformed`,
    });
  }
  return checks;
}
