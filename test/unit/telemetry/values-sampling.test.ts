/**
 * Issue 19 item 9: Tollgate's sampling decision against KrakenD's, computed here from the sources:
 * krakend-otel/state/state.go:118-122 picks AlwaysSample unless 0 < rate < 1, then
 * ParentBased(TraceIDRatioBased(rate)); OpenTelemetry Go's TraceIDRatioBased
 * (sdk/trace/sampling.go:71-117) samples when bytes 8–16 of the trace id, big-endian, shifted right
 * by 1, are below uint64(rate * 2^63). The expected decisions use BigInt and the exact binary value
 * of the rate, not the gateway's arithmetic.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { loadConfigValue } from '../../../src/config/load.js';
import { TraceIdRatio, TraceSampler } from '../../../src/telemetry/tracing/sampler.js';

/** uint64(fraction * (1 << 63)) as Go computes it: the product of a float64 and 2^63, truncated. */
function goUpperBound(fraction: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, fraction);
  const bits = view.getBigUint64(0);
  const exponent = Number((bits >> 52n) & 0x7ffn);
  const fractionBits = bits & ((1n << 52n) - 1n);
  const mantissa = exponent === 0 ? fractionBits : fractionBits | (1n << 52n);
  // value = mantissa × 2^(exponent − 1075); × 2^63, then truncated toward zero.
  const shift = (exponent === 0 ? 1 : exponent) - 1075 + 63;
  return shift >= 0 ? mantissa << BigInt(shift) : mantissa >> BigInt(-shift);
}

/** TraceIDRatioBased(fraction).ShouldSample for a trace id, in Go's terms. */
function goRatio(fraction: number, traceId: string): boolean {
  if (fraction >= 1) return true;
  if (fraction <= 0) return false;
  const x = BigInt(`0x${traceId.slice(16, 32)}`) >> 1n;
  return x < goUpperBound(fraction);
}

/** A trace id whose bytes 8–16 hold `low` (big-endian). */
function idWithLow(high: string, low: bigint): string {
  return high + low.toString(16).padStart(16, '0');
}

const RATES = [0.5, 0.1, 0.25, 0.001, 1 / 3, 0.9999999999999999, 1e-18, 2 ** -60, 0.7];

function tableFor(rate: number): string[] {
  const bound = goUpperBound(rate);
  const ids = [
    '00000000000000000000000000000000'.slice(0, 16) + '0000000000000001',
    '4bf92f3577b34da6ffffffffffffffff',
    '4bf92f3577b34da6a3ce929d0e0e4736',
    '4BF92F3577B34DA6A3CE929D0E0E4736',
    '4bf92f3577b34da67fffffffffffffff',
    '4bf92f3577b34da68000000000000000',
  ];
  // Right at the bound, where a double would round: x = bound − 1 (sampled) and x = bound (not).
  if (bound > 0n) ids.push(idWithLow('0af7651916cd43dd', ((bound - 1n) << 1n) | 1n));
  ids.push(idWithLow('0af7651916cd43dd', bound << 1n), idWithLow('0af7651916cd43dd', (bound << 1n) | 1n));
  if (bound > 1n << 32n) ids.push(idWithLow('0af7651916cd43dd', (bound - (1n << 32n)) << 1n));
  for (let i = 0; i < 200; i++) ids.push(randomBytes(16).toString('hex'));
  return ids;
}

describe('trace-id ratio as OpenTelemetry Go decides it', () => {
  for (const rate of RATES) {
    it(`rate ${rate}: every id of the table gets Go's decision`, () => {
      const ratio = new TraceIdRatio(rate);
      const sampler = new TraceSampler(rate);
      for (const id of tableFor(rate)) {
        const want = goRatio(rate, id);
        assert.equal(ratio.sampled(id), want, `${id} at ${rate}`);
        assert.equal(sampler.shouldSample(id, undefined), want, `${id} at ${rate} without a parent`);
      }
    });
  }

  it('samples about the rate of random ids', () => {
    const ratio = new TraceIdRatio(0.25);
    let n = 0;
    for (let i = 0; i < 20_000; i++) if (ratio.sampled(randomBytes(16).toString('hex'))) n++;
    assert.ok(n > 4_500 && n < 5_500, `${n} of 20000 at 0.25`);
  });

  it('decides from bytes 8–16 only: the first half of the id does not matter', () => {
    const ratio = new TraceIdRatio(0.5);
    assert.equal(ratio.sampled('ffffffffffffffff0000000000000000'), true);
    assert.equal(ratio.sampled('0000000000000000ffffffffffffffff'), false);
  });
});

describe('the parent, as KrakenD treats it, and the parent-based option', () => {
  /** KrakenD's sampler (state.go:118-122) for one request; rate 0 is Tollgate's deliberate difference. */
  function krakend(rate: number, id: string, parent: boolean | undefined): boolean {
    if (rate >= 1) return true;
    if (rate <= 0) return parent ?? false; // KrakenD: AlwaysSample; Tollgate: ParentBased(ratio 0)
    return parent ?? goRatio(rate, id);
  }
  function parentBased(rate: number, id: string, parent: boolean | undefined): boolean {
    return parent ?? goRatio(rate, id);
  }

  const ids = ['4bf92f3577b34da6a3ce929d0e0e4736', '4bf92f3577b34da60000000000000001', randomBytes(16).toString('hex')];
  for (const rate of [0, 0.5, 1]) {
    for (const parent of [undefined, true, false]) {
      it(`rate ${rate}, parent ${parent === undefined ? 'none' : parent ? 'sampled' : 'unsampled'}`, () => {
        for (const id of ids) {
          assert.equal(new TraceSampler(rate, 'krakend').shouldSample(id, parent), krakend(rate, id, parent), id);
          assert.equal(
            new TraceSampler(rate, 'parentbased_traceidratio').shouldSample(id, parent),
            parentBased(rate, id, parent),
            id,
          );
        }
      });
    }
  }

  it('rate 1 samples under an unsampled parent (AlwaysSample), unless the parent-based sampler is chosen', () => {
    const id = '4bf92f3577b34da6a3ce929d0e0e4736';
    assert.equal(new TraceSampler(1).shouldSample(id, false), true);
    assert.equal(new TraceSampler(1, 'parentbased_traceidratio').shouldSample(id, false), false);
  });

  it('reads trace_sampler from the config, defaulting to KrakenD, and refuses other names', () => {
    const load = (otel: Record<string, unknown>): ReturnType<typeof loadConfigValue> =>
      loadConfigValue(
        {
          version: 3,
          extra_config: {
            'telemetry/opentelemetry': { exporters: { otlp: [{ name: 'c', host: 'localhost' }] }, ...otel },
          },
        },
        'sampler.json',
      );
    assert.equal(load({}).config.otel?.traceSampler, 'krakend');
    assert.equal(
      load({ trace_sampler: 'parentbased_traceidratio' }).config.otel?.traceSampler,
      'parentbased_traceidratio',
    );
    assert.throws(() => load({ trace_sampler: 'always_on' }), /trace_sampler/);
  });
});
