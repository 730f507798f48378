/**
 * A protobuf writer over one growing Buffer, for the per-span hot path of tracing: no allocation per
 * field, varints without BigInt, strings written in place. Nested messages are written into a scratch
 * writer and copied in with their length (spans are small; batches are wrapped once).
 */
export class FastWriter {
  buf: Buffer;
  pos = 0;

  constructor(size = 1024) {
    this.buf = Buffer.allocUnsafe(size);
  }

  reset(): void {
    this.pos = 0;
  }

  #ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Unsigned varint of a safe integer (< 2^53). */
  varint(n: number): void {
    this.#ensure(10);
    let v = n;
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  tag(field: number, wire: 0 | 1 | 2 | 5): void {
    this.varint(field * 8 + wire);
  }

  /**
   * Epoch milliseconds as fixed64 nanoseconds, in exact double arithmetic (no BigInt): the seconds
   * are split so every partial product stays below 2^53.
   */
  fixed64Nanos(epochMs: number): void {
    this.#ensure(8);
    const s = Math.floor(epochMs / 1000);
    const r = Math.round((epochMs - s * 1000) * 1e6);
    const a = Math.floor(s / 65536) * 1e9;
    const b = (s % 65536) * 1e9 + r;
    const bHi = Math.floor(b / 4294967296);
    let lo = (a % 65536) * 65536 + (b % 4294967296);
    const carry = Math.floor(lo / 4294967296);
    lo %= 4294967296;
    const hi = Math.floor(a / 65536) + bHi + carry;
    this.buf.writeUInt32LE(lo, this.pos);
    this.buf.writeUInt32LE(hi >>> 0, this.pos + 4);
    this.pos += 8;
  }

  double(v: number): void {
    this.#ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  fixed32(v: number): void {
    this.#ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }

  string(field: number, s: string): void {
    this.tag(field, 2);
    // Short ASCII strings (attribute keys, routes, methods) are copied by hand: Buffer#write costs
    // more than the copy for them.
    if (s.length < 64) {
      let ascii = true;
      for (let i = 0; i < s.length; i++) {
        if (s.charCodeAt(i) > 0x7f) {
          ascii = false;
          break;
        }
      }
      if (ascii) {
        this.varint(s.length);
        this.#ensure(s.length);
        for (let i = 0; i < s.length; i++) this.buf[this.pos++] = s.charCodeAt(i);
        return;
      }
    }
    const len = Buffer.byteLength(s);
    this.varint(len);
    this.#ensure(len);
    this.pos += this.buf.write(s, this.pos, len, 'utf8');
  }

  hex(field: number, hex: string): void {
    const len = hex.length / 2;
    this.tag(field, 2);
    this.varint(len);
    this.#ensure(len);
    this.pos += this.buf.write(hex, this.pos, len, 'hex');
  }

  raw(bytes: Buffer | Uint8Array): void {
    this.#ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Writes `field` as a length-delimited copy of `inner`'s content. */
  message(field: number, inner: FastWriter): void {
    this.tag(field, 2);
    this.varint(inner.pos);
    this.#ensure(inner.pos);
    inner.buf.copy(this.buf, this.pos, 0, inner.pos);
    this.pos += inner.pos;
  }

  /** A copy of what was written. */
  take(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}
