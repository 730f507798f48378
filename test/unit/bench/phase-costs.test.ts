import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { compare, phaseCosts, phasesOf, secondsOf, type Tick } from '../../../bench/lib/phase-costs.js';

/**
 * Ticks and counts of a load where a non-sampling request costs `plainUs` of the gateway's CPU, a
 * sampling-phase request `samplingUs`, of which `spill` (a share) is paid in the next second, and the
 * upstream `upstreamUs` a request; `rps` responses every second; 2-second phases from second 100.
 */
function load(
  seconds: number,
  o: { plainUs: number; samplingUs: number; spill: number; upstreamUs: number; rps: number },
) {
  const ticks: Tick[] = [];
  const counts = new Map<number, number>();
  let gatewayMs = 0;
  let upstreamMs = 0;
  let carried = 0;
  for (let s = 100; s <= 100 + seconds; s++) {
    ticks.push({ second: s, gatewayMs, upstreamMs });
    counts.set(s, o.rps);
    const sampling = Math.floor(s / 2) % 2 === 0;
    const ms = (o.rps * (sampling ? o.samplingUs : o.plainUs)) / 1000;
    const deferred = sampling ? ms * o.spill : 0;
    gatewayMs += ms - deferred + carried;
    carried = deferred;
    upstreamMs += (o.rps * o.upstreamUs) / 1000;
  }
  return { ticks, counts };
}

describe('trace-phases analysis (bench/lib/phase-costs.ts)', () => {
  it('charges a sampling phase the work it left in the next second', () => {
    const { ticks, counts } = load(40, { plainUs: 100, samplingUs: 110, spill: 0.3, upstreamUs: 50, rps: 2000 });
    const costs = phaseCosts(phasesOf(secondsOf(ticks, counts, 2), 2));
    const sampling = costs.filter((c) => c.sampling);
    assert.ok(sampling.length >= 8);
    for (const c of sampling) assert.ok(Math.abs(c.gatewayUs - 110) < 1e-9, `${c.gatewayUs}`);
    for (const c of costs.filter((x) => !x.sampling)) assert.ok(Math.abs(c.gatewayUs - 100) < 1e-9);
    const cmp = compare(costs);
    assert.ok(cmp.ratios.length >= 8);
    for (const r of cmp.ratios) assert.ok(Math.abs(r - 1.1) < 1e-9, `${r}`);
    for (const d of cmp.differencesUs) assert.ok(Math.abs(d - 10) < 1e-9);
    for (const r of cmp.normalized) assert.ok(Math.abs(r - 1.1) < 1e-9);
  });

  it('reads 1 when both modes cost the same (the null check)', () => {
    const { ticks, counts } = load(30, { plainUs: 120, samplingUs: 120, spill: 0, upstreamUs: 40, rps: 2500 });
    const cmp = compare(phaseCosts(phasesOf(secondsOf(ticks, counts, 2), 2)));
    assert.ok(cmp.ratios.length > 0);
    for (const r of cmp.ratios) assert.ok(Math.abs(r - 1) < 1e-9);
  });

  it('drops a late tick, the phase it cut, and every comparison that phase was part of', () => {
    const { ticks, counts } = load(24, { plainUs: 100, samplingUs: 120, spill: 0, upstreamUs: 50, rps: 1000 });
    const whole = compare(phaseCosts(phasesOf(secondsOf(ticks, counts, 2), 2)));
    // The tick at the start of second 110 came a second late: seconds 109 and 110 are unknown, which
    // cuts phase 54 (108–109, sampling) and phase 55 (110–111, the non-sampling one after it).
    const late = ticks.filter((t) => t.second !== 110);
    const seconds = secondsOf(late, counts, 2);
    assert.ok(!seconds.some((s) => s.second === 109 || s.second === 110));
    const phases = phasesOf(seconds, 2);
    assert.ok(!phases.some((p) => p.index === 54 || p.index === 55));
    const cut = compare(phaseCosts(phases));
    // Phase 54 had a comparison (53 and 55 around it), and phase 56 lost its left neighbour.
    assert.equal(cut.ratios.length, whole.ratios.length - 2);
    for (const r of cut.ratios) assert.ok(Math.abs(r - 1.2) < 1e-9);
  });

  it('does not cost a sampling phase whose next phase is missing', () => {
    const { ticks, counts } = load(12, { plainUs: 100, samplingUs: 150, spill: 0.5, upstreamUs: 50, rps: 1000 });
    const phases = phasesOf(secondsOf(ticks, counts, 2), 2).filter((p) => p.index !== 53);
    const costs = phaseCosts(phases);
    assert.ok(!costs.some((c) => c.index === 52), 'phase 52 (sampling) spilled into the missing 53');
  });
});
