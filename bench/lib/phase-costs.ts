// The analysis of bench/trace-phases.ts: per-second CPU readings and response counts of one
// gateway turned into alternating sampling and non-sampling phases, each costed in µs per request,
// and every sampling phase compared with the non-sampling phases on either side of it.

/** CPU ms of the gateway's and the upstream's process trees at the start of each second. */
export interface Tick {
  readonly second: number;
  readonly gatewayMs: number;
  readonly upstreamMs: number;
}

/** One second of the load: its mode, the CPU of both trees in it and the responses wrk counted. */
export interface Second {
  readonly second: number;
  readonly sampling: boolean;
  readonly requests: number;
  readonly gatewayMs: number;
  readonly upstreamMs: number;
}

export interface Phase {
  /** `second / phaseSeconds`, rounded down: consecutive phases have consecutive indexes. */
  readonly index: number;
  readonly sampling: boolean;
  readonly seconds: readonly Second[];
}

/** µs per request of a phase's gateway and upstream, with the sampling-phase spill moved back. */
export interface PhaseCost {
  readonly index: number;
  readonly sampling: boolean;
  readonly requests: number;
  readonly gatewayUs: number;
  readonly upstreamUs: number;
}

const sum = (xs: readonly Second[], f: (s: Second) => number): number => xs.reduce((n, s) => n + f(s), 0);

/** The seconds grouped into phases; only whole ones (the load's start and end, a late tick, cut some). */
export function phasesOf(seconds: readonly Second[], phaseSeconds: number): Phase[] {
  const phases: { index: number; sampling: boolean; seconds: Second[] }[] = [];
  for (const s of seconds) {
    const index = Math.floor(s.second / phaseSeconds);
    const last = phases.at(-1);
    if (last?.index === index) last.seconds.push(s);
    else phases.push({ index, sampling: s.sampling, seconds: [s] });
  }
  return phases.filter((p) => p.seconds.length === phaseSeconds);
}

/**
 * Each phase's cost. A non-sampling phase's first second carries deferred work of the sampling
 * phase before it: that second's CPU beyond its requests × the rate of the phase's other seconds is
 * charged to the sampling phase, and the non-sampling phase costs what its other seconds cost. A
 * sampling phase without the non-sampling phase right after it has no cost.
 */
export function phaseCosts(phases: readonly Phase[]): PhaseCost[] {
  const upstreamUs = (p: Phase): number =>
    (1000 * sum(p.seconds, (s) => s.upstreamMs)) / sum(p.seconds, (s) => s.requests);
  const byIndex = new Map(phases.map((p) => [p.index, p]));
  const plain = new Map<number, PhaseCost>();
  for (const p of phases) {
    if (p.sampling) continue;
    const rest = p.seconds.slice(1);
    const requests = sum(rest, (s) => s.requests);
    const gatewayUs = (1000 * sum(rest, (s) => s.gatewayMs)) / requests;
    plain.set(p.index, { index: p.index, sampling: false, requests, gatewayUs, upstreamUs: upstreamUs(p) });
  }
  const costs: PhaseCost[] = [];
  for (const p of phases) {
    if (!p.sampling) {
      costs.push(plain.get(p.index) as PhaseCost);
      continue;
    }
    const next = plain.get(p.index + 1);
    const first = byIndex.get(p.index + 1)?.seconds[0];
    if (next === undefined || first === undefined) continue;
    const spillMs = first.gatewayMs - (first.requests * next.gatewayUs) / 1000;
    const requests = sum(p.seconds, (s) => s.requests);
    const gatewayUs = (1000 * (sum(p.seconds, (s) => s.gatewayMs) + spillMs)) / requests;
    costs.push({ index: p.index, sampling: true, requests, gatewayUs, upstreamUs: upstreamUs(p) });
  }
  return costs;
}

export interface Comparison {
  /** Per sampling phase: its µs/request ÷ the mean of its neighbours'. */
  readonly ratios: number[];
  /** The same with every phase first divided by the upstream's µs/request (the machine's speed). */
  readonly normalized: number[];
  /** Its µs/request − the mean of its neighbours'. */
  readonly differencesUs: number[];
}

/** Every sampling phase against the mean of the non-sampling phases right before and after it. */
export function compare(costs: readonly PhaseCost[]): Comparison {
  const byIndex = new Map(costs.map((c) => [c.index, c]));
  const out: Comparison = { ratios: [], normalized: [], differencesUs: [] };
  for (const c of costs) {
    const a = byIndex.get(c.index - 1);
    const b = byIndex.get(c.index + 1);
    if (!c.sampling || a === undefined || b === undefined || a.sampling || b.sampling) continue;
    const base = (a.gatewayUs + b.gatewayUs) / 2;
    const baseNormalized = (a.gatewayUs / a.upstreamUs + b.gatewayUs / b.upstreamUs) / 2;
    out.ratios.push(c.gatewayUs / base);
    out.normalized.push(c.gatewayUs / c.upstreamUs / baseNormalized);
    out.differencesUs.push(c.gatewayUs - base);
  }
  return out;
}

/**
 * The seconds between consecutive ticks, each with the responses wrk counted in it; a second is a
 * sampling one when its phase index (`second / phaseSeconds`) is even, as wrk's script decides. A
 * tick that came late (a stalled driver) spans two seconds, and a second without responses tells
 * nothing: neither is kept.
 */
export function secondsOf(ticks: readonly Tick[], counts: ReadonlyMap<number, number>, phaseSeconds: number): Second[] {
  const out: Second[] = [];
  for (let i = 1; i < ticks.length; i++) {
    const a = ticks[i - 1] as Tick;
    const b = ticks[i] as Tick;
    if (b.second !== a.second + 1) continue;
    const requests = counts.get(a.second) ?? 0;
    if (requests === 0) continue;
    out.push({
      second: a.second,
      sampling: Math.floor(a.second / phaseSeconds) % 2 === 0,
      requests,
      gatewayMs: b.gatewayMs - a.gatewayMs,
      upstreamMs: b.upstreamMs - a.upstreamMs,
    });
  }
  return out;
}
