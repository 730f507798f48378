/**
 * OpenMetrics 1.0 text, served when the scraper asks for it: counters named without `_total` in
 * their TYPE line, `# UNIT` where the name ends with the unit, exemplars on
 * histogram buckets, and the mandatory `# EOF`.
 */
import type { Exemplar } from '../store/cells.js';
import type { FamilySnapshot, Snapshot } from '../store/store.js';
import { escapeHelp } from '../store/labels.js';
import { formatValue, goFloat } from './numbers.js';

export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

function brace(labels: string): string {
  return labels === '' ? '' : `{${labels}}`;
}

export function renderOpenMetrics(snapshot: Snapshot): string {
  const parts: string[] = [];
  for (const f of snapshot.families) parts.push(renderFamily(f));
  parts.push('# EOF\n');
  return parts.join('');
}

function exemplar(e: Exemplar | undefined): string {
  if (e === undefined) return '';
  return ` # {trace_id="${e.traceId}",span_id="${e.spanId}"} ${formatValue(e.value)} ${(e.timestampMs / 1000).toFixed(3)}`;
}

function renderFamily(f: FamilySnapshot): string {
  let out = `# TYPE ${f.name} ${f.type}\n`;
  if (f.unit !== undefined && f.name.endsWith(`_${f.unit}`)) out += `# UNIT ${f.name} ${f.unit}\n`;
  out += `# HELP ${f.name} ${escapeHelp(f.help)}\n`;
  if (f.type !== 'histogram') {
    const sample = f.type === 'counter' ? `${f.name}_total` : f.name;
    for (const s of f.series) if ('value' in s) out += `${sample}${brace(s.labels)} ${formatValue(s.value)}\n`;
    return out;
  }
  // Same `le` spelling as the text format: Prometheus 2.x stores it as exposed, so a scraper that
  // switches format must not see new series (the OM parser accepts non-canonical floats).
  const les = Array.from(f.bounds, goFloat);
  les.push('+Inf');
  for (const s of f.series) {
    if (!('counts' in s)) continue;
    const prefix = s.labels === '' ? '{le="' : `{${s.labels},le="`;
    let cumulative = 0;
    for (let i = 0; i < les.length; i++) {
      cumulative += s.counts[i] as number;
      out += `${f.name}_bucket${prefix}${les[i] as string}"} ${formatValue(cumulative)}${exemplar(s.exemplars?.[i])}\n`;
    }
    out += `${f.name}_sum${brace(s.labels)} ${formatValue(s.sum)}\n${f.name}_count${brace(s.labels)} ${formatValue(s.count)}\n`;
  }
  return out;
}
