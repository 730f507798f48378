import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { goJson, goLess } from '../../../src/proxy/go-json.js';

describe('goJson', () => {
  it("escapes <, >, &, U+2028 and U+2029 as Go's json.Marshal does", () => {
    const out = goJson({ html: '<a href="x?a=1&b=2">\u2028\u2029</a>' });
    assert.equal(out, '{"html":"\\u003ca href=\\"x?a=1\\u0026b=2\\"\\u003e\\u2028\\u2029\\u003c/a\\u003e"}');
    assert.deepEqual(JSON.parse(out), { html: '<a href="x?a=1&b=2">\u2028\u2029</a>' });
  });
  it('writes already sorted values exactly as JSON.stringify does', () => {
    const v = { a: [1, { b: 'x', c: null }], d: { e: true }, f: 'é' };
    assert.equal(goJson(v), JSON.stringify(v));
    assert.equal(goJson([]), '[]');
    assert.equal(goJson({}), '{}');
  });

  it('sorts keys by bytes at every depth, integer-like keys included', () => {
    assert.equal(goJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: 2 } }), '{"a":{"c":2,"d":[{"y":2,"z":1}]},"b":1}');
    assert.equal(goJson({ '9': 1, '10': 2, a: 3 }), '{"10":2,"9":1,"a":3}');
    assert.equal(goJson({ 'k"': 1, a: undefined, '\n': 2 }), '{"\\n":2,"k\\"":1}');
  });

  it('orders astral characters after U+E000-U+FFFF, as UTF-8 bytes do', () => {
    assert.ok(goLess('\uffff', '😀'));
    assert.ok(!goLess('😀', '\uffff'));
    assert.ok(goLess('a', 'ab'));
    assert.ok(goLess('B', 'a'));
    assert.equal(goJson({ '😀': 1, '\uffff': 2 }), '{"\uffff":2,"😀":1}');
  });
});
