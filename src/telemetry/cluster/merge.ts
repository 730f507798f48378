/**
 * Snapshots of several processes (cluster workers) as one, and the counts of workers that are gone.
 * Counters and histogram buckets add up (but the namespace-wide network counters, which every worker
 * reads alike, take the largest); gauges follow their family's merge rule (GaugeMerge). A
 * series is identified by its family name and rendered labels, so the same route counted by two
 * workers is one series; a label only one worker has (Kong's per-`pid` memory) stays its own series.
 */
import type { Exemplar } from '../store/cells.js';
import { NAMESPACE_COUNTERS } from '../runtime/process-metrics.js';
import type { FamilySnapshot, SeriesSnapshot, Snapshot } from '../store/store.js';

type Series = SeriesSnapshot;
type HistogramSeries = Extract<Series, { counts: Float64Array }>;

function mergeHistogram(a: HistogramSeries, b: HistogramSeries): HistogramSeries {
  const counts = a.counts.slice();
  const n = Math.min(counts.length, b.counts.length);
  for (let i = 0; i < n; i++) counts[i] = (counts[i] as number) + (b.counts[i] as number);
  let exemplars: (Exemplar | undefined)[] | undefined;
  if (a.exemplars !== undefined || b.exemplars !== undefined) {
    exemplars = new Array<Exemplar | undefined>(counts.length);
    for (let i = 0; i < counts.length; i++) {
      const x = a.exemplars?.[i];
      const y = b.exemplars?.[i];
      // The newest exemplar of a bucket, whichever worker saw it.
      exemplars[i] = x === undefined ? y : y === undefined ? x : y.timestampMs > x.timestampMs ? y : x;
    }
  }
  return {
    labels: a.labels,
    attributes: a.attributes,
    counts,
    sum: a.sum + b.sum,
    count: a.count + b.count,
    exemplars,
  };
}

function mergeSeries(family: FamilySnapshot, a: Series, b: Series): Series {
  if ('counts' in a && 'counts' in b) return mergeHistogram(a, b);
  if ('counts' in a || 'counts' in b) return a;
  const x = a.value;
  const y = b.value;
  // A counter of the whole network namespace is the same count in every worker: summing would multiply it.
  const value = NAMESPACE_COUNTERS.has(family.name)
    ? Math.max(x, y)
    : family.type !== 'gauge' || family.merge === 'sum'
      ? x + y
      : family.merge === 'min'
        ? Math.min(x, y)
        : Math.max(x, y);
  return { labels: a.labels, attributes: a.attributes, value };
}

/** One snapshot of the sum of `parts`; families keep the order they first appear in. */
export function mergeSnapshots(parts: readonly Snapshot[], at: number): Snapshot {
  const families = new Map<string, { meta: FamilySnapshot; series: Map<string, Series> }>();
  for (const part of parts) {
    for (const f of part.families) {
      let entry = families.get(f.name);
      if (entry === undefined) {
        entry = { meta: f, series: new Map() };
        families.set(f.name, entry);
      }
      for (const s of f.series) {
        const prev = entry.series.get(s.labels);
        entry.series.set(s.labels, prev === undefined ? s : mergeSeries(entry.meta, prev, s));
      }
    }
  }
  return {
    at,
    families: [...families.values()].map(({ meta, series }) => ({ ...meta, series: [...series.values()] })),
  };
}

/** Only what keeps counting after a process is gone: counters and histograms (a dead worker has no gauges). */
export function cumulativeOnly(snapshot: Snapshot): Snapshot {
  return { at: snapshot.at, families: snapshot.families.filter((f) => f.type !== 'gauge') };
}
