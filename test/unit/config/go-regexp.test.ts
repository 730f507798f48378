/** RE2 patterns (KrakenD's json-schema `pattern`, allowed_hosts regexps) run as JavaScript RegExps. */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { goRegExp, translateGoRegExp } from '../../../src/config/go-regexp.js';

describe('translateGoRegExp', () => {
  it('turns a leading flag group into the RegExp flags', () => {
    assert.ok(goRegExp('(?i)password').test('PassWord'));
    assert.ok(!goRegExp('password').test('PassWord'));
    assert.ok(goRegExp('(?s)a.b').test('a\nb'));
    assert.ok(goRegExp('(?im)^b').test('a\nB'));
  });

  it('rewrites \\A, \\z and (?P<name>…), outside character classes only', () => {
    assert.ok(goRegExp('\\Aab\\z').test('ab'));
    assert.ok(!goRegExp('\\Aab\\z').test('xab'));
    assert.ok(!goRegExp('(?m)\\Ab').test('a\nb'), '\\A is the start of the text even with (?m)');
    assert.ok(!goRegExp('a\\z').test('a\n'));
    assert.equal(goRegExp('(?P<year>\\d{4})').exec('in 2024')?.groups?.year, '2024');
    assert.ok(goRegExp('\\\\z').test('\\z'), 'an escaped backslash before z is a literal');
    assert.ok(goRegExp('[]a]').test(']'), "RE2 takes ']' first in a class as a literal");
  });

  it('refuses what JavaScript cannot run the same way, with the reason', () => {
    for (const p of ['a(?i)b', '(?U)a+', '(?i:a)b', '[[:alpha:]]', '\\pL', '\\Qa.b\\E', '(']) {
      const t = translateGoRegExp(p);
      assert.ok(!t.ok, p);
      assert.ok(t.message.length > 0);
    }
  });
});
