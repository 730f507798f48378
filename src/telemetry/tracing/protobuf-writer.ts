/**
 * A protobuf writer over one growing Buffer, for the per-span hot path of tracing: no allocation per
 * field or per nested message, varints without BigInt, strings and hex ids written in place. Nested
 * messages reserve one length byte and are shifted only when they turn out longer than 127 bytes.
 */
import { performance } from 'node:perf_hooks';

const TWO32 = 4294967296;

/** Hex digit → nibble, for ids (they are validated or generated lowercase/uppercase hex). */
const NIBBLE = new Uint8Array(128);
for (let i = 0; i < 10; i++) NIBBLE[48 + i] = i;
for (let i = 0; i < 6; i++) {
  NIBBLE[97 + i] = 10 + i;
  NIBBLE[65 + i] = 10 + i;
}

export function varintLength(n: number): number {
  let len = 1;
  for (let v = n; v >= 0x80; v = Math.floor(v / 0x80)) len++;
  return len;
}

/** Epoch seconds × 1e9 as exact 32-bit halves (every partial product stays below 2^53). */
function secondsAsNanoHalves(s: number): [hi: number, lo: number] {
  const a = Math.floor(s / 65536) * 1e9;
  const b = (s % 65536) * 1e9;
  let lo = (a % 65536) * 65536 + (b % TWO32);
  const carry = Math.floor(lo / TWO32);
  lo %= TWO32;
  return [Math.floor(a / 65536) + Math.floor(b / TWO32) + carry, lo];
}

// Span times are monotonic performance.now() milliseconds; their wall-clock nanoseconds are the time
// origin (split once into exact halves) plus a small offset, so no per-timestamp wide arithmetic.
const ORIGIN_S = Math.floor(performance.timeOrigin / 1000);
const ORIGIN_REM_NS = Math.round((performance.timeOrigin - ORIGIN_S * 1000) * 1e6);
const [ORIGIN_HI, ORIGIN_LO] = secondsAsNanoHalves(ORIGIN_S);

export class ProtobufWriter {
  buf: Buffer;
  pos = 0;

  constructor(size = 1024) {
    this.buf = Buffer.allocUnsafe(size);
  }

  reset(): void {
    this.pos = 0;
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Unsigned varint of a safe integer (< 2^53). */
  varint(n: number): void {
    this.ensure(10);
    let v = n;
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  /** A signed int64 varint: negative values are ten bytes of two's complement (rare: BigInt is fine). */
  int64(n: number): void {
    if (n >= 0) {
      this.varint(n);
      return;
    }
    this.ensure(10);
    let v = BigInt.asUintN(64, BigInt(n));
    for (let i = 0; i < 9; i++) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  tag(field: number, wire: 0 | 1 | 2 | 5): void {
    this.varint(field * 8 + wire);
  }

  /** Starts a length-delimited field; returns the mark `close` needs. */
  open(field: number): number {
    this.tag(field, 2);
    this.ensure(1);
    this.pos++;
    return this.pos;
  }

  /**
   * Ends the field `open` started: writes its length, moving the content when it needs > 1 byte.
   * Returns by how many bytes the content moved.
   */
  close(mark: number): number {
    const len = this.pos - mark;
    if (len < 0x80) {
      this.buf[mark - 1] = len;
      return 0;
    }
    const extra = varintLength(len) - 1;
    this.ensure(extra);
    this.buf.copyWithin(mark + extra, mark, this.pos);
    const end = this.pos + extra;
    this.pos = mark - 1;
    this.varint(len);
    this.pos = end;
    return extra;
  }

  /** Epoch milliseconds as fixed64 nanoseconds, exactly (no BigInt). */
  fixed64Nanos(epochMs: number): void {
    const s = Math.floor(epochMs / 1000);
    const [hi, lo] = secondsAsNanoHalves(s);
    this.#fixed64Sum(hi, lo, Math.round((epochMs - s * 1000) * 1e6));
  }

  /** An OTel HrTime ([seconds, nanoseconds]) as fixed64 epoch nanoseconds. */
  fixed64Hr(seconds: number, nanos: number): void {
    const [hi, lo] = secondsAsNanoHalves(seconds);
    this.#fixed64Sum(hi, lo, nanos);
  }

  /** A non-negative safe integer (a count) as fixed64. */
  fixed64Int(n: number): void {
    this.#fixed64Sum(0, 0, n);
  }

  /** A monotonic performance.now() time as fixed64 epoch nanoseconds. */
  monotonicNanos(ms: number): void {
    this.#fixed64Sum(ORIGIN_HI, ORIGIN_LO, ORIGIN_REM_NS + Math.round(ms * 1e6));
  }

  /** hi·2^32 + lo + add, with 0 ≤ add < 2^53. */
  #fixed64Sum(hi: number, lo: number, add: number): void {
    this.ensure(8);
    let l = lo + (add % TWO32);
    let h = hi + Math.floor(add / TWO32);
    if (l >= TWO32) {
      l -= TWO32;
      h++;
    }
    this.buf.writeUInt32LE(l, this.pos);
    this.buf.writeUInt32LE(h >>> 0, this.pos + 4);
    this.pos += 8;
  }

  double(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  fixed32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }

  string(field: number, s: string): void {
    this.tag(field, 2);
    const n = s.length;
    // Short ASCII strings (hosts, paths, user agents) are copied by hand: Buffer#write costs more
    // than the copy for them. A non-ASCII character sends the whole string the general way.
    if (n < 0x80) {
      this.ensure(n + 1);
      const buf = this.buf;
      const start = this.pos;
      let p = start + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        buf[p++] = c;
      }
      if (i === n) {
        buf[start] = n;
        this.pos = p;
        return;
      }
    }
    const len = Buffer.byteLength(s);
    this.varint(len);
    this.ensure(len);
    this.pos += this.buf.write(s, this.pos, len, 'utf8');
  }

  /** A hex id (trace or span id) as its bytes. */
  hex(field: number, hex: string): void {
    const n = hex.length >> 1;
    this.tag(field, 2);
    this.ensure(n + 1);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = n;
    for (let i = 0; i < n; i++)
      buf[p++] =
        ((NIBBLE[hex.charCodeAt(2 * i) & 0x7f] as number) << 4) | (NIBBLE[hex.charCodeAt(2 * i + 1) & 0x7f] as number);
    this.pos = p;
  }

  /** A length-delimited field whose `n` (< 128) content bytes are already in this buffer at `from`. */
  copyField(field: number, from: number, n: number): void {
    this.tag(field, 2);
    this.ensure(n + 1);
    this.buf[this.pos++] = n;
    this.buf.copyWithin(this.pos, from, from + n);
    this.pos += n;
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Writes `field` as a length-delimited copy of `inner`'s content. */
  message(field: number, inner: ProtobufWriter): void {
    this.tag(field, 2);
    this.varint(inner.pos);
    this.ensure(inner.pos);
    inner.buf.copy(this.buf, this.pos, 0, inner.pos);
    this.pos += inner.pos;
  }

  /** A copy of what was written (from `from`). */
  take(from = 0): Buffer {
    return Buffer.from(this.buf.subarray(from, this.pos));
  }
}

/** A constant string field (tag, length, bytes), encoded once and copied in with `raw`. */
export function stringField(field: number, s: string): Buffer {
  const w = new ProtobufWriter(s.length * 3 + 8);
  w.string(field, s);
  return w.take();
}
