/**
 * The hand-written W3C `traceparent` reading (tracing/traceparent.ts) and the short ways of
 * tracing/propagation.ts against OpenTelemetry JS's own propagators: the same parent for every
 * header, valid, malformed or hostile (a header the propagator ignores is ignored), and the context
 * an unsampled request passes on.
 */
import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { defaultTextMapGetter, defaultTextMapSetter, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import {
  CompositePropagator,
  parseTraceParent,
  TraceState,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { Propagation } from '../../../src/telemetry/tracing/propagation.js';
import { canonicalTraceparentFlags, INVALID, NOT_CANONICAL } from '../../../src/telemetry/tracing/traceparent.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const VALID = `00-${TRACE}-${SPAN}-01`;

const official = new CompositePropagator({
  propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
});

/** What the OTel propagators make of the headers: the remote span context, if valid. */
function theirs(headers: Record<string, string>): { traceId: string; spanId: string; traceFlags: number } | undefined {
  const sc = trace.getSpanContext(official.extract(ROOT_CONTEXT, headers, defaultTextMapGetter));
  return sc === undefined || !trace.isSpanContextValid(sc)
    ? undefined
    : { traceId: sc.traceId, spanId: sc.spanId, traceFlags: sc.traceFlags };
}

function mine(p: Propagation, headers: Record<string, string>): ReturnType<typeof theirs> {
  const r = p.parent(headers);
  return r === undefined || !r.valid ? undefined : { traceId: r.traceId, spanId: r.spanId, traceFlags: r.traceFlags };
}

/** Hand-picked shapes: every field broken once, other versions, whitespace, lengths around 55. */
const CORPUS = [
  VALID,
  `00-${TRACE}-${SPAN}-00`,
  `00-${TRACE}-${SPAN}-ff`,
  `00-${TRACE}-${SPAN}-0a`,
  `00-${TRACE.toUpperCase()}-${SPAN}-01`,
  `00-${TRACE}-${SPAN.toUpperCase()}-01`,
  `00-${TRACE}-${SPAN}-0A`,
  `00-${'0'.repeat(32)}-${SPAN}-01`,
  `00-${TRACE}-${'0'.repeat(16)}-01`,
  `00_${TRACE}-${SPAN}-01`,
  `00-${TRACE}_${SPAN}-01`,
  `00-${TRACE}-${SPAN}_01`,
  `00-${TRACE}-${SPAN}-0g`,
  `00-${TRACE.slice(1)}x-${SPAN}-01`,
  `00-${TRACE}-${SPAN}-01-extra`,
  `00-${TRACE}-${SPAN}-1`,
  `00-${TRACE}-${SPAN}-011`,
  ` ${VALID}`,
  `${VALID} `,
  `${VALID}\t`,
  `\u00a0${VALID}`,
  `01-${TRACE}-${SPAN}-01`,
  `01-${TRACE}-${SPAN}-01-future-field`,
  `01-${TRACE}-${SPAN}-01-a\nb`,
  `fe-${TRACE}-${SPAN}-01`,
  `ff-${TRACE}-${SPAN}-01`,
  `0-${TRACE}-${SPAN}-01`,
  `000-${TRACE}-${SPAN}-01`,
  `00-${TRACE}-${SPAN}`,
  `00-${TRACE}${SPAN}-01`,
  '',
  '-',
  'x'.repeat(55),
  `00-${'é'.repeat(32)}-${SPAN}-01`,
  `00-${TRACE}-${SPAN}-0\u0661`,
];

it('decides a canonical traceparent exactly as the OTel propagator, and leaves every other shape to it', () => {
  for (const h of CORPUS) {
    const flags = canonicalTraceparentFlags(h);
    const expected = parseTraceParent(h);
    if (flags === NOT_CANONICAL) {
      assert.ok(h.length !== 55 || !h.startsWith('00-'), `${JSON.stringify(h)} is canonical-shaped`);
      continue;
    }
    if (flags === INVALID) assert.equal(expected, null, JSON.stringify(h));
    else {
      assert.ok(expected !== null, JSON.stringify(h));
      assert.deepEqual({ traceId: h.slice(3, 35), spanId: h.slice(36, 52), traceFlags: flags }, expected);
    }
  }
  assert.equal(canonicalTraceparentFlags(VALID), 1);
  assert.equal(canonicalTraceparentFlags(`00-${TRACE}-${SPAN}-0a`), 10);
});

it('finds the same remote parent as the OTel propagators for every header, valid, malformed or hostile', () => {
  const p = new Propagation(['tracecontext', 'baggage']);
  for (const h of CORPUS) assert.deepEqual(mine(p, { traceparent: h }), theirs({ traceparent: h }), JSON.stringify(h));
  // Mutations of a valid header: one character replaced by anything (hex either case, separators,
  // spaces, control and non-ASCII characters), at every position.
  const alphabet = '0123456789abcdefABCDEF-_ \t\n\u0000\u00e9\uffff';
  let seeded = 7;
  const rnd = (n: number): number => {
    seeded = (seeded * 1103515245 + 12345) % 2 ** 31;
    return seeded % n;
  };
  for (let i = 0; i < 20_000; i++) {
    const at = rnd(VALID.length);
    const h = VALID.slice(0, at) + alphabet.charAt(rnd(alphabet.length)) + VALID.slice(at + 1);
    assert.deepEqual(mine(p, { traceparent: h }), theirs({ traceparent: h }), JSON.stringify(h));
  }
});

it('reads a lone canonical traceparent without context objects, and goes through the propagators otherwise', () => {
  const p = new Propagation(['tracecontext', 'baggage']);
  const fast = p.parent({ traceparent: VALID, host: 'x' });
  assert.ok(fast?.valid === true);
  assert.equal(fast.header, VALID, 'kept to be passed on as it came');
  assert.equal(fast.context, undefined);
  assert.equal(p.parent({ host: 'x' }), undefined);

  const withState = p.parent({ traceparent: VALID, tracestate: 'vendor=abc' });
  assert.equal(withState?.header, undefined);
  assert.equal(withState?.traceState?.serialize(), 'vendor=abc');
  assert.equal(withState?.context, undefined, 'no baggage: the context is not needed to pass it on');

  const withBaggage = p.parent({ traceparent: VALID, baggage: 'tenant=acme' });
  assert.equal(withBaggage?.valid, true);
  assert.equal(propagation.getBaggage(withBaggage?.context ?? ROOT_CONTEXT)?.getEntry('tenant')?.value, 'acme');

  const baggageOnly = p.parent({ baggage: 'tenant=acme' });
  assert.equal(baggageOnly?.valid, false, 'baggage without a parent');
  assert.ok(baggageOnly?.context !== undefined);

  // Other propagators always go the general way (B3's debug flag lives in the context).
  const b3 = new Propagation(['b3multi']).parent({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-flags': '1' });
  assert.equal(b3?.traceId, TRACE);
  assert.ok(b3?.context !== undefined);
  assert.equal(new Propagation(['b3']).parent({ traceparent: VALID }), undefined);
  assert.equal(new Propagation([]).parent({ traceparent: VALID }), undefined);
});

it('passes an unsampled context on: the parent as it came, else its own ids with the sampled flag off', () => {
  const w3c = new Propagation(['tracecontext', 'baggage']);
  const root: Record<string, string | string[]> = {};
  w3c.injectUnsampled(undefined, undefined, TRACE, SPAN, root);
  assert.deepEqual(root, { traceparent: `00-${TRACE}-${SPAN}-00` });

  const parentHeader = `00-${TRACE}-${SPAN}-00`;
  const parent = w3c.parent({ traceparent: parentHeader });
  const passed: Record<string, string | string[]> = {};
  w3c.injectUnsampled(parent, parent?.context, TRACE, 'ffffffffffffffff', passed);
  assert.deepEqual(passed, { traceparent: parentHeader });

  // With trace state and baggage: what the OTel propagators write for that parent.
  const rich = { traceparent: parentHeader, tracestate: 'vendor=abc', baggage: 'tenant=acme' };
  const richParent = w3c.parent(rich);
  const out: Record<string, string | string[]> = {};
  w3c.injectUnsampled(richParent, richParent?.context, TRACE, 'ffffffffffffffff', out);
  const expected: Record<string, string> = {};
  official.inject(official.extract(ROOT_CONTEXT, rich, defaultTextMapGetter), expected, defaultTextMapSetter);
  assert.deepEqual(out, expected);
  assert.equal(out.traceparent, parentHeader);
  assert.equal(out.tracestate, 'vendor=abc');
  assert.equal(out.baggage, 'tenant=acme');

  const b3: Record<string, string | string[]> = {};
  new Propagation(['b3multi']).injectUnsampled(undefined, undefined, TRACE, SPAN, b3);
  assert.deepEqual(b3, { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': '0' });
  const none: Record<string, string | string[]> = {};
  new Propagation([]).injectUnsampled(undefined, undefined, TRACE, SPAN, none);
  assert.deepEqual(none, {});
});

it('writes the trace state of the remote parent into a sampled child, as OTel Go passes it on', () => {
  const w3c = new Propagation(['tracecontext']);
  const out: Record<string, string | string[]> = {};
  w3c.inject(undefined, { traceId: TRACE, spanId: SPAN, traceFlags: 1, traceState: new TraceState('a=1') }, out);
  assert.deepEqual(out, { traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'a=1' });
});
