/**
 * OTLP spans (opentelemetry/proto/trace/v1/trace.proto) written straight from a request record into
 * one buffer: attributes that never change for a route or backend are encoded once at start-up and
 * copied in as bytes, attribute keys and span names too; per span only ids, times and a few values
 * are written, with no object per attribute and no buffer per span. The bytes of a request's spans
 * are a run of `ScopeSpans.spans` fields (field 2), so a batch is their concatenation and an export
 * request wraps it once with the resource and scope.
 */
import type { AttributeValue } from '@opentelemetry/api';
import { ProtobufWriter, stringField, varintLength } from './protobuf-writer.js';
import { numberBody, writeAttribute } from './otlp-attributes.js';
import { writeSpanId } from './ids.js';

export { encodeAttributes, writeAttribute } from './otlp-attributes.js';

export const enum Kind {
  Internal = 1,
  Server = 2,
  Client = 3,
}

/** An attribute key, pre-encoded as the `key` field of a KeyValue. */
export type Key = Buffer;
export const key = (name: string): Key => stringField(1, name);
/** A span or event name, pre-encoded (Span field 5, Event field 2). */
export const spanName = (name: string): Buffer => stringField(5, name);
export const eventName = (name: string): Buffer => stringField(2, name);

/** Status.code (trace.proto): krakend-otel leaves stage spans unset, and sets OK or ERROR on the others. */
export const enum SpanStatus {
  Unset = 0,
  Ok = 1,
  Error = 2,
}

/**
 * Span ids `begin` takes besides a hex id: `NEW_SPAN_ID` writes a new random id (a span nothing
 * refers to by id but its children), `PREVIOUS_SPAN` as a parent is the span written just before.
 */
export const NEW_SPAN_ID = 'new';
export const PREVIOUS_SPAN = 'previous';

/** Span field 16: trace flags "sampled" plus the "has remote parent is known" bit (0x100), as the SDK sets. */
const FLAGS_LOCAL = 0x101;
const FLAGS_REMOTE_PARENT = 0x301;

/**
 * Writes the spans of one request into a reusable buffer. Usage per span: `begin`, attributes
 * (`fixed` bytes and `str`/`int`/`num`/`bool`/`strings`), optional events, `end`.
 */
export class SpanWriter {
  readonly w = new ProtobufWriter(4096);
  count = 0;
  #span = 0;
  #attrs = 9;
  #event = 0;
  #remoteParent = false;
  /**
   * The trace id and the last span id written for this request, and where their bytes are: every
   * span repeats the trace id, and a span's parent is most often the span written just before it, so
   * those are copied instead of parsed from hex again.
   */
  #traceId = '';
  #traceAt = 0;
  #lastId = '';
  #lastAt = 0;

  reset(): void {
    this.w.reset();
    this.count = 0;
    this.#traceId = '';
    this.#lastId = '';
  }

  /**
   * `spanId`: hex or `NEW_SPAN_ID`; `parentSpanId`: hex, `PREVIOUS_SPAN` or none. Times are monotonic
   * performance.now() milliseconds.
   */
  begin(
    name: Buffer,
    kind: Kind,
    traceId: string,
    spanId: string,
    parentSpanId: string | undefined,
    startMs: number,
    endMs: number,
    traceState?: string,
    remoteParent = false,
  ): void {
    const w = this.w;
    this.#span = w.open(2);
    this.#attrs = 9;
    this.#remoteParent = remoteParent;
    if (traceId === this.#traceId) w.copyField(1, this.#traceAt, traceId.length >> 1);
    else {
      w.hex(1, traceId);
      this.#traceId = traceId;
      this.#traceAt = w.pos - (traceId.length >> 1);
    }
    const previous = this.#lastId;
    const previousAt = this.#lastAt;
    if (spanId === NEW_SPAN_ID) {
      w.tag(2, 2);
      w.ensure(9);
      w.buf[w.pos++] = 8;
      writeSpanId(w.buf, w.pos);
      w.pos += 8;
    } else w.hex(2, spanId);
    this.#lastId = spanId;
    this.#lastAt = w.pos - 8;
    if (traceState !== undefined && traceState !== '') w.string(3, traceState);
    if (parentSpanId !== undefined) {
      if (parentSpanId === previous || parentSpanId === PREVIOUS_SPAN) w.copyField(4, previousAt, 8);
      else w.hex(4, parentSpanId);
    }
    w.raw(name);
    w.tag(6, 0);
    w.varint(kind);
    w.tag(7, 1);
    w.monotonicNanos(startMs);
    w.tag(8, 1);
    w.monotonicNanos(Math.max(startMs, endMs));
  }

  /** Pre-encoded span attributes (field 9 KeyValues). */
  fixed(bytes: Buffer): void {
    this.w.raw(bytes);
  }

  str(k: Key, v: string): void {
    const w = this.w;
    const kv = w.open(this.#attrs);
    w.raw(k);
    const av = w.open(2);
    w.string(1, v);
    w.close(av);
    w.close(kv);
  }

  /** An integer attribute (Go's attribute.Int / Int64): int_value. */
  int(k: Key, v: number): void {
    const w = this.w;
    const kv = w.open(this.#attrs);
    w.raw(k);
    const av = w.open(2);
    w.tag(3, 0);
    w.int64(Math.trunc(v));
    w.close(av);
    w.close(kv);
  }

  /** A floating-point attribute (Go's attribute.Float64): double_value, even for a whole number. */
  double(k: Key, v: number): void {
    const w = this.w;
    const kv = w.open(this.#attrs);
    w.raw(k);
    const av = w.open(2);
    w.tag(4, 1);
    w.double(v);
    w.close(av);
    w.close(kv);
  }

  /** A number attribute (see numberBody). */
  num(k: Key, v: number): void {
    const w = this.w;
    const kv = w.open(this.#attrs);
    w.raw(k);
    const av = w.open(2);
    numberBody(w, v);
    w.close(av);
    w.close(kv);
  }

  bool(k: Key, v: boolean): void {
    const w = this.w;
    const kv = w.open(this.#attrs);
    w.raw(k);
    w.tag(2, 2);
    w.varint(2);
    w.tag(2, 0);
    w.varint(v ? 1 : 0);
    w.close(kv);
  }

  /**
   * A string-array attribute (Go's attribute.StringSlice): a header's values, each as a string, or
   * each replaced by `replacement` (a credential's REDACTED).
   */
  strings(k: Key, value: string | number | readonly string[], replacement: string | undefined): void {
    const w = this.w;
    const kv = w.open(this.#attrs);
    w.raw(k);
    const av = w.open(2);
    const arr = w.open(5);
    if (typeof value === 'object') for (const v of value) this.#arrayString(replacement ?? String(v));
    else this.#arrayString(replacement ?? String(value));
    w.close(arr);
    w.close(av);
    w.close(kv);
  }

  #arrayString(v: string): void {
    const w = this.w;
    const one = w.open(1);
    w.string(1, v);
    w.close(one);
  }

  /** Any attribute value, the general way (exception details). */
  any(name: string, v: AttributeValue): void {
    writeAttribute(this.w, this.#attrs, name, v);
  }

  /** An event (Span field 11); its attributes follow until `endEvent`. */
  event(name: Buffer, timeMs: number): void {
    const w = this.w;
    this.#event = w.open(11);
    w.tag(1, 1);
    w.monotonicNanos(timeMs);
    w.raw(name);
    this.#attrs = 3;
  }

  endEvent(): void {
    this.w.close(this.#event);
    this.#attrs = 9;
  }

  /** Status (with its message when failed; an empty Status when unset, as OTel Go writes it), flags, and the span's length. */
  end(status: SpanStatus, message?: string): void {
    const w = this.w;
    const st = w.open(15);
    if (message !== undefined && message !== '') w.string(2, message);
    if (status !== SpanStatus.Unset) {
      w.tag(3, 0);
      w.varint(status);
    }
    w.close(st);
    w.tag(16, 5);
    w.fixed32(this.#remoteParent ? FLAGS_REMOTE_PARENT : FLAGS_LOCAL);
    const moved = w.close(this.#span);
    // The span's content moved to make room for its length: so did the ids in it.
    if (moved !== 0) {
      if (this.#traceAt >= this.#span) this.#traceAt += moved;
      if (this.#lastAt >= this.#span) this.#lastAt += moved;
    }
    this.count++;
  }

  /** The spans written since `reset` (a view into the writer's buffer: copy it before the next request). */
  bytes(): Buffer {
    return this.w.buf.subarray(0, this.w.pos);
  }
}

/**
 * ExportTraceServiceRequest around a run of encoded `ScopeSpans.spans` fields (`buf[start, end)`):
 * one resource, one scope, after `prefix` bytes left free for the transport (gRPC's 5-byte message
 * prefix). The header goes in the free bytes before `start` when they suffice, so the (large) span
 * run is neither copied nor shifted.
 */
export function encodeTraceRequest(
  resourceAttrs: Buffer,
  scopeName: string,
  spans: { readonly buf: Buffer; readonly start: number; readonly end: number },
  prefix = 0,
): Buffer {
  const spanBytes = spans.end - spans.start;
  const scope = stringField(1, scopeName);
  const scopeField = 1 + varintLength(scope.length) + scope.length;
  const scopeSpans = scopeField + spanBytes;
  const resourceField = 1 + varintLength(resourceAttrs.length) + resourceAttrs.length;
  const resourceSpans = resourceField + 1 + varintLength(scopeSpans) + scopeSpans;
  const head = new ProtobufWriter(resourceAttrs.length + scope.length + 32);
  head.tag(1, 2);
  head.varint(resourceSpans);
  head.tag(1, 2);
  head.varint(resourceAttrs.length);
  head.raw(resourceAttrs);
  head.tag(2, 2);
  head.varint(scopeSpans);
  head.tag(1, 2);
  head.varint(scope.length);
  head.raw(scope);
  if (head.pos + prefix <= spans.start) {
    const from = spans.start - head.pos;
    head.buf.copy(spans.buf, from, 0, head.pos);
    return spans.buf.subarray(from - prefix, spans.end);
  }
  const req = Buffer.allocUnsafeSlow(prefix + head.pos + spanBytes);
  head.buf.copy(req, prefix, 0, head.pos);
  spans.buf.copy(req, prefix + head.pos, spans.start, spans.end);
  return req;
}
