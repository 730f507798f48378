import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { parseDuration } from '../../../src/config/duration.js';

it('parses Go durations as KrakenD accepts them', () => {
  assert.equal(parseDuration('2s'), 2000);
  assert.equal(parseDuration('300ms'), 300);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration('30us'), 0.03);
  assert.equal(parseDuration('0'), 0);
  for (const bad of ['', '2', 's', '2x', '1m 30s', '-1s']) assert.equal(parseDuration(bad), undefined, bad);
});
