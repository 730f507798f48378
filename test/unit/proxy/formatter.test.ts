import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import type { BackendConfig } from '../../../src/config/types.js';
import { compileFormatter } from '../../../src/proxy/formatter.js';
import { decodeBody } from '../../../src/proxy/decode.js';

function backend(over: Partial<BackendConfig>): BackendConfig {
  return {
    index: 0,
    hosts: ['http://h'],
    urlPattern: '/',
    method: 'GET',
    encoding: 'json',
    group: undefined,
    target: undefined,
    mapping: {},
    allow: [],
    deny: [],
    isCollection: false,
    inputHeaders: undefined,
    inputQueryStrings: undefined,
    otel: undefined,
    health: undefined,
    errorReturn: { code: false, detailsName: undefined },
    followRedirects: true,
    extraConfig: {},
    ...over,
  };
}

const sample = () => ({
  data: {
    user: { id: 1, name: 'ada', secret: 's' },
    items: [
      { a: 1, b: 2 },
      { a: 3, b: 4 },
    ],
  },
  meta: { page: 1 },
});

it('extracts target before anything else, and an absent or non-object target gives {}', () => {
  assert.deepEqual(compileFormatter(backend({ target: 'data.user' }))(sample()), { id: 1, name: 'ada', secret: 's' });
  assert.deepEqual(compileFormatter(backend({ target: 'data.missing' }))(sample()), {});
  assert.deepEqual(compileFormatter(backend({ target: 'data.items' }))(sample()), {});
});

it('allow keeps only listed (nested, through arrays) fields; deny wins only without allow', () => {
  const allow = compileFormatter(backend({ allow: ['data.user.name', 'data.items.a', 'missing'] }))(sample());
  assert.deepEqual(allow, { data: { user: { name: 'ada' }, items: [{ a: 1 }, { a: 3 }] } });
  const deny = compileFormatter(backend({ deny: ['data.user.secret', 'data.items.b', 'meta'] }))(sample());
  assert.deepEqual(deny, { data: { user: { id: 1, name: 'ada' }, items: [{ a: 1 }, { a: 3 }] } });
  const both = compileFormatter(backend({ allow: ['meta'], deny: ['meta'] }))(sample());
  assert.deepEqual(both, { meta: { page: 1 } });
});

it('applies target → allow → mapping → group, in lura order', () => {
  const f = compileFormatter(
    backend({ target: 'data.user', allow: ['id', 'name'], mapping: { name: 'full_name', id: 'id' }, group: 'person' }),
  );
  assert.deepEqual(f(sample()), { person: { id: 1, full_name: 'ada' } });
});

it('decodes per encoding: collections, safejson, string, and rejects bare arrays in json', () => {
  assert.deepEqual(decodeBody('[1,2]', 'json', true), { collection: [1, 2] });
  assert.throws(() => decodeBody('[1,2]', 'json', false), /is_collection/);
  assert.deepEqual(decodeBody('[1]', 'safejson', false), { collection: [1] });
  assert.deepEqual(decodeBody('7', 'safejson', false), { content: 7 });
  assert.deepEqual(decodeBody('<a/>', 'string', false), { content: '<a/>' });
  assert.deepEqual(decodeBody('', 'json', false), {});
  assert.throws(
    () => decodeBody('{nope', 'json', false),
    (e: unknown) => (e as { code?: string }).code === 'TG_ERR_BACKEND_DECODE',
  );
});
