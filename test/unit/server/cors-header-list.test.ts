/** rs/cors v1.11.1's check of a preflight's requested headers (internal/sortedset.go Accepts), case by case. */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { CorsHeaderList } from '../../../src/server/stages/cors-header-list.js';

const list = new CorsHeaderList(['authorization', 'content-type', 'x-b']);

describe('CorsHeaderList (rs/cors SortedSet.Accepts)', () => {
  it('accepts allowed names sorted and unique, across repeated fields', () => {
    assert.ok(list.accepts(['authorization']));
    assert.ok(list.accepts(['authorization,content-type,x-b']));
    assert.ok(list.accepts(['authorization', 'content-type']));
    assert.ok(list.accepts(['']), 'an empty value asks for nothing');
    assert.ok(list.accepts([]));
  });

  it('refuses unknown names, capitals, repeats and names out of order', () => {
    assert.ok(!list.accepts(['x-c']));
    assert.ok(!list.accepts(['Authorization']));
    assert.ok(!list.accepts(['authorization,authorization']));
    assert.ok(!list.accepts(['content-type,authorization']));
    assert.ok(!list.accepts(['content-type', 'authorization']));
  });

  it('tolerates one space or tab around a name, and up to 16 empty elements', () => {
    assert.ok(list.accepts(['authorization, content-type']));
    assert.ok(list.accepts(['\tauthorization ,content-type']));
    assert.ok(!list.accepts(['authorization,  content-type']));
    assert.ok(!list.accepts(['authorization  ,content-type']));
    assert.ok(list.accepts(['  ', 'authorization']), 'two spaces alone are one empty element');
    assert.ok(list.accepts([`${','.repeat(15)}authorization`]));
    assert.ok(!list.accepts([`${','.repeat(17)}authorization`]));
  });

  it('looks for a comma only within the longest allowed name, so a long name is refused whole', () => {
    assert.ok(!list.accepts([`${'a'.repeat(100)},authorization`]));
    assert.ok(!list.accepts(['x'.repeat(100_000)]));
  });

  it('allows nothing when built from no names', () => {
    assert.ok(!new CorsHeaderList([]).accepts(['a']));
    assert.ok(new CorsHeaderList([]).accepts(['']));
  });
});
