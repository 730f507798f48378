/**
 * The import rules of docs/architecture.md, checked over every file of src/: folders form layers and
 * imports run downhill (a folder imports only from layers below it, or from itself); there are no
 * import circles; and the few imports that run uphill are listed here, each marked on its import line
 * with `// uphill: <reason>`.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(import.meta.dirname, '../..');
const SRC = join(ROOT, 'src');

/**
 * Top to bottom (the order of docs/architecture.md). A folder imports from its own folder, from the
 * layers below, and, within its layer, from the folders listed after it: the CLI runs migrate and
 * demo; the proxy fills telemetry's request record, and telemetry never reaches back into the proxy.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['cli', 'migrate', 'demo'],
  ['server'],
  ['proxy', 'telemetry'],
  ['backends', 'auth'],
  ['routing'],
  ['http'],
  ['config'],
  ['errors', 'log', 'util'],
  ['version'],
];

/** Imports that run uphill (or sideways, between two folders of one layer): at most two, each with a reason on its line. */
const UPHILL_ALLOWED: readonly string[] = [];
const MAX_UPHILL = 2;

interface Import {
  readonly from: string;
  readonly to: string;
  /** The source line holding the module specifier. */
  readonly line: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** `from '…'`, `import '…'` and `import('…')` with a relative specifier, static or type-only. */
const SPECIFIER = /(?:\bfrom\s+|\bimport\s*\(?\s*)'(\.{1,2}\/[^']+)'/g;

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const out: Import[] = [];
  for (const m of text.matchAll(SPECIFIER)) {
    const spec = (m[1] as string).replace(/\.js$/, '.ts');
    const lineNo = text.slice(0, m.index).split('\n').length - 1;
    out.push({ from: rel(file), to: rel(normalize(join(dirname(file), spec))), line: lines[lineNo] ?? '' });
  }
  return out;
}

function rel(path: string): string {
  return relative(ROOT, path).split('\\').join('/');
}

/** `src/telemetry/store/store.ts` → `telemetry`; `src/version.ts` → `version`. */
function folderOf(path: string): string {
  const parts = path.split('/');
  return parts.length === 2 ? (parts[1] as string).replace(/\.ts$/, '') : (parts[1] as string);
}

const ORDER = LAYERS.flat();

/** The folder's position from the top; an import runs downhill when its target's position is larger. */
function rankOf(path: string): number {
  const folder = folderOf(path);
  const i = ORDER.indexOf(folder);
  assert.notEqual(i, -1, `${path}: folder "${folder}" has no layer in architecture.test.ts`);
  return i;
}

function layerOf(path: string): number {
  return LAYERS.findIndex((l) => l.includes(folderOf(path)));
}

const FILES = sourceFiles(SRC).map(rel).sort();
const IMPORTS = sourceFiles(SRC).flatMap(importsOf);

function cycles(): string[][] {
  const edges = new Map<string, string[]>();
  for (const i of IMPORTS) edges.set(i.from, [...(edges.get(i.from) ?? []), i.to]);
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of edges.get(file) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (state.get(next) === undefined) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const f of FILES) if (state.get(f) === undefined) visit(f);
  return found;
}

describe('architecture', () => {
  it('finds the source files and their imports (the scan itself works)', () => {
    assert.ok(FILES.length > 100, `only ${FILES.length} files under src/`);
    assert.ok(IMPORTS.some((i) => i.from === 'src/config/load.ts' && i.to === 'src/config/validate.ts'));
    for (const i of IMPORTS) assert.ok(FILES.includes(i.to), `${i.from} imports ${i.to}, which does not exist`);
  });

  it('has no import circles', () => {
    assert.deepEqual(
      cycles().map((c) => c.join(' → ')),
      [],
    );
  });

  it('imports run downhill, except the listed few, each with its reason on the import line', () => {
    const uphill = IMPORTS.filter((i) => folderOf(i.from) !== folderOf(i.to) && rankOf(i.to) <= rankOf(i.from));
    const names = uphill.map((i) => `${i.from} -> ${i.to}`);
    assert.deepEqual([...new Set(names)].sort(), [...UPHILL_ALLOWED].sort());
    assert.ok(UPHILL_ALLOWED.length <= MAX_UPHILL, `at most ${MAX_UPHILL} uphill imports`);
    for (const i of uphill)
      assert.match(
        i.line,
        /\/\/ uphill: \S/,
        `${i.from} -> ${i.to}: give the reason as "// uphill: …" on the import line`,
      );
  });

  it('reads environment variables only in config/ (at load) and cli/', () => {
    const readers = FILES.filter(
      (f) => !['config', 'cli'].includes(folderOf(f)) && /\bprocess\.env\b/.test(readFileSync(join(ROOT, f), 'utf8')),
    );
    assert.deepEqual(readers, []);
  });

  it('config is the ground floor: nothing in config/ imports from a layer above it', () => {
    const up = IMPORTS.filter((i) => folderOf(i.from) === 'config' && layerOf(i.to) < layerOf(i.from));
    assert.deepEqual(
      up.map((i) => `${i.from} -> ${i.to}`),
      [],
    );
  });
});
