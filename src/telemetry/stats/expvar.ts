/**
 * `/__stats` rendering (https://www.krakend.io/docs/telemetry/extended-metrics/), Go expvar style as
 * https://github.com/rcrowley/go-metrics/blob/master/exp/exp.go writes it: one flat JSON object with
 * sorted keys, written `{\n"key": value,\n…\n}\n`; histograms expand into `.count .min .max .mean
 * .std-dev` and the 50/75/95/99/99.9 percentiles. A pure function of the registry's current values.
 */
import type { StatsSnapshot } from './stats-registry.js';

const PERCENTILES: readonly (readonly [string, number])[] = [
  ['50-percentile', 0.5],
  ['75-percentile', 0.75],
  ['95-percentile', 0.95],
  ['99-percentile', 0.99],
  ['999-percentile', 0.999],
];

function num(v: number): string {
  return Number.isFinite(v) ? JSON.stringify(v) : '0';
}

export function renderExpvar(snapshot: StatsSnapshot, extra: Readonly<Record<string, unknown>>): string {
  const entries: [string, string][] = Object.entries(extra).map(([k, v]) => [k, JSON.stringify(v)]);
  for (const [k, v] of snapshot.counters) entries.push([k, num(v)]);
  for (const [k, v] of snapshot.gauges) entries.push([k, num(v)]);
  for (const [k, h] of snapshot.histograms) {
    entries.push(
      [`${k}.count`, num(h.count)],
      [`${k}.min`, num(h.min)],
      [`${k}.max`, num(h.max)],
      [`${k}.mean`, num(h.mean)],
      [`${k}.std-dev`, num(h.stddev)],
    );
    for (const [name, p] of PERCENTILES) entries.push([`${k}.${name}`, num(h.percentile(p))]);
  }
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return `{\n${entries.map(([k, v]) => `${JSON.stringify(k)}: ${v}`).join(',\n')}\n}\n`;
}
