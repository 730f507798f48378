/**
 * Prometheus text exposition format 0.0.4, a pure function of a snapshot. Counters carry their
 * `_total` suffix in the family name too, as client_golang writes them.
 */
import type { FamilySnapshot, Snapshot } from '../store/store.js';
import { escapeHelp } from '../store/labels.js';
import { formatValue, goFloat } from './numbers.js';

export const PROMETHEUS_TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function brace(labels: string): string {
  return labels === '' ? '' : `{${labels}}`;
}

function bucketLabels(labels: string, le: string): string {
  return labels === '' ? `{le="${le}"}` : `{${labels},le="${le}"}`;
}

export function renderPrometheusText(snapshot: Snapshot): string {
  const parts: string[] = [];
  for (const f of snapshot.families) parts.push(renderFamily(f));
  return parts.join('');
}

function renderFamily(f: FamilySnapshot): string {
  const name = f.exposedName;
  let out = `# HELP ${name} ${escapeHelp(f.help)}\n# TYPE ${name} ${f.type}\n`;
  if (f.type !== 'histogram') {
    for (const s of f.series) if ('value' in s) out += `${name}${brace(s.labels)} ${formatValue(s.value)}\n`;
    return out;
  }
  const les = Array.from(f.bounds, goFloat);
  les.push('+Inf');
  for (const s of f.series) {
    if (!('counts' in s)) continue;
    let cumulative = 0;
    for (let i = 0; i < les.length; i++) {
      cumulative += s.counts[i] as number;
      out += `${name}_bucket${bucketLabels(s.labels, les[i] as string)} ${formatValue(cumulative)}\n`;
    }
    out += `${name}_sum${brace(s.labels)} ${formatValue(s.sum)}\n${name}_count${brace(s.labels)} ${formatValue(s.count)}\n`;
  }
  return out;
}
