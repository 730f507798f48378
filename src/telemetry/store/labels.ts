/**
 * Label rendering, done once when a series is bound (never per request): names sanitised as the OTel
 * Prometheus exporter does, values escaped per the exposition formats (`\\`, `"`, newline).
 */
import { sanitizeName } from '../../config/label-name.js';

/**
 * Escapes a label value for both the 0.0.4 text format and OpenMetrics. Invalid UTF-16 (lone
 * surrogates) is replaced so the output is always valid UTF-8.
 */
export function escapeLabelValue(value: string): string {
  const v = value.isWellFormed() ? value : value.toWellFormed();
  return v.replace(/[\\"\n]/g, (c) => (c === '\\' ? '\\\\' : c === '"' ? '\\"' : '\\n'));
}

export function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === '\\' ? '\\\\' : '\\n'));
}

/** An OTel attribute value: OTLP keeps the type, Prometheus renders it as a string. */
export type AttributeValue = string | number | boolean;

/** Attribute pairs with their OTel keys (`http.route`); label names are derived from them. */
export type LabelPairs = readonly (readonly [string, AttributeValue])[];

/** `a="1",b="2"` in the given order (callers sort once at bind time); '' when there are none. */
export function renderLabels(pairs: LabelPairs): string {
  let out = '';
  for (const [name, value] of pairs)
    out += `${out === '' ? '' : ','}${sanitizeName(name)}="${escapeLabelValue(String(value))}"`;
  return out;
}

/** Last value wins for a key given twice (OTel attribute-set semantics). */
export function dedupePairs(pairs: LabelPairs): Map<string, AttributeValue> {
  const byName = new Map<string, AttributeValue>();
  for (const [k, v] of pairs) byName.set(k, v);
  return byName;
}

/**
 * Sorted by Prometheus label name, as client_golang orders const-metric labels (the layout
 * dashboards were built on); a name given twice keeps its last value.
 */
export function sortPairs(pairs: LabelPairs): LabelPairs {
  const byName = new Map<string, readonly [string, AttributeValue]>();
  for (const [k, v] of pairs) byName.set(sanitizeName(k), [k, v]);
  return [...byName.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((e) => e[1]);
}
