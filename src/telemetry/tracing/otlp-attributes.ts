/**
 * OTLP attributes (opentelemetry/proto/common/v1/common.proto: KeyValue, AnyValue) written with the
 * ProtobufWriter, shared by the span encoder and the metrics serializer.
 */
import type { Attributes, AttributeValue } from '@opentelemetry/api';
import { ProtobufWriter } from './protobuf-writer.js';

/** The fields of an AnyValue message (string 1, bool 2, int 3, double 4, array 5). */
function anyValueBody(w: ProtobufWriter, v: AttributeValue): void {
  if (typeof v === 'string') w.string(1, v);
  else if (typeof v === 'boolean') {
    w.tag(2, 0);
    w.varint(v ? 1 : 0);
  } else if (typeof v === 'number') numberBody(w, v);
  else if (Array.isArray(v)) {
    const arr = w.open(5);
    for (const item of v) {
      if (item === null || item === undefined) continue;
      const one = w.open(1);
      anyValueBody(w, item);
      w.close(one);
    }
    w.close(arr);
  }
}

/** A number's AnyValue fields: int_value when an integer, double_value otherwise (as OTel JS does). */
export function numberBody(w: ProtobufWriter, v: number): void {
  if (Number.isSafeInteger(v)) {
    w.tag(3, 0);
    w.int64(v);
  } else {
    w.tag(4, 1);
    w.double(v);
  }
}

/** One KeyValue as field `field` of the enclosing message. */
export function writeAttribute(w: ProtobufWriter, field: number, key: string, value: AttributeValue): void {
  const kv = w.open(field);
  w.string(1, key);
  const av = w.open(2);
  anyValueBody(w, value);
  w.close(av);
  w.close(kv);
}

/** Attributes pre-encoded as repeated KeyValue of `field`: copy the bytes into a span. */
export function encodeAttributes(field: number, attrs: Attributes): Buffer {
  const w = new ProtobufWriter(256);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) writeAttribute(w, field, k, v);
  return w.take();
}
