/**
 * OTLP spans (opentelemetry/proto/trace/v1/trace.proto) encoded straight from a request record:
 * attributes that never change for a route or backend are encoded once at start-up and copied in as
 * bytes; per span only ids, times and a few values are written. A finished span is a small Buffer;
 * an export request wraps a batch of them with the resource and scope (field numbers of the .proto).
 */
import type { Attributes, AttributeValue } from '@opentelemetry/api';
import { FastWriter } from './fast-writer.js';

export const enum Kind {
  Internal = 1,
  Server = 2,
  Client = 3,
}

/** The fields of an AnyValue message (string 1, bool 2, int 3, double 4, array 5). */
function anyValueBody(w: FastWriter, v: AttributeValue): void {
  if (typeof v === 'string') w.string(1, v);
  else if (typeof v === 'boolean') {
    w.tag(2, 0);
    w.varint(v ? 1 : 0);
  } else if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= 0) {
      w.tag(3, 0);
      w.varint(v);
    } else {
      w.tag(4, 1);
      w.double(v);
    }
  } else if (Array.isArray(v)) {
    const arr = new FastWriter(64);
    for (const item of v) {
      if (item === null || item === undefined) continue;
      const one = new FastWriter(32);
      anyValueBody(one, item);
      arr.message(1, one);
    }
    w.message(5, arr);
  }
}

function varintLen(n: number): number {
  let len = 1;
  for (let v = n; v >= 0x80; v = Math.floor(v / 0x80)) len++;
  return len;
}

/** One KeyValue as field `field` of the enclosing message. Scalars are written in place (lengths computed). */
export function writeAttribute(w: FastWriter, field: number, key: string, value: AttributeValue): void {
  const keyLen = Buffer.byteLength(key);
  let avLen = -1;
  if (typeof value === 'string') {
    const strLen = Buffer.byteLength(value);
    avLen = 1 + varintLen(strLen) + strLen;
  } else if (typeof value === 'boolean') avLen = 2;
  else if (typeof value === 'number') avLen = Number.isInteger(value) && value >= 0 ? 1 + varintLen(value) : 9;
  if (avLen >= 0) {
    const kvLen = 1 + varintLen(keyLen) + keyLen + 1 + varintLen(avLen) + avLen;
    w.tag(field, 2);
    w.varint(kvLen);
    w.string(1, key);
    w.tag(2, 2);
    w.varint(avLen);
    anyValueBody(w, value);
    return;
  }
  const kv = new FastWriter(64);
  kv.string(1, key);
  const av = new FastWriter(32);
  anyValueBody(av, value);
  kv.message(2, av);
  w.message(field, kv);
}

/** Attributes pre-encoded as repeated KeyValue of `field`: copy the bytes into a span. */
export function encodeAttributes(field: number, attrs: Attributes): Buffer {
  const w = new FastWriter(256);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) writeAttribute(w, field, k, v);
  return w.take();
}

export interface SpanHead {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly traceState?: string | undefined;
  readonly name: string;
  readonly kind: Kind;
  readonly startMs: number;
  readonly endMs: number;
}

export interface SpanEvent {
  readonly name: string;
  readonly timeMs: number;
  readonly attributes?: Attributes;
}

/**
 * Encodes one span. `fixed` are pre-encoded attribute bytes (field 9); `dynamic` are written now.
 * Timestamps are epoch milliseconds.
 */
export class SpanEncoder {
  readonly #w = new FastWriter(2048);

  encode(head: SpanHead, fixed: readonly Buffer[], dynamic: Attributes, events: readonly SpanEvent[], error: string | undefined): Buffer {
    const w = this.#w;
    w.reset();
    w.hex(1, head.traceId);
    w.hex(2, head.spanId);
    if (head.traceState !== undefined && head.traceState !== '') w.string(3, head.traceState);
    if (head.parentSpanId !== undefined) w.hex(4, head.parentSpanId);
    w.string(5, head.name);
    w.tag(6, 0);
    w.varint(head.kind);
    w.tag(7, 1);
    w.fixed64Nanos(head.startMs);
    w.tag(8, 1);
    w.fixed64Nanos(Math.max(head.startMs, head.endMs));
    for (const b of fixed) w.raw(b);
    for (const k in dynamic) {
      const v = dynamic[k];
      if (v !== undefined && v !== null) writeAttribute(w, 9, k, v);
    }
    for (const e of events) {
      const ev = new FastWriter(128);
      ev.tag(1, 1);
      ev.fixed64Nanos(e.timeMs);
      ev.string(2, e.name);
      if (e.attributes !== undefined) for (const [k, v] of Object.entries(e.attributes)) if (v !== undefined) writeAttribute(ev, 3, k, v);
      w.message(11, ev);
    }
    const st = new FastWriter(64);
    if (error !== undefined) st.string(2, error);
    st.tag(3, 0);
    st.varint(error === undefined ? 1 : 2);
    w.message(15, st);
    // flags (fixed32): trace flags = sampled, and "has remote parent" bits known (0x100) as the SDK sets.
    w.tag(16, 5);
    w.fixed32(0x101 | (head.parentSpanId !== undefined && head.kind === Kind.Server ? 0x200 : 0));
    return w.take();
  }
}

/** ExportTraceServiceRequest around encoded spans: one resource, one scope. */
export function encodeTraceRequest(resourceAttrs: Buffer, scopeName: string, spans: readonly Buffer[]): Uint8Array {
  const scope = new FastWriter(64);
  scope.string(1, scopeName);
  const scopeSpans = new FastWriter(spans.reduce((n, s) => n + s.length + 6, 64));
  scopeSpans.message(1, scope);
  for (const s of spans) {
    scopeSpans.tag(2, 2);
    scopeSpans.varint(s.length);
    scopeSpans.raw(s);
  }
  const resource = new FastWriter(resourceAttrs.length + 8);
  resource.raw(resourceAttrs);
  const rs = new FastWriter(scopeSpans.pos + resource.pos + 16);
  rs.message(1, resource);
  rs.message(2, scopeSpans);
  const req = new FastWriter(rs.pos + 8);
  req.message(1, rs);
  return req.buf.subarray(0, req.pos);
}
