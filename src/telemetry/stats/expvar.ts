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

/**
 * A histogram statistic as expvar.Float writes it: strconv.FormatFloat(v, 'g', -1, 64), the shortest
 * digits that read back as v, in exponent form from 1e+06 up and below 1e-04 (go-metrics exp/exp.go:98
 * publishes min, max, mean, std-dev and the percentiles as expvar.Float). So a latency mean of
 * 1234567.5 ns reads `1.2345675e+06`, as in KrakenD's /__stats; JSON parsers read the same number.
 */
export function goFloat(v: number): string {
  if (!Number.isFinite(v)) return '0';
  if (v === 0) return '0';
  const [mantissa = '', exponent = '0'] = Math.abs(v).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exp = Number(exponent);
  const sign = v < 0 ? '-' : '';
  if (exp < -4 || exp >= 6) {
    const e = Math.abs(exp);
    return `${sign}${mantissa}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const whole = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = digits.slice(exp + 1);
  return `${sign}${whole}${frac === '' ? '' : `.${frac}`}`;
}

export function renderExpvar(snapshot: StatsSnapshot, extra: Readonly<Record<string, unknown>>): string {
  const entries: [string, string][] = Object.entries(extra).map(([k, v]) => [k, JSON.stringify(v)]);
  for (const [k, v] of snapshot.counters) entries.push([k, num(v)]);
  for (const [k, v] of snapshot.gauges) entries.push([k, num(v)]);
  for (const [k, h] of snapshot.histograms) {
    entries.push(
      [`${k}.count`, num(h.count)],
      [`${k}.min`, goFloat(h.min)],
      [`${k}.max`, goFloat(h.max)],
      [`${k}.mean`, goFloat(h.mean)],
      [`${k}.std-dev`, goFloat(h.stddev)],
    );
    for (const [name, p] of PERCENTILES) entries.push([`${k}.${name}`, goFloat(h.percentile(p))]);
  }
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return `{\n${entries.map(([k, v]) => `${JSON.stringify(k)}: ${v}`).join(',\n')}\n}\n`;
}
