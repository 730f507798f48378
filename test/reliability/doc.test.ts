/**
 * Keeps docs/reliability.md, the case registry and the suite in step (as test/unit/errors-doc.test.ts
 * does for docs/errors.md): every registered case is tried by a test and has a row in the doc, and
 * neither the tests nor the doc name a case the registry does not know.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { CASES } from './cases.js';

const registry = Object.keys(CASES).sort();

/** Case ids the test files use: `title('id')`, and faults.test.ts's `both('<fault>', …)` pairs. */
function usedIds(): string[] {
  const ids = new Set<string>();
  for (const file of readdirSync(import.meta.dirname).filter((f) => f.endsWith('.test.ts') && f !== 'doc.test.ts')) {
    const source = readFileSync(join(import.meta.dirname, file), 'utf8');
    for (const m of source.matchAll(/title\('([a-z0-9-]+)'\)/g)) ids.add(m[1] as string);
    for (const m of source.matchAll(/\[\s*'([a-z0-9-]+)',\s*\d{3},/g)) ids.add(m[1] as string);
    for (const m of source.matchAll(/\bboth\(\s*'([a-z0-9-]+)'/g))
      for (const enc of ['noop', 'json']) ids.add(`fault-${m[1] as string}-${enc}`);
  }
  return [...ids].sort();
}

it('every registered reliability case is tried by a test, and tests try only registered cases', () => {
  assert.deepEqual(usedIds(), registry);
});

it('docs/reliability.md has one row per registered case, and no other', () => {
  const doc = readFileSync(join(import.meta.dirname, '../../docs/reliability.md'), 'utf8');
  const rows = [...doc.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1] as string);
  assert.equal(new Set(rows).size, rows.length, 'a case has two rows');
  assert.deepEqual([...rows].sort(), registry);
});
