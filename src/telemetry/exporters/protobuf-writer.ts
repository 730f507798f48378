/**
 * The handful of protobuf wire types an OTLP metrics request needs (varint, fixed64, double,
 * length-delimited), for the one message the official serializer cannot write: data points with
 * exemplars. Messages are built bottom-up (child bytes first), which is simple and fine for the
 * size of a metrics push.
 */
export class ProtoWriter {
  readonly #parts: Buffer[] = [];
  #length = 0;

  #push(b: Buffer): void {
    this.#parts.push(b);
    this.#length += b.length;
  }

  #varint(n: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(n));
    const bytes: number[] = [];
    while (v >= 0x80n) {
      bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    bytes.push(Number(v));
    this.#push(Buffer.from(bytes));
  }

  #tag(field: number, wire: 0 | 1 | 2): void {
    this.#varint((field << 3) | wire);
  }

  uint(field: number, n: number | bigint): this {
    this.#tag(field, 0);
    this.#varint(n);
    return this;
  }

  bool(field: number, b: boolean): this {
    return this.uint(field, b ? 1 : 0);
  }

  fixed64(field: number, n: bigint): this {
    this.#tag(field, 1);
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, n));
    this.#push(b);
    return this;
  }

  double(field: number, d: number): this {
    this.#tag(field, 1);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(d);
    this.#push(b);
    return this;
  }

  bytes(field: number, data: Buffer): this {
    this.#tag(field, 2);
    this.#varint(data.length);
    this.#push(data);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, Buffer.from(s, 'utf8'));
  }

  message(field: number, build: (w: ProtoWriter) => void): this {
    const child = new ProtoWriter();
    build(child);
    return this.bytes(field, child.finish());
  }

  packedFixed64(field: number, values: readonly number[]): this {
    const b = Buffer.alloc(values.length * 8);
    values.forEach((v, i) => b.writeBigUInt64LE(BigInt(Math.round(v)), i * 8));
    return this.bytes(field, b);
  }

  packedDouble(field: number, values: readonly number[]): this {
    const b = Buffer.alloc(values.length * 8);
    values.forEach((v, i) => b.writeDoubleLE(v, i * 8));
    return this.bytes(field, b);
  }

  finish(): Buffer {
    return Buffer.concat(this.#parts, this.#length);
  }
}
