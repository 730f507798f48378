/**
 * OpenMetrics 1.0 text, served when the scraper asks for it: counters named without `_total` in
 * their TYPE line, `# UNIT` where the name ends with the unit, exemplars on
 * histogram buckets, and the mandatory `# EOF`.
 */
import type { Exemplar } from '../store/cells.js';
import type { FamilySnapshot, Snapshot } from '../store/store.js';
import { escapeHelp } from '../store/labels.js';
import { LinePrefixes } from './line-prefixes.js';
import { formatValue, goFloat } from './numbers.js';
import { TextBuffer } from './text-buffer.js';

export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

function brace(labels: string): string {
  return labels === '' ? '' : `{${labels}}`;
}

const PREFIXES = new LinePrefixes();

/** The exposition's bytes, as served; `sizeHint` (the caller's previous size) spares regrowing the buffer. */
export function encodeOpenMetrics(snapshot: Snapshot, sizeHint = 0): Buffer {
  const out = new TextBuffer(sizeHint + (sizeHint >> 3));
  for (const f of snapshot.families) renderFamily(out, f);
  out.ascii('# EOF\n');
  return out.finish();
}

export function renderOpenMetrics(snapshot: Snapshot): string {
  return encodeOpenMetrics(snapshot).toString('utf8');
}

function exemplar(e: Exemplar): string {
  return ` # {trace_id="${e.traceId}",span_id="${e.spanId}"} ${formatValue(e.value)} ${(e.timestampMs / 1000).toFixed(3)}`;
}

function renderFamily(out: TextBuffer, f: FamilySnapshot): void {
  let head = `# TYPE ${f.name} ${f.type}\n`;
  if (f.unit !== undefined && f.name.endsWith(`_${f.unit}`)) head += `# UNIT ${f.name} ${f.unit}\n`;
  out.utf8(`${head}# HELP ${f.name} ${escapeHelp(f.help)}\n`);
  if (f.type !== 'histogram') {
    const sample = f.type === 'counter' ? `${f.name}_total` : f.name;
    for (const s of f.series) {
      if (!('value' in s)) continue;
      out.bytes(PREFIXES.get(f.name, s.attributes, () => [`${sample}${brace(s.labels)} `])[0] as Buffer);
      out.ascii(`${formatValue(s.value)}\n`);
    }
    return;
  }
  // Same `le` spelling as the text format: Prometheus 2.x stores it as exposed, so a scraper that
  // switches format must not see new series (the OM parser accepts non-canonical floats).
  const les = Array.from(f.bounds, goFloat);
  les.push('+Inf');
  for (const s of f.series) {
    if (!('counts' in s)) continue;
    // One prefix per bucket, then _sum and _count.
    const prefixes = PREFIXES.get(f.name, s.attributes, () => {
      const bucket = s.labels === '' ? `${f.name}_bucket{le="` : `${f.name}_bucket{${s.labels},le="`;
      return [...les.map((le) => `${bucket}${le}"} `), `${f.name}_sum${brace(s.labels)} `, `${f.name}_count${brace(s.labels)} `];
    });
    let cumulative = 0;
    for (let i = 0; i < les.length; i++) {
      cumulative += s.counts[i] as number;
      out.bytes(prefixes[i] as Buffer);
      const e = s.exemplars?.[i];
      if (e === undefined) out.ascii(`${formatValue(cumulative)}\n`);
      else {
        out.ascii(formatValue(cumulative));
        // Trace ids are hex, but an exemplar's text is not ours to assume ASCII.
        out.utf8(`${exemplar(e)}\n`);
      }
    }
    out.bytes(prefixes[les.length] as Buffer);
    out.ascii(`${formatValue(s.sum)}\n`);
    out.bytes(prefixes[les.length + 1] as Buffer);
    out.ascii(`${formatValue(s.count)}\n`);
  }
}
