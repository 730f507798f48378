/** Which status codes of a route get series of their own. */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { isNamedStatus, StatusBudget, UNNAMED_STATUS_BUDGET } from '../../../src/telemetry/store/status-budget.js';
import { Family } from '../../../src/telemetry/store/family.js';

describe('StatusBudget', () => {
  it('admits every named code and status 0, whatever came before', () => {
    const b = new StatusBudget(2);
    for (let c = 200; c < 600; c++) b.admit(c);
    for (const c of [0, 100, 200, 204, 404, 429, 503, 511]) assert.equal(b.admit(c), true, String(c));
  });

  it('admits unnamed codes up to its budget, then never, and remembers each decision', () => {
    const b = new StatusBudget();
    const unnamed = Array.from({ length: 400 }, (_v, i) => 200 + i).filter((c) => !isNamedStatus(c));
    const admitted = unnamed.filter((c) => b.admit(c));
    assert.equal(admitted.length, UNNAMED_STATUS_BUDGET);
    assert.deepEqual(
      unnamed.filter((c) => b.admit(c)),
      admitted,
      'the same answer the second time',
    );
  });

  it('never admits a value outside 100–599', () => {
    const b = new StatusBudget();
    for (const c of [1, 99, 600, 999, 1000, -1, 200.5, Number.NaN]) assert.equal(b.admit(c), false, String(c));
  });

  it('Family.overflow() is the overflow series, counted as a refused binding', () => {
    const f = new Family('counter', { name: 'x', help: 'x' });
    const own = f.bind([['code', 200]]);
    const over = f.overflow();
    assert.notEqual(own, over);
    assert.equal(f.overflow(), over);
    assert.equal(over.labels, 'otel_metric_overflow="true"');
    assert.equal(f.overflowed, 2);
  });
});
