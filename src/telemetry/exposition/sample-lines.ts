/**
 * Sample lines both text formats spell alike: `{labels}`, and a histogram series as its cumulative
 * buckets (`_bucket{…,le="…"}`), `_sum` and `_count`, written from the series' cached line prefixes.
 * OpenMetrics only adds exemplars after a bucket's value.
 */
import type { Exemplar } from '../store/cells.js';
import type { SeriesSnapshot } from '../store/store.js';
import { formatValue, goFloat } from './numbers.js';
import type { TextBuffer } from './text-buffer.js';

type HistogramSeries = Extract<SeriesSnapshot, { counts: Float64Array }>;

export function brace(labels: string): string {
  return labels === '' ? '' : `{${labels}}`;
}

/**
 * The prefixes of a histogram series' lines: one per bucket (its bound, then `+Inf`), then `_sum` and
 * `_count`. Both formats spell `le` as Go does: Prometheus 2.x stores it as exposed, so a scraper that
 * switches format must not see new series (the OpenMetrics parser accepts non-canonical floats).
 */
export function histogramPrefixes(name: string, labels: string, bounds: ArrayLike<number>): string[] {
  const bucket = labels === '' ? `${name}_bucket{le="` : `${name}_bucket{${labels},le="`;
  const les = Array.from(bounds, goFloat);
  les.push('+Inf');
  return [...les.map((le) => `${bucket}${le}"} `), `${name}_sum${brace(labels)} `, `${name}_count${brace(labels)} `];
}

/** Writes a histogram series' lines; `exemplar` renders what follows a bucket's value when it has one. */
export function writeHistogram(
  out: TextBuffer,
  prefixes: readonly Buffer[],
  s: HistogramSeries,
  exemplar?: (e: Exemplar) => string,
): void {
  const buckets = s.counts.length;
  let cumulative = 0;
  for (let i = 0; i < buckets; i++) {
    cumulative += s.counts[i] as number;
    out.bytes(prefixes[i] as Buffer);
    const e = s.exemplars?.[i];
    if (exemplar === undefined || e === undefined) out.ascii(`${formatValue(cumulative)}\n`);
    else {
      out.ascii(formatValue(cumulative));
      // Trace ids are hex, but an exemplar's text is not ours to assume ASCII.
      out.utf8(`${exemplar(e)}\n`);
    }
  }
  out.bytes(prefixes[buckets] as Buffer);
  out.ascii(`${formatValue(s.sum)}\n`);
  out.bytes(prefixes[buckets + 1] as Buffer);
  out.ascii(`${formatValue(s.count)}\n`);
}
