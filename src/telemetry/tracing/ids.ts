/**
 * Trace and span ids made in blocks: the random bytes of 64 ids at a time, their hex in one string
 * made by one native call, and each id a slice of that string. A native call costs ~0.1 µs, which a
 * request that is never sampled should not pay twice for its two ids. Ids are lowercase hex (what the
 * propagators write and the exemplars carry), never all zeros (W3C trace context: such an id is
 * invalid; a block re-draws it).
 */
import { randomFillSync } from 'node:crypto';

/**
 * Random bytes drawn 16 KiB at a time: `randomFillSync` costs ~2.5 µs a call whatever its size up
 * to a few KiB, and ~0.3 ns a byte beyond.
 */
const RANDOM = Buffer.alloc(16 * 1024);
let randomAt = RANDOM.length;

/** Where the next `n` random bytes start in the pool (drawn again when fewer are left). */
function drawRandom(n: number): number {
  if (randomAt + n > RANDOM.length) {
    randomFillSync(RANDOM);
    randomAt = 0;
  }
  const at = randomAt;
  randomAt += n;
  return at;
}

function fillRandom(dst: Buffer): void {
  const from = drawRandom(dst.length);
  RANDOM.copy(dst, 0, from, from + dst.length);
}

/**
 * A new span id written as its 8 bytes into `dst` at `at`, never all zeros: for spans no other code
 * refers to by id (backend stage, body read), which need no hex string made and then parsed back.
 */
export function writeSpanId(dst: Buffer, at: number): void {
  const from = drawRandom(8);
  // Eight bytes by hand: Buffer#copy's argument checks cost more than the copy.
  for (let i = 0; i < 8; i++) dst[at + i] = RANDOM[from + i] as number;
  nonZero(dst, at, 8);
}

/** `n` bytes from `at` in `bytes`, drawn again until they are not all zeros. */
function nonZero(bytes: Buffer, at: number, n: number): void {
  for (;;) {
    for (let i = at; i < at + n; i++) if (bytes[i] !== 0) return;
    randomFillSync(bytes, at, n);
  }
}

const PER_BLOCK = 64;

/**
 * The same id as a string that does not keep its block's 1–3 KiB hex string alive: a slice shares
 * its parent's characters, and the ids of sampled requests are kept (exemplars, the dashboard's slow
 * requests). Pieces shorter than V8's shortest slice (13 characters) are copies.
 */
export function ownId(id: string): string {
  let out = '';
  for (let i = 0; i < id.length; i += 12) out += id.slice(i, i + 12);
  return out;
}

/** Trace id and span id of requests that start a trace, and the sampling bits of the trace id. */
export class RootIds {
  /** 24 random bytes per id pair: 16 of trace id, 8 of span id. */
  readonly #bytes = Buffer.alloc(PER_BLOCK * 24);
  #hex = '';
  #next = PER_BLOCK;
  traceId = '';
  spanId = '';
  /** Trace-id bytes 8–11 and 12–15, big-endian: what OTel Go's ratio sampler reads (sampler.ts). */
  hi = 0;
  lo = 0;

  next(): void {
    if (this.#next === PER_BLOCK) this.#refill();
    const i = this.#next++;
    const at = i * 24;
    const b = this.#bytes;
    this.hi =
      (b[at + 8] as number) * 0x1000000 +
      (b[at + 9] as number) * 0x10000 +
      (b[at + 10] as number) * 0x100 +
      (b[at + 11] as number);
    this.lo =
      (b[at + 12] as number) * 0x1000000 +
      (b[at + 13] as number) * 0x10000 +
      (b[at + 14] as number) * 0x100 +
      (b[at + 15] as number);
    this.traceId = this.#hex.slice(i * 48, i * 48 + 32);
    this.spanId = this.#hex.slice(i * 48 + 32, i * 48 + 48);
  }

  /** Makes the current ids independent of the block (`ownId`): for a request that is sampled. */
  own(): void {
    this.traceId = ownId(this.traceId);
    this.spanId = ownId(this.spanId);
  }

  #refill(): void {
    const bytes = this.#bytes;
    fillRandom(bytes);
    for (let i = 0; i < PER_BLOCK; i++) {
      nonZero(bytes, i * 24, 16);
      nonZero(bytes, i * 24 + 16, 8);
    }
    this.#hex = bytes.toString('hex');
    this.#next = 0;
  }
}

/** Span ids (and trace ids) the same way, one block per kind, each id its own string. */
class IdBlock {
  readonly #size: number;
  readonly #bytes: Buffer;
  #hex = '';
  #next = PER_BLOCK;

  constructor(size: number) {
    this.#size = size;
    this.#bytes = Buffer.alloc(PER_BLOCK * size);
  }

  next(): string {
    if (this.#next === PER_BLOCK) {
      fillRandom(this.#bytes);
      for (let i = 0; i < PER_BLOCK; i++) nonZero(this.#bytes, i * this.#size, this.#size);
      this.#hex = this.#bytes.toString('hex');
      this.#next = 0;
    }
    const from = this.#next++ * this.#size * 2;
    // Only sampled requests ask for these, and their ids are kept.
    return ownId(this.#hex.slice(from, from + this.#size * 2));
  }
}

const TRACE_IDS = new IdBlock(16);
const SPAN_IDS = new IdBlock(8);

/** 32 lowercase hex chars, never all zeros. */
export function newTraceId(): string {
  return TRACE_IDS.next();
}

/** 16 lowercase hex chars, never all zeros. */
export function newSpanId(): string {
  return SPAN_IDS.next();
}
