/**
 * The bytes of an exposition, written straight into one Buffer: cached line prefixes are copied as
 * bytes and numbers written as Latin-1, so a multi-megabyte /metrics makes no intermediate strings
 * (nor the garbage of them) and is not encoded a second time on its way to the socket.
 */
export class TextBuffer {
  #buf: Buffer;
  #length = 0;

  constructor(sizeHint: number) {
    this.#buf = Buffer.allocUnsafe(Math.max(4096, sizeHint));
  }

  #room(bytes: number): void {
    if (this.#length + bytes <= this.#buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.#length + bytes, this.#buf.length * 2));
    this.#buf.copy(grown, 0, 0, this.#length);
    this.#buf = grown;
  }

  bytes(b: Buffer): void {
    this.#room(b.length);
    this.#buf.set(b, this.#length);
    this.#length += b.length;
  }

  /** ASCII only: numbers and fixed syntax. Short ones byte by byte: cheaper than a call into the encoder. */
  ascii(s: string): void {
    const len = s.length;
    this.#room(len);
    if (len > 32) {
      this.#length += this.#buf.write(s, this.#length, 'latin1');
      return;
    }
    const buf = this.#buf;
    let n = this.#length;
    for (let i = 0; i < len; i++) buf[n++] = s.charCodeAt(i);
    this.#length = n;
  }

  utf8(s: string): void {
    // Room for the worst case (3 bytes per UTF-16 unit) rather than a pass to count the bytes.
    this.#room(s.length * 3);
    this.#length += this.#buf.write(s, this.#length, 'utf8');
  }

  get length(): number {
    return this.#length;
  }

  finish(): Buffer {
    return this.#buf.subarray(0, this.#length);
  }
}
