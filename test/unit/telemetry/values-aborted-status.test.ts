/**
 * Issue 19 item 2: the status a record of a request the client left carries, settled when the proxy is
 * done (lura writes 500 without data, 200 with data from a finished backend), whatever the order of
 * the response closing and the proxy finishing; a request answered normally keeps its status.
 */
import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { CompletionLatch } from '../../../src/telemetry/completion.js';
import { RequestRecord } from '../../../src/telemetry/record.js';

function run(aborted: boolean, complete: readonly boolean[], proxyLast: boolean): RequestRecord {
  let seen: RequestRecord | undefined;
  const latch = new CompletionLatch((rec) => (seen = rec));
  const rec = new RequestRecord('GET', '/a', 1);
  latch.proxyStarted(rec, 2);
  complete.forEach((c, i) => (rec.backend(i).stageComplete = c));
  rec.status = 200;
  rec.aborted = aborted;
  if (proxyLast) {
    latch.responseClosed(rec);
    assert.equal(seen, undefined);
    latch.proxyDone(rec, 3);
  } else {
    latch.proxyDone(rec, 3);
    latch.responseClosed(rec);
  }
  assert.equal(seen, rec);
  return rec;
}

it('records 500 for a request left before any backend finished, in either order', () => {
  for (const proxyLast of [true, false]) {
    assert.equal(run(true, [false], proxyLast).status, 500);
    assert.equal(run(true, [false, false], proxyLast).status, 500);
  }
});

it('records 200 for a request left after a backend of its merge finished (lura renders the partial data)', () => {
  for (const proxyLast of [true, false]) assert.equal(run(true, [true, false], proxyLast).status, 200);
});

it('keeps the status of a request that was answered', () => {
  const rec = run(false, [false], true);
  assert.equal(rec.status, 200);
  assert.equal(rec.aborted, false);
});
