// Rendering 10k series as Prometheus text: Tollgate's MetricStore +
// renderPrometheusText versus prom-client's Registry.metrics() versus
// @opentelemetry/sdk-metrics collected by @opentelemetry/exporter-prometheus
// (PrometheusExporter.collect() + PrometheusSerializer.serialize(), which is
// exactly what its /metrics handler does). Same metrics, labels and values in
// all three; the outputs are parsed back and compared series by series.
//
//   node --import tsx bench/telemetry-render.ts [--renders 20] [--warmup 5]
//
// Two compositions, each exactly 10,000 series:
//   counters: 10 counter families x 1,000 series                 = 10,000 series, 10,000 sample lines
//   mixed:    19 counter families x 500 series + 1 histogram
//             family x 500 series (20 bounds -> 21 buckets)       = 10,000 series, 21,000 sample lines
// Every series has 3 labels (method, route, status) plus the scope label
// otel_scope_name="bench" that the OTel exporter adds (given to the others as
// a constant/default label so the texts are the same size).

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { Counter as PromCounter, Histogram as PromHistogram, Registry } from 'prom-client';
import {
  exitOnHelp,
  foreignLoadLines,
  intOption,
  machineSummary,
  median,
  quietCheck,
  startForeignLoadMeter,
  timeAsync,
  type Timing,
} from './lib/micro.js';
import { textTable } from './lib/text-table.js';
import { DEFAULT_TIME_BUCKETS } from '../src/config/namespaces/opentelemetry.js';
import { renderOpenMetrics } from '../src/telemetry/exposition/openmetrics.js';
import { renderPrometheusText } from '../src/telemetry/exposition/prometheus-text.js';
import { MetricStore, type StoreGroup } from '../src/telemetry/store/store.js';

const argv = process.argv.slice(2);
exitOnHelp(
  argv,
  'Usage: node --import tsx bench/telemetry-render.ts [--renders N] [--warmup N]\n' +
    '  --renders  timed renders per implementation and composition; median (default 20)\n' +
    '  --warmup   untimed renders first                                    (default 5)\n',
);
const RENDERS = intOption(argv, 'renders', 20);
const WARMUP = intOption(argv, 'warmup', 5, 0);

// A full GC between implementations (never inside a timed render) keeps one
// implementation's garbage out of the next one's timings.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (() => void) | undefined;
function collectGarbage(): void {
  gc?.();
}

const SCOPE = 'bench';
const METHODS = ['GET', 'POST', 'PUT', 'DELETE'];
const STATUSES = ['200', '201', '404', '500', '503'];
const LABEL_NAMES = ['http_request_method', 'http_route', 'http_response_status_code'] as const;
const BUCKETS = DEFAULT_TIME_BUCKETS;

/** Distinct label values for every i (method = i%4, status = (i/4)%5, route = i/20). */
function labelsFor(i: number): Record<(typeof LABEL_NAMES)[number], string> {
  return {
    http_request_method: METHODS[i % 4] as string,
    http_route: `/api/v1/items-${Math.floor(i / 20)}/{id}`,
    http_response_status_code: STATUSES[Math.floor(i / 4) % 5] as string,
  };
}

const counterValue = (f: number, i: number): number => ((i * 7 + f) % 97) + 1;
/** Three observations per histogram series, landing in different buckets. */
const histValues = (i: number): readonly number[] => [0.004 * ((i % 5) + 1), 0.11, 1.7 + (i % 3)];

interface Composition {
  readonly name: string;
  readonly counterFamilies: number;
  readonly counterSeries: number;
  readonly histogramSeries: number;
}

const COMPOSITIONS: readonly Composition[] = [
  { name: 'counters', counterFamilies: 10, counterSeries: 1000, histogramSeries: 0 },
  { name: 'mixed', counterFamilies: 19, counterSeries: 500, histogramSeries: 500 },
];

interface Renderer {
  readonly name: string;
  render(): Promise<string>;
  readonly times: Timing[];
  close?(): Promise<void>;
}

function tollgateRenderers(c: Composition): Renderer[] {
  const store = new MetricStore();
  const constLabels = [['otel_scope_name', SCOPE]] as const;
  for (let f = 0; f < c.counterFamilies; f++) {
    const fam = store.counter('otel', {
      name: `bench_counter_${f}`,
      help: `Bench counter ${f}.`,
      constLabels,
      seriesLimit: 100_000,
    });
    for (let i = 0; i < c.counterSeries; i++) fam.bind(Object.entries(labelsFor(i))).add(counterValue(f, i));
  }
  if (c.histogramSeries > 0) {
    const fam = store.histogram('otel', {
      name: 'bench_histogram',
      help: 'Bench histogram.',
      buckets: BUCKETS,
      constLabels,
      seriesLimit: 100_000,
    });
    for (let i = 0; i < c.histogramSeries; i++) {
      const cell = fam.bind(Object.entries(labelsFor(i)));
      for (const v of histValues(i)) cell.observe(v);
    }
  }
  const groups = new Set<StoreGroup>(['otel']);
  return [
    {
      name: 'tollgate (text 0.0.4)',
      render: () => Promise.resolve(renderPrometheusText(store.snapshot(groups))),
      times: [],
    },
    {
      name: 'tollgate (OpenMetrics)',
      render: () => Promise.resolve(renderOpenMetrics(store.snapshot(groups))),
      times: [],
    },
  ];
}

function promClientRenderer(c: Composition): Renderer {
  const registry = new Registry();
  registry.setDefaultLabels({ otel_scope_name: SCOPE });
  for (let f = 0; f < c.counterFamilies; f++) {
    const counter = new PromCounter({
      name: `bench_counter_${f}_total`,
      help: `Bench counter ${f}.`,
      labelNames: LABEL_NAMES,
      registers: [registry],
    });
    for (let i = 0; i < c.counterSeries; i++) counter.inc(labelsFor(i), counterValue(f, i));
  }
  if (c.histogramSeries > 0) {
    const hist = new PromHistogram({
      name: 'bench_histogram',
      help: 'Bench histogram.',
      labelNames: LABEL_NAMES,
      buckets: [...BUCKETS],
      registers: [registry],
    });
    for (let i = 0; i < c.histogramSeries; i++) for (const v of histValues(i)) hist.observe(labelsFor(i), v);
  }
  return { name: 'prom-client', render: () => registry.metrics(), times: [] };
}

function otelRenderer(c: Composition): Renderer {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  // The exporter's own defaults: no prefix, no timestamps, target_info and scope labels on.
  const serializer = new PrometheusSerializer();
  const provider = new MeterProvider({ readers: [exporter] });
  const meter = provider.getMeter(SCOPE);
  for (let f = 0; f < c.counterFamilies; f++) {
    const counter = meter.createCounter(`bench_counter_${f}`, { description: `Bench counter ${f}.` });
    for (let i = 0; i < c.counterSeries; i++) counter.add(counterValue(f, i), labelsFor(i));
  }
  if (c.histogramSeries > 0) {
    const hist = meter.createHistogram('bench_histogram', {
      description: 'Bench histogram.',
      advice: { explicitBucketBoundaries: [...BUCKETS] },
    });
    for (let i = 0; i < c.histogramSeries; i++) for (const v of histValues(i)) hist.record(v, labelsFor(i));
  }
  return {
    name: 'otel exporter-prometheus',
    async render() {
      const { resourceMetrics, errors } = await exporter.collect();
      if (errors.length > 0) throw new Error(`collect errors: ${errors.map(String).join('; ')}`);
      return serializer.serialize(resourceMetrics);
    },
    times: [],
    close: () => provider.shutdown(),
  };
}

// ---------------------------------------------------------------------------
// Sanity: parse every output back into {series -> value} and compare.

interface Parsed {
  readonly bytes: number;
  readonly lines: number;
  readonly samples: Map<string, number>;
}

/** `name{a="1",b="2"} 3` → key `name{a="1",b="2"}` with labels sorted; target_info and `# EOF` skipped. */
function parseExposition(text: string): Parsed {
  const samples = new Map<string, number>();
  const lines = text.split('\n');
  for (const line of lines) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (m === null) throw new Error(`unparsable sample line: ${line}`);
    const [, name, labelText, value] = m as unknown as [string, string, string | undefined, string];
    if (name === 'target_info' || name === 'otel_scope_info') continue;
    const labels = (labelText ?? '').match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) ?? [];
    const key = `${name}{${[...labels].sort().join(',')}}`;
    if (samples.has(key)) throw new Error(`duplicate sample ${key}`);
    samples.set(key, value === '+Inf' ? Infinity : Number(value));
  }
  return { bytes: Buffer.byteLength(text), lines: lines.filter((l) => l !== '').length, samples };
}

/** Every sample of `reference` must be in `other` with the same value, and nothing more. */
function compare(reference: Parsed, other: Parsed): string {
  let missing = 0;
  let extra = 0;
  let different = 0;
  for (const [key, value] of reference.samples) {
    const v = other.samples.get(key);
    if (v === undefined) missing++;
    else if (Math.abs(v - value) > 1e-9 * Math.max(1, Math.abs(value))) different++;
  }
  for (const key of other.samples.keys()) if (!reference.samples.has(key)) extra++;
  return missing + extra + different === 0
    ? 'same series and values'
    : `MISMATCH: ${missing} missing, ${extra} extra, ${different} different values`;
}

// ---------------------------------------------------------------------------

function fmtMs(ns: number): string {
  return `${(ns / 1e6).toFixed(2)}`;
}

async function main(): Promise<void> {
  const quiet = await quietCheck();
  process.stderr.write(
    `telemetry-render: ${machineSummary()}; ` +
      `${RENDERS} timed renders after ${WARMUP} warm-up per implementation, one implementation at a time; background CPU before: ${quiet.busyPercent}%\n`,
  );
  const out: string[] = [''];
  const foreignLoad = startForeignLoadMeter();
  for (const c of COMPOSITIONS) {
    const series = c.counterFamilies * c.counterSeries + c.histogramSeries;
    // One implementation at a time, each in a heap holding only its own data:
    // interleaving them made one render pay for the garbage collection of
    // another's output (3 MB strings), which doubled some medians.
    const factories: (() => Renderer[])[] = [
      () => tollgateRenderers(c),
      () => [promClientRenderer(c)],
      () => [otelRenderer(c)],
    ];
    const renderers: Renderer[] = [];
    const texts: string[] = [];
    for (const make of factories) {
      collectGarbage();
      const made = make();
      for (const r of made) {
        for (let w = 0; w < WARMUP; w++) await r.render();
        collectGarbage();
        for (let k = 0; k < RENDERS; k++) {
          r.times.push(
            await timeAsync(async () => {
              await r.render();
            }),
          );
        }
        texts.push(await r.render());
        renderers.push(r);
      }
      for (const r of made) await r.close?.();
    }
    // Sanity: parse one output of each and compare with Tollgate's text output.
    const parsed = renderers.map((r, i) => ({ r, text: texts[i] ?? '' }));
    const reference = parseExposition(parsed[0]?.text ?? '');

    const tollgateWall = median(renderers[0]?.times.map((t) => t.wallNs) ?? []);
    out.push(
      `Render of ${series.toLocaleString('en-US')} series — "${c.name}": ${c.counterFamilies} counter families x ${c.counterSeries.toLocaleString('en-US')} series` +
        (c.histogramSeries > 0
          ? ` + 1 histogram family x ${c.histogramSeries} series (${BUCKETS.length} bounds)`
          : '') +
        `; median of ${RENDERS}`,
      '',
    );
    const header = [
      'implementation',
      'wall ms',
      'CPU ms',
      'min..max ms',
      'vs tollgate',
      'bytes',
      'lines',
      'samples',
      'check vs tollgate text',
    ];
    const rows = parsed.map(({ r, text }) => {
      const p = parseExposition(text);
      const wall = median(r.times.map((t) => t.wallNs));
      const cpu = median(r.times.map((t) => t.cpuNs));
      const walls = r.times.map((t) => t.wallNs);
      return [
        r.name,
        fmtMs(wall),
        fmtMs(cpu),
        `${fmtMs(Math.min(...walls))}..${fmtMs(Math.max(...walls))}`,
        `${(wall / tollgateWall).toFixed(1)}x`,
        p.bytes.toLocaleString('en-US'),
        p.lines.toLocaleString('en-US'),
        p.samples.size.toLocaleString('en-US'),
        r === renderers[0] ? '(reference)' : compare(reference, p),
      ];
    });
    out.push(...textTable(header, rows, (col, cols) => col === 0 || col === cols - 1), '');
    const wallOf = (name: string): number =>
      median(renderers.find((r) => r.name === name)?.times.map((t) => t.wallNs) ?? [NaN]);
    out.push(
      `ratio (prom-client / tollgate): ${(wallOf('prom-client') / tollgateWall).toFixed(1)}   ` +
        `ratio (otel exporter-prometheus / tollgate): ${(wallOf('otel exporter-prometheus') / tollgateWall).toFixed(1)}`,
      '',
    );
  }
  const foreignPercent = foreignLoad();
  out.push(
    'wall = hrtime around one render (Tollgate: store.snapshot + render; prom-client: await registry.metrics(); ' +
      'OTel: await exporter.collect() + serializer.serialize()). CPU = process.cpuUsage over the same span (GC helpers included).',
    'samples excludes target_info (only the OTel exporter writes it). lines counts non-empty lines, # HELP/# TYPE included.',
    '',
    ...foreignLoadLines(foreignPercent, quiet),
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();
