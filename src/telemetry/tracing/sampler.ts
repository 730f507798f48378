/**
 * `trace_sample_rate` decided as KrakenD decides it (krakend-otel/state/state.go:118-122): a rate of 1
 * samples every request, whatever the remote parent says (`AlwaysSample`); a rate between 0 and 1 is
 * `ParentBased(TraceIDRatioBased(rate))`: a remote parent's sampled flag is followed, and without a
 * parent the trace id decides exactly as OpenTelemetry Go does, so one trace id gets the same answer
 * in the gateway and in every Go service behind it.
 *
 * Unlike KrakenD (which samples everything at 0), a rate of 0 starts no trace: operators writing 0
 * mean "off"; a sampled remote parent is still followed, as at any rate below 1. The Tollgate setting
 * `trace_sampler: "parentbased_traceidratio"` makes the parent decide at every rate, 1 included.
 */
import type { TraceSamplerName } from '../../config/namespaces/opentelemetry.js';

const TWO_32 = 2 ** 32;

/** The value of one hex digit (either case), as OTel JS propagators accept both. */
function hexDigit(c: number): number {
  if (c <= 57) return c - 48;
  return c >= 97 ? c - 87 : c - 55;
}

/** 8 hex digits from `start` as an unsigned 32-bit number, read from the char codes (nothing allocated). */
function hex32(id: string, start: number): number {
  let v = 0;
  for (let i = start; i < start + 8; i++) v = v * 16 + hexDigit(id.charCodeAt(i));
  return v;
}

/**
 * OpenTelemetry Go's TraceIDRatioBased (go.opentelemetry.io/otel/sdk/trace/sampling.go:71-117):
 * bytes 8–16 of the trace id as a big-endian uint64, shifted right by 1, below `uint64(rate * 2^63)`.
 * A 63-bit value does not fit a double, so both sides are compared as high and low 32-bit halves.
 */
export class TraceIdRatio {
  readonly #always: boolean;
  readonly #never: boolean;
  readonly #boundHi: number;
  readonly #boundLo: number;

  constructor(readonly rate: number) {
    this.#always = rate >= 1;
    this.#never = !(rate > 0);
    // rate × 2^63 is exact in a double (a power-of-two scale); Go's uint64 conversion truncates.
    const bound = this.#always || this.#never ? 0 : Math.floor(rate * 2 ** 63);
    this.#boundHi = Math.floor(bound / TWO_32);
    this.#boundLo = bound - this.#boundHi * TWO_32;
  }

  /** `traceId`: 32 hex digits. */
  sampled(traceId: string): boolean {
    if (this.#always) return true;
    if (this.#never) return false;
    return this.sampledBytes(hex32(traceId, 16), hex32(traceId, 24));
  }

  /** The same decision from trace-id bytes 8–11 (`hi`) and 12–15 (`lo`), big-endian. */
  sampledBytes(hi: number, lo: number): boolean {
    if (this.#always) return true;
    if (this.#never) return false;
    const xHi = hi >>> 1;
    const xLo = (hi & 1) * 2 ** 31 + (lo >>> 1);
    return xHi < this.#boundHi || (xHi === this.#boundHi && xLo < this.#boundLo);
  }
}

export class TraceSampler {
  readonly #ratio: TraceIdRatio;
  /** Whether a remote parent's sampled flag decides (false: KrakenD's AlwaysSample at rate 1). */
  readonly #followParent: boolean;

  constructor(rate: number, name: TraceSamplerName = 'krakend') {
    this.#ratio = new TraceIdRatio(rate);
    this.#followParent = name === 'parentbased_traceidratio' || rate < 1;
  }

  /** `parentSampled`: the remote parent's sampled flag, undefined without a remote parent. */
  shouldSample(traceId: string, parentSampled: boolean | undefined): boolean {
    if (parentSampled !== undefined && this.#followParent) return parentSampled;
    return this.#ratio.sampled(traceId);
  }

  /** A request without a remote parent, from its trace id's bytes 8–16 (ids.ts RootIds). */
  shouldSampleRoot(hi: number, lo: number): boolean {
    return this.#ratio.sampledBytes(hi, lo);
  }
}
