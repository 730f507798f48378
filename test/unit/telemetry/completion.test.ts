/** A record reaches telemetry once, when both its response and its proxy are done, in either order. */
import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { CompletionLatch } from '../../../src/telemetry/completion.js';
import { RequestRecord } from '../../../src/telemetry/record.js';

function latch(): { latch: CompletionLatch; done: RequestRecord[] } {
  const done: RequestRecord[] = [];
  return { latch: new CompletionLatch((rec) => done.push(rec)), done };
}

it('records a request without a proxy when its response closes', () => {
  const { latch: l, done } = latch();
  const rec = new RequestRecord('GET', '/__health', 1);
  l.responseClosed(rec);
  assert.deepEqual(done, [rec]);
});

it('waits for a proxy still running when the response closed (the client left)', () => {
  const { latch: l, done } = latch();
  const rec = new RequestRecord('GET', '/a', 1);
  l.proxyStarted(rec, 2);
  l.responseClosed(rec);
  assert.deepEqual(done, []);
  l.proxyDone(rec, 9);
  assert.deepEqual(done, [rec]);
  assert.equal(rec.proxyStart, 2);
  assert.equal(rec.proxyEnd, 9);
});

it('records at the close when the proxy finished first', () => {
  const { latch: l, done } = latch();
  const rec = new RequestRecord('GET', '/a', 1);
  l.proxyStarted(rec, 2);
  l.proxyDone(rec, 3);
  assert.deepEqual(done, []);
  l.responseClosed(rec);
  assert.deepEqual(done, [rec]);
});
