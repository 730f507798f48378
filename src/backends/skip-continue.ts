/**
 * A client must accept any number of 1xx responses before the final one, asked for or not (RFC 9110
 * §15.2), and a proxy skips them; Go's transport and nginx do. undici passes 102 and 103 to the
 * handler (proxy/exchange skips them), but closes the connection on a `100 Continue` it did not ask
 * for (https://github.com/nodejs/undici/blob/main/lib/dispatcher/client-h1.js, onHeadersComplete:
 * `statusCode === 100` → "bad response"), so the request fails although the answer is on its way.
 *
 * This removes such heads from a backend connection before undici's parser reads them. It only looks
 * at the first bytes of each response: the pools use `pipelining: 1`, so a response starts after the
 * head of the request undici writes next, and undici writes request heads, alone of all its writes, as
 * `latin1` strings that do not begin with CR (chunk framing does; bodies go without an encoding). Past
 * the first byte of the final head, every byte goes through untouched and unexamined.
 */
import type { Socket } from 'node:net';

/** `HTTP/1.x 100` and the byte after it (SP or CR). */
const HEAD_PREFIX = Buffer.from('HTTP/1.');
const PREFIX_LENGTH = 13;
const END_OF_HEAD = Buffer.from('\r\n\r\n');
/** A 100 head larger than this is not skipped: undici's parser sees it and fails the request as before. */
const MAX_HEAD = 16 * 1024;

/** 1: `data` starts with a 100 head; 0: it does not; -1: too short to tell. */
function continueHead(data: Buffer): number {
  const n = Math.min(data.length, PREFIX_LENGTH);
  for (let i = 0; i < n; i++) {
    const c = data[i] as number;
    const ok =
      i < 7
        ? c === HEAD_PREFIX[i]
        : i === 7
          ? c >= 0x30 && c <= 0x39
          : i === 8
            ? c === 0x20
            : i === 9
              ? c === 0x31
              : i < 12
                ? c === 0x30
                : c === 0x20 || c === 0x0d;
    if (!ok) return 0;
  }
  return n === PREFIX_LENGTH ? 1 : -1;
}

/** Installs the skip on a backend connection, once, when undici's connector hands it over. */
export function skipUnsolicitedContinue(socket: Socket): void {
  const read = socket.read;
  const write = socket.write;
  /** The next bytes read start a response. */
  let atStart = false;
  /** The beginning of a head not yet known to be, or not yet complete as, a 100 head. */
  let held: Buffer | undefined;
  socket.write = function (this: Socket, data: unknown, encoding?: unknown, cb?: unknown): boolean {
    if (encoding === 'latin1' && typeof data === 'string' && data.charCodeAt(0) !== 0x0d) atStart = true;
    return (write as (d: unknown, e?: unknown, c?: unknown) => boolean).call(this, data, encoding, cb);
  } as Socket['write'];
  socket.read = function (this: Socket, size?: number): unknown {
    const chunk = read.call(this, size) as Buffer | null;
    if (!atStart || chunk === null) return chunk;
    let data = held === undefined ? chunk : Buffer.concat([held, chunk]);
    held = undefined;
    for (;;) {
      const kind = continueHead(data);
      if (kind === 0) break;
      const end = kind === 1 ? data.indexOf(END_OF_HEAD) : -1;
      if (end === -1) {
        if (data.length > MAX_HEAD) break;
        held = data;
        return null;
      }
      data = data.subarray(end + END_OF_HEAD.length);
      if (data.length === 0) return null;
    }
    atStart = false;
    return data;
  } as Socket['read'];
}
