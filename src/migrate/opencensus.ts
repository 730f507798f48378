/**
 * `tollgate migrate --from opencensus`: a KrakenD file using the legacy `telemetry/opencensus`
 * namespace (or its alias `github_com/devopsfaith/krakend-opencensus`) rewritten to
 * `telemetry/opentelemetry` by KrakenD's migration rules ("Migrating from an old OpenCensus
 * configuration" in https://www.krakend.io/docs/telemetry/prometheus/; docs/migrate.md). Everything
 * else in the file is left as it is.
 */
import type { PathSegment } from '../config/json-path.js';
import { arrayAt, isObject, type RawObject } from '../config/raw.js';
import { commentsOf, noteUnused } from './fields.js';
import { convertExporters, type ExporterOutcome } from './opencensus-exporters.js';
import { MigrationReport, type MigrationResult } from './report.js';

const OPENCENSUS = 'telemetry/opencensus';
const LEGACY = 'github_com/devopsfaith/krakend-opencensus';
const OTEL = 'telemetry/opentelemetry';

export function migrateOpencensus(input: unknown): MigrationResult {
  const r = new MigrationReport();
  if (!isObject(input) || input.version !== 3) {
    r.invalid(isObject(input) ? ['version'] : [], 'must be a KrakenD v3 configuration ("version": 3)');
    r.check();
  }
  const root = structuredClone(input as RawObject);
  let found = 0;
  if (root.extra_config !== undefined && !isObject(root.extra_config)) r.invalid(['extra_config'], 'must be an object');
  else if (isObject(root.extra_config)) {
    found += migrateRoot(root.extra_config, r);
    if (Object.keys(root.extra_config).length === 0) delete root.extra_config;
  }
  arrayAt(root, 'endpoints').forEach((ep, i) => {
    if (!isObject(ep)) return;
    found += removeScoped(ep, ['endpoints', i], r);
    arrayAt(ep, 'backend').forEach((be, j) => {
      if (isObject(be)) found += removeScoped(be, ['endpoints', i, 'backend', j], r);
    });
  });
  if (found === 0 && !r.hasIssues)
    r.invalid(['extra_config'], `has no "${OPENCENSUS}" (or "${LEGACY}") namespace: nothing to migrate`);
  return r.finish(root);
}

/** Rewrites the root namespace in place (same position in extra_config); returns how many were found. */
function migrateRoot(extra: RawObject, r: MigrationReport): number {
  const key = OPENCENSUS in extra ? OPENCENSUS : LEGACY in extra ? LEGACY : undefined;
  if (key === undefined) return 0;
  if (key === OPENCENSUS && LEGACY in extra)
    r.note(['extra_config', LEGACY], `removed: "${OPENCENSUS}" is also present and is the one migrated`);
  const at = ['extra_config', key];
  const oc = extra[key];
  if (!isObject(oc)) {
    r.invalid(at, 'must be an object');
    return 1;
  }
  if (OTEL in extra) {
    r.invalid(
      ['extra_config', OTEL],
      `is already present: merge the ${key} settings into it by hand, or remove one of the two`,
    );
    return 1;
  }
  const { otel, exporters } = convertNamespace(oc, at, r);
  const entries: [string, unknown][] = [];
  for (const [k, v] of Object.entries(extra)) {
    if (k === key) {
      if (otel !== undefined) entries.push([OTEL, otel]);
    } else if (k !== LEGACY) {
      entries.push([k, v]);
    }
  }
  for (const k of Object.keys(extra)) delete extra[k];
  Object.assign(extra, Object.fromEntries(entries));
  addInflux(extra, exporters.influx, [...at, 'exporters', 'influxdb'], r);
  return 1;
}

function convertNamespace(
  oc: RawObject,
  at: readonly PathSegment[],
  r: MigrationReport,
): { otel: RawObject | undefined; exporters: ExporterOutcome } {
  const period = oc.reporting_period;
  if (period !== undefined && (typeof period !== 'number' || !Number.isInteger(period)))
    r.invalid([...at, 'reporting_period'], 'must be a whole number of seconds');
  const periodS = typeof period === 'number' ? period : undefined;
  const exporters = convertExporters(oc.exporters, [...at, 'exporters'], periodS, r);
  noteUnused(oc, ['sample_rate', 'reporting_period', 'enabled_layers', 'exporters'], at, r);
  const named = uniqueNames([...exporters.prometheus, ...exporters.otlp], [...at, 'exporters'], r);
  if (named === 0) {
    r.note(at, `not carried over: no exporter has an OpenTelemetry equivalent, so no "${OTEL}" is written`);
    for (const k of ['sample_rate', 'reporting_period', 'enabled_layers'])
      if (k in oc) r.note([...at, k], 'dropped with the namespace');
    return { otel: undefined, exporters };
  }
  const otel: RawObject = { ...commentsOf(oc) };
  const service = exporters.serviceNames[0];
  if (service !== undefined) otel.service_name = service.name;
  for (const other of exporters.serviceNames.slice(1)) {
    if (other.name !== service?.name)
      r.note(
        other.at,
        `"${other.name}" not carried over: OpenTelemetry has one service_name for every exporter ("${service?.name ?? ''}")`,
      );
  }
  // KrakenD's rule: `reporting_period` → `metric_reporting_period` (both in seconds, <= 0 = default).
  if (periodS !== undefined) otel.metric_reporting_period = Math.max(0, periodS);
  sampling(oc.sample_rate, exporters.otlp, otel, [...at, 'sample_rate'], r);
  otel.exporters = {
    ...(exporters.prometheus.length > 0 ? { prometheus: exporters.prometheus } : {}),
    ...(exporters.otlp.length > 0 ? { otlp: exporters.otlp } : {}),
  };
  const layers = convertLayers(oc.enabled_layers, [...at, 'enabled_layers'], r);
  if (layers !== undefined) otel.layers = layers;
  return { otel, exporters };
}

/** Exporter names must be unique across both lists (a Prometheus and a Datadog namespace may both be "krakend"). */
function uniqueNames(entries: RawObject[], at: readonly PathSegment[], r: MigrationReport): number {
  const seen = new Set<string>();
  for (const e of entries) {
    const base = String(e.name);
    let name = base;
    for (let n = 2; seen.has(name); n++) name = `${base}_${n}`;
    if (name !== base) r.note(at, `exporter name "${base}" is used twice: the second one is named "${name}"`);
    e.name = name;
    seen.add(name);
  }
  return entries.length;
}

/**
 * `sample_rate` (a percentage; <= 0 never samples) is deleted, as KrakenD documents. When exporters
 * that carry traces were migrated, the OpenCensus sampling is kept: a ratio in `trace_sample_rate`,
 * or — for "never" — traces switched off on those exporters, which means the same in KrakenD CE
 * (where a rate of 0 samples everything) and in Tollgate.
 */
function sampling(
  rate: unknown,
  otlp: RawObject[],
  otel: RawObject,
  at: readonly PathSegment[],
  r: MigrationReport,
): void {
  if (rate !== undefined && typeof rate !== 'number') {
    r.invalid(at, 'must be a number (a percentage)');
    return;
  }
  const tracing = otlp.filter((e) => e.disable_traces !== true);
  if (tracing.length === 0) {
    if (rate !== undefined) r.note(at, 'dropped: no exporter that sends traces was carried over');
    return;
  }
  if (rate !== undefined && rate > 0) {
    otel.trace_sample_rate = Math.min(rate, 100) / 100;
    r.note(at, `replaced by "trace_sample_rate": ${String(otel.trace_sample_rate)} (a ratio, not a percentage)`);
    return;
  }
  for (const e of tracing) e.disable_traces = true;
  r.note(
    at,
    `${rate === undefined ? 'not set' : String(rate)}: OpenCensus never sampled a trace, so the OTLP exporters keep traces off ("disable_traces": true); set "trace_sample_rate" and remove "disable_traces" to send them`,
  );
}

/**
 * `enabled_layers` → `layers`. krakend-opencensus enables every layer when the object is absent and
 * only the ones set to true when it is present. A disabled backend layer is written as explicit
 * sub-objects, which KrakenD reads literally: round trip, payload and connection metrics off too
 * (https://github.com/krakend/krakend-otel/blob/HEAD/config/config.go).
 */
function convertLayers(raw: unknown, at: readonly PathSegment[], r: MigrationReport): RawObject | undefined {
  if (raw === undefined) return undefined;
  if (!isObject(raw)) {
    r.invalid(at, 'must be an object');
    return undefined;
  }
  noteUnused(raw, ['router', 'pipe', 'backend'], at, r);
  const layers: RawObject = {};
  const off = { disable_metrics: true, disable_traces: true };
  const unset = (layer: string, to: string): void => {
    if (raw[layer] === undefined)
      r.note(
        [...at, layer],
        `not set: OpenCensus left the ${layer} layer off once enabled_layers is present, so layers.${to} is off too`,
      );
  };
  if (raw.router !== true) {
    layers.global = { ...off };
    unset('router', 'global');
  }
  if (raw.pipe !== true) {
    layers.proxy = { ...off };
    unset('pipe', 'proxy');
  }
  if (raw.backend !== true) {
    layers.backend = { metrics: { disable_stage: true }, traces: { disable_stage: true } };
    unset('backend', 'backend');
  }
  return Object.keys(layers).length > 0 ? layers : undefined;
}

/** The InfluxDB exporter keeps its database through `telemetry/influx`, fed by `telemetry/metrics`. */
function addInflux(
  extra: RawObject,
  influx: RawObject | undefined,
  at: readonly PathSegment[],
  r: MigrationReport,
): void {
  if (influx === undefined) return;
  if ('telemetry/influx' in extra) {
    r.note(at, 'not carried over: extra_config already has "telemetry/influx", which is kept as it is');
    return;
  }
  extra['telemetry/influx'] = influx;
  // Collect as often as the push runs, without opening the /__stats listener nobody asked for.
  if (!('telemetry/metrics' in extra))
    extra['telemetry/metrics'] = { collection_time: influx.ttl, endpoint_disabled: true };
}

/** Endpoint- and backend-level `telemetry/opencensus` (`path_aggregation`) has no equivalent. */
function removeScoped(o: RawObject, at: readonly PathSegment[], r: MigrationReport): number {
  const extra = o.extra_config;
  if (!isObject(extra)) return 0;
  let found = 0;
  for (const key of [OPENCENSUS, LEGACY]) {
    if (!(key in extra)) continue;
    found++;
    const v = extra[key];
    const aggregation = isObject(v) ? v.path_aggregation : undefined;
    r.note(
      [...at, 'extra_config', key],
      aggregation === undefined || aggregation === 'pattern'
        ? 'removed: OpenTelemetry always labels by the route pattern, as "path_aggregation": "pattern" did'
        : `removed: "path_aggregation": ${JSON.stringify(aggregation)} has no equivalent; OpenTelemetry always labels by the route pattern`,
    );
    delete extra[key];
  }
  if (found > 0 && Object.keys(extra).length === 0) delete o.extra_config;
  return found;
}
