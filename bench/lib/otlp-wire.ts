// Counts the spans in an OTLP ExportTraceServiceRequest (or the metrics in an
// ExportMetricsServiceRequest) without decoding it: the protobuf wire format
// is walked just far enough to find the leaf messages, every other field is
// skipped by its wire type. A sink that counts this way costs next to nothing
// per export, so it never slows the exporter it measures.
// Used by both sinks: lib/otlp-sink-child.ts (gRPC) and lib/otlp-http-sink-child.ts (HTTP).

/** Reads a base-128 varint at `pos`; returns [value, next position]. Values above 2^53 are not expected here. */
function varint(buf: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = pos; i < buf.length; i++) {
    const b = buf[i] as number;
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return [value, i + 1];
    scale *= 128;
    if (scale > 2 ** 56) break;
  }
  throw new Error('bad varint');
}

/** Calls `onField` for every length-delimited field number `field` of the message in buf[start, end). */
function eachLengthDelimited(
  buf: Uint8Array,
  start: number,
  end: number,
  field: number,
  onField: (from: number, to: number) => void,
): void {
  let pos = start;
  while (pos < end) {
    const [key, afterKey] = varint(buf, pos);
    const wireType = key % 8;
    pos = afterKey;
    if (wireType === 0) pos = varint(buf, pos)[1];
    else if (wireType === 1) pos += 8;
    else if (wireType === 5) pos += 4;
    else if (wireType === 2) {
      const [length, afterLength] = varint(buf, pos);
      const to = afterLength + length;
      if (to > end) throw new Error('truncated field');
      if (Math.floor(key / 8) === field) onField(afterLength, to);
      pos = to;
    } else throw new Error(`unsupported wire type ${wireType}`);
  }
  if (pos !== end) throw new Error('field overruns its message');
}

/**
 * Spans of an ExportTraceServiceRequest (resource_spans = 1 → scope_spans = 2 → spans = 2), or
 * metrics of an ExportMetricsServiceRequest (the same shape); throws on a malformed message.
 */
export function countOtlpLeaves(buf: Uint8Array): number {
  let n = 0;
  eachLengthDelimited(buf, 0, buf.length, 1, (rFrom, rTo) => {
    eachLengthDelimited(buf, rFrom, rTo, 2, (sFrom, sTo) => {
      eachLengthDelimited(buf, sFrom, sTo, 2, () => {
        n++;
      });
    });
  });
  return n;
}
