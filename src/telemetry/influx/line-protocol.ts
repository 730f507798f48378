/**
 * InfluxDB line protocol (https://docs.influxdata.com/influxdb/v1/write_protocols/line_protocol_reference/):
 * `measurement,tag=v field=1i,other=2.5 <seconds>`, with the escaping rules of each element.
 */
export type FieldValue = { readonly int: number } | number | string | boolean;

function escapeMeasurement(s: string): string {
  return s.replace(/[, \\]/g, (c) => `\\${c}`);
}

function escapeKey(s: string): string {
  return s.replace(/[,= \\]/g, (c) => `\\${c}`);
}

function field(v: FieldValue): string {
  if (typeof v === 'object') return `${Math.trunc(v.int)}i`;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '0';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

export interface Point {
  readonly measurement: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly fields: Readonly<Record<string, FieldValue>>;
  /** Unix seconds (the writes use precision=s, as KrakenD's). */
  readonly time: number;
}

export function toLine(p: Point): string {
  const tags = Object.keys(p.tags)
    .sort()
    .filter((k) => p.tags[k] !== '')
    .map((k) => `,${escapeKey(k)}=${escapeKey(p.tags[k] as string)}`)
    .join('');
  const fields = Object.entries(p.fields)
    .map(([k, v]) => `${escapeKey(k)}=${field(v)}`)
    .join(',');
  return `${escapeMeasurement(p.measurement)}${tags} ${fields} ${p.time}`;
}
