/**
 * Prometheus text exposition format 0.0.4, a pure function of a snapshot. Counters carry their
 * `_total` suffix in the family name too, as client_golang writes them.
 */
import type { FamilySnapshot, Snapshot } from '../store/store.js';
import { escapeHelp } from '../store/labels.js';
import { LinePrefixes } from './line-prefixes.js';
import { formatValue, goFloat } from './numbers.js';
import { TextBuffer } from './text-buffer.js';

export const PROMETHEUS_TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function brace(labels: string): string {
  return labels === '' ? '' : `{${labels}}`;
}

function bucketLabels(labels: string, le: string): string {
  return labels === '' ? `{le="${le}"}` : `{${labels},le="${le}"}`;
}

const PREFIXES = new LinePrefixes();

/** The exposition's bytes, as served; `sizeHint` (the caller's previous size) spares regrowing the buffer. */
export function encodePrometheusText(snapshot: Snapshot, sizeHint = 0): Buffer {
  const out = new TextBuffer(sizeHint + (sizeHint >> 3));
  for (const f of snapshot.families) renderFamily(out, f);
  return out.finish();
}

export function renderPrometheusText(snapshot: Snapshot): string {
  return encodePrometheusText(snapshot).toString('utf8');
}

function renderFamily(out: TextBuffer, f: FamilySnapshot): void {
  const name = f.exposedName;
  out.utf8(`# HELP ${name} ${escapeHelp(f.help)}\n# TYPE ${name} ${f.type}\n`);
  if (f.type !== 'histogram') {
    for (const s of f.series) {
      if (!('value' in s)) continue;
      out.bytes(PREFIXES.get(name, s.attributes, () => [`${name}${brace(s.labels)} `])[0] as Buffer);
      out.ascii(`${formatValue(s.value)}\n`);
    }
    return;
  }
  const les = Array.from(f.bounds, goFloat);
  les.push('+Inf');
  for (const s of f.series) {
    if (!('counts' in s)) continue;
    // One prefix per bucket, then _sum and _count.
    const prefixes = PREFIXES.get(name, s.attributes, () => [...les.map((le) => `${name}_bucket${bucketLabels(s.labels, le)} `), `${name}_sum${brace(s.labels)} `, `${name}_count${brace(s.labels)} `]);
    let cumulative = 0;
    for (let i = 0; i < les.length; i++) {
      cumulative += s.counts[i] as number;
      out.bytes(prefixes[i] as Buffer);
      out.ascii(`${formatValue(cumulative)}\n`);
    }
    out.bytes(prefixes[les.length] as Buffer);
    out.ascii(`${formatValue(s.sum)}\n`);
    out.bytes(prefixes[les.length + 1] as Buffer);
    out.ascii(`${formatValue(s.count)}\n`);
  }
}
