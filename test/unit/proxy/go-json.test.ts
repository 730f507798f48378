import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { GoJsonWriter, goJson, goLess, goStruct } from '../../../src/proxy/go-json.js';

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

  it('writes what a reference Marshal writes, for random values and one writer reused across shapes', () => {
    const writer = new GoJsonWriter();
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const keys = ['a', 'b', 'B', '10', '9', '0', 'é', '😀', '\uffff', 'k<&>', 'a\u2028', ''];
    const value = (depth: number): unknown => {
      switch (rnd(depth > 3 ? 4 : 6)) {
        case 0:
          return rnd(1000) - 500 + rnd(10) / 4;
        case 1:
          return ['x', '<b>', 'é', 'q"\\', '\u2029', ''][rnd(6)];
        case 2:
          return [true, false, null][rnd(3)];
        case 3:
          return 'plain';
        case 4:
          return Array.from({ length: rnd(4) }, () => value(depth + 1));
        default:
          return Object.fromEntries(Array.from({ length: rnd(6) }, () => [keys[rnd(keys.length)], value(depth + 1)]));
      }
    };
    for (let i = 0; i < 2000; i++) {
      const v = value(0);
      assert.equal(writer.write(v), reference(v));
    }
  });

  it('writes a Go struct in its own field order', () => {
    assert.equal(goJson({ z: goStruct({ b: 1, a: '<' }) }), '{"z":{"b":1,"a":"\\u003c"}}');
  });
});

/** encoding/json's Marshal of a decoded value, written the plain way: keys sorted by their UTF-8 bytes. */
function reference(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(reference).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const ks = Object.keys(v).sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    return `{${ks.map((k) => `${reference(k)}:${reference((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return (JSON.stringify(v) ?? 'null').replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
