/**
 * Ids made in blocks (tracing/ids.ts): well-formed, unique across block refills, and the sampling
 * bits a root request's ids hand the sampler are those of its trace id, so the decision is the one
 * OTel Go takes on that id (tracing/sampler.ts). The ids of sampled requests, which exemplars keep,
 * do not keep their whole block alive.
 */
import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { newSpanId, newTraceId, ownId, RootIds } from '../../../src/telemetry/tracing/ids.js';
import { TraceSampler } from '../../../src/telemetry/tracing/sampler.js';

it('hands out well-formed ids, unique across many block refills', () => {
  const seen = new Set<string>();
  const ids = new RootIds();
  for (let i = 0; i < 5_000; i++) {
    ids.next();
    assert.match(ids.traceId, /^[0-9a-f]{32}$/);
    assert.match(ids.spanId, /^[0-9a-f]{16}$/);
    assert.notEqual(ids.traceId, '0'.repeat(32));
    assert.notEqual(ids.spanId, '0'.repeat(16));
    seen.add(ids.traceId);
    seen.add(ids.spanId);
    const s = newSpanId();
    const t = newTraceId();
    assert.match(s, /^[0-9a-f]{16}$/);
    assert.match(t, /^[0-9a-f]{32}$/);
    seen.add(s);
    seen.add(t);
  }
  assert.equal(seen.size, 20_000);
});

it('keeps an id valid after its block is refilled (ids are strings of their own block)', () => {
  const ids = new RootIds();
  ids.next();
  const first = ids.traceId;
  const copy = `${first}`;
  for (let i = 0; i < 1_000; i++) ids.next();
  assert.equal(first, copy);
});

it('gives the sampler trace-id bytes 8–16, so a root request is decided as its trace id is', () => {
  const ids = new RootIds();
  for (const rate of [0.001, 0.1, 0.25, 0.5, 0.9, 0.999]) {
    const sampler = new TraceSampler(rate);
    let sampled = 0;
    for (let i = 0; i < 20_000; i++) {
      ids.next();
      assert.equal(ids.hi, Number.parseInt(ids.traceId.slice(16, 24), 16));
      assert.equal(ids.lo, Number.parseInt(ids.traceId.slice(24, 32), 16));
      const decision = sampler.shouldSampleRoot(ids.hi, ids.lo);
      assert.equal(decision, sampler.shouldSample(ids.traceId, undefined), `${ids.traceId} at ${rate}`);
      if (decision) sampled++;
    }
    const expected = rate * 20_000;
    assert.ok(Math.abs(sampled - expected) < 5 * Math.sqrt(expected) + 5, `${sampled} sampled at ${rate}`);
  }
  assert.equal(new TraceSampler(0).shouldSampleRoot(0, 0), false);
  assert.equal(new TraceSampler(1).shouldSampleRoot(0xffffffff, 0xffffffff), true);
});

it('keeps no block alive through the ids of sampled requests (exemplars hold thousands of them)', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const heldBytes = (make: () => string): number => {
    gc();
    const before = process.memoryUsage().heapUsed;
    const kept: string[] = [];
    // 64 ids per block: one kept id per block, as exemplars of a busy gateway end up.
    for (let i = 0; i < 64 * 2_000; i++) {
      const id = make();
      if (i % 64 === 0) kept.push(id);
    }
    gc();
    const per = (process.memoryUsage().heapUsed - before) / kept.length;
    assert.equal(kept.length, 2_000);
    return per;
  };
  const ids = new RootIds();
  const sampledRoot = (): string => {
    ids.next();
    ids.own();
    return ids.traceId;
  };
  for (const [name, make] of [
    ['span ids', newSpanId],
    ['trace ids', newTraceId],
    ['sampled root trace ids', sampledRoot],
  ] as const) {
    const per = heldBytes(make);
    assert.ok(per < 600, `${name}: ${per.toFixed(0)} bytes held per kept id (a block's hex string is 1–3 KiB)`);
  }
  assert.equal(ownId('0123456789abcdef0123456789abcdef'), '0123456789abcdef0123456789abcdef');
});
