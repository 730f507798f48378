import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { ERRORS } from '../../src/errors/catalogue.js';

it('docs/errors.md lists every error code with its HTTP status, and nothing else', () => {
  const doc = readFileSync(join(import.meta.dirname, '../../docs/errors.md'), 'utf8');
  const rows = new Map<string, string>();
  for (const m of doc.matchAll(/^\| `(TG_ERR_[A-Z_]+)` \| ([^|]+) \|/gm))
    rows.set(m[1] as string, (m[2] as string).trim());
  assert.deepEqual([...rows.keys()].sort(), Object.keys(ERRORS).sort());
  for (const [code, spec] of Object.entries(ERRORS)) {
    assert.equal(rows.get(code), spec.statusCode === 0 ? '—' : String(spec.statusCode), code);
  }
});
