/**
 * Prometheus text exposition format 0.0.4, a pure function of a snapshot. Counters carry their
 * `_total` suffix in the family name too, as client_golang writes them.
 */
import type { FamilySnapshot, Snapshot } from '../store/store.js';
import { escapeHelp } from '../store/labels.js';
import { LinePrefixes } from './line-prefixes.js';
import { formatValue } from './numbers.js';
import { brace, histogramPrefixes, writeHistogram } from './sample-lines.js';
import { TextBuffer } from './text-buffer.js';

export const PROMETHEUS_TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

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
  for (const s of f.series) {
    if (!('counts' in s)) continue;
    writeHistogram(
      out,
      PREFIXES.get(name, s.attributes, () => histogramPrefixes(name, s.labels, f.bounds)),
      s,
    );
  }
}
