import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { exceedsJsonDepth } from '../../../src/proxy/json-depth.js';

const deep = (n: number, pad = ''): Buffer => Buffer.from(`${pad}${'['.repeat(n)}${']'.repeat(n)}`);

it('counts nesting of arrays and objects, up to and past the bound', () => {
  assert.equal(exceedsJsonDepth(deep(10), 10), false, 'a body no longer than the bound is never scanned past it');
  assert.equal(exceedsJsonDepth(deep(10, ' '.repeat(50)), 10), false);
  assert.equal(exceedsJsonDepth(deep(11), 10), true);
  assert.equal(exceedsJsonDepth(Buffer.from(`{"a":${'{"b":'.repeat(12)}1${'}'.repeat(12)}}`), 10), true);
  assert.equal(exceedsJsonDepth(Buffer.from(`[${'[],'.repeat(100)}[]]`), 10), false, 'siblings are not nesting');
});

it('ignores brackets inside strings, with escaped quotes and backslashes', () => {
  assert.equal(exceedsJsonDepth(Buffer.from(`{"s":"${'['.repeat(50)}"}`), 10), false);
  assert.equal(
    exceedsJsonDepth(Buffer.from(`{"s":"\\"${'['.repeat(50)}"}`), 10),
    false,
    'an escaped quote does not end the string',
  );
  assert.equal(
    exceedsJsonDepth(Buffer.from(`{"s":"\\\\","t":${'['.repeat(50)}${']'.repeat(50)}}`), 10),
    true,
    'an escaped backslash does not escape the quote',
  );
  assert.equal(
    exceedsJsonDepth(Buffer.from(`{"s":"${'['.repeat(50)}`), 10),
    false,
    'an unterminated string is left to JSON.parse',
  );
  assert.equal(
    exceedsJsonDepth(Buffer.from(`["é${'['.repeat(20)}", ${'['.repeat(5)}${']'.repeat(5)}]`), 10),
    false,
    'multi-byte UTF-8 inside strings',
  );
});
