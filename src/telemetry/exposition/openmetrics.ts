/**
 * OpenMetrics 1.0 text, served when the scraper asks for it: counters named without `_total` in
 * their TYPE line, `# UNIT` where the name ends with the unit, exemplars on
 * histogram buckets, and the mandatory `# EOF`.
 */
import type { Exemplar } from '../store/cells.js';
import type { FamilySnapshot, Snapshot } from '../store/store.js';
import { escapeHelp } from '../store/labels.js';
import { LinePrefixes } from './line-prefixes.js';
import { formatValue } from './numbers.js';
import { brace, histogramPrefixes, writeHistogram } from './sample-lines.js';
import { TextBuffer } from './text-buffer.js';

export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

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
  for (const s of f.series) {
    if (!('counts' in s)) continue;
    writeHistogram(
      out,
      PREFIXES.get(f.name, s.attributes, () => histogramPrefixes(f.name, s.labels, f.bounds)),
      s,
      exemplar,
    );
  }
}
