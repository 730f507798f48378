/**
 * Both renderers under random stores: families of every type with random HELP texts, buckets,
 * values (NaN, ±Inf, huge, tiny), exemplars, and label names and values drawn from hostile
 * characters (quotes, backslashes, newlines, CR, tabs, NUL, lone surrogates, non-BMP). Every rendering
 * must have one line per sample; a subset goes to promtool and the strict OpenMetrics parser, which
 * must parse it and give back the label values we bound.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { renderOpenMetrics } from '../../src/telemetry/exposition/openmetrics.js';
import { renderPrometheusText } from '../../src/telemetry/exposition/prometheus-text.js';
import { sanitizeName } from '../../src/config/label-name.js';
import { MetricStore } from '../../src/telemetry/store/store.js';
import { judgesAvailable, openMetricsParse, promtoolCheckMetrics, skipUnlessJudge } from '../helpers/judges.js';
import { title } from './cases.js';
import { prng } from './support.js';

const SEED = Number(process.env.TOLLGATE_FUZZ_SEED ?? 0x7011);
const STORES = 300;
const JUDGED = 20;
const HOSTILE = [
  '"',
  '\\',
  '\n',
  '\r',
  '\t',
  '\u0000',
  '\ud800',
  '\udfff',
  '\u2028',
  'é',
  '😀',
  '{',
  '}',
  '=',
  ',',
  ' ',
  '#',
  'le',
  '\\n',
  '\\"',
];
const NAME_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-/: ';

interface Bound {
  readonly family: string;
  readonly labels: Record<string, string>;
}

function randomStore(rnd: () => number): { store: MetricStore; bound: Bound[] } {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
  const text = (n: number, chars: readonly string[]): string =>
    Array.from({ length: Math.floor(rnd() * n) }, () => pick(chars)).join('');
  const store = new MetricStore();
  const bound: Bound[] = [];
  const families = 1 + Math.floor(rnd() * 20);
  for (let f = 0; f < families; f++) {
    const type = pick(['counter', 'gauge', 'histogram'] as const);
    const unit = rnd() < 0.3 ? 'seconds' : undefined;
    const name = `fz${f}_${text(6, [...'abcxyz_'])}x${unit === undefined ? '' : '_seconds'}`;
    const help = text(30, [...HOSTILE, 'a', 'b', ' ']);
    let bounds: number[] = [];
    for (let b = 0, v = rnd() * 1e-3; b < Math.floor(rnd() * 8); b++) bounds.push((v *= 1 + rnd() * 1e3));
    bounds = [...new Set(bounds)].filter(Number.isFinite);
    const options = { name, help, ...(unit === undefined ? {} : { unit }) };
    const family =
      type === 'counter'
        ? store.counter('fz', options)
        : type === 'gauge'
          ? store.gauge('fz', options)
          : store.histogram('fz', { ...options, buckets: bounds.length > 0 ? bounds : [1] });
    for (let s = 0; s < 1 + Math.floor(rnd() * 4); s++) {
      const pairs: [string, string][] = [];
      for (let l = 0; l < Math.floor(rnd() * 4); l++) {
        // Names that sanitize to `le` or `__…` are refused by the config (labels-reserved-names).
        const key = `k${text(5, [...NAME_CHARS])}`;
        if (sanitizeName(key).startsWith('__')) continue;
        pairs.push([key, text(12, [...HOSTILE, 'v'])]);
      }
      const cell = family.bind(pairs);
      const labels: Record<string, string> = {};
      for (const [k, v] of pairs) labels[sanitizeName(k)] = v.toWellFormed();
      bound.push({ family: name, labels });
      const value = pick([
        0,
        1,
        2.5,
        1e-300,
        1e300,
        123456789.123,
        Number.MAX_SAFE_INTEGER,
        NaN,
        Infinity,
        -Infinity,
        -3,
      ]);
      if ('observe' in cell) {
        for (let o = 0; o < 1 + Math.floor(rnd() * 5); o++) {
          const v = pick([0, 1e-9, 0.5, 3, 1e12, rnd() * 10]);
          if (rnd() < 0.3) cell.observeWithExemplar(v, 'a'.repeat(32), 'b'.repeat(16), 1_700_000_000_000 + o);
          else cell.observe(v);
        }
      } else if ('set' in cell) cell.set(value);
      // Counters only go up: OpenMetrics rejects a negative or NaN counter, and so do the views.
      else cell.add(Number.isNaN(value) || value < 0 ? 1 : value);
    }
  }
  return { store, bound };
}

describe('exposition fuzzing', () => {
  it(title('fuzz-exposition'), async (t) => {
    const rnd = prng(SEED);
    const judge = !skipUnlessJudge(t, 'promtool', 'openmetrics');
    let series = 0;
    let judged = 0;
    for (let i = 0; i < STORES; i++) {
      const { store, bound } = randomStore(rnd);
      const snapshot = store.snapshot(undefined, 1_700_000_000_000);
      const text = renderPrometheusText(snapshot);
      const om = renderOpenMetrics(snapshot);
      series += bound.length;
      assert.ok(om.endsWith('# EOF\n'), `store ${i}: OpenMetrics ends with # EOF`);
      // One line per sample, whatever the values hold: a raw newline or CR in a label would add one.
      const expected = snapshot.families.reduce(
        (n, f) => n + f.series.length * (f.type === 'histogram' ? f.bounds.length + 3 : 1),
        0,
      );
      assert.equal(
        text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length,
        expected,
        `store ${i}: sample lines`,
      );
      assert.equal(
        om.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length,
        expected,
        `store ${i}: OpenMetrics sample lines`,
      );
      if (!judge || i >= JUDGED) continue;
      judged++;
      const prom = await promtoolCheckMetrics(text);
      assert.ok(!prom.parseError, `seed ${SEED} store ${i}: promtool: ${prom.output}\n${text}`);
      const parsed = await openMetricsParse(om);
      assert.ok(parsed.ok, `seed ${SEED} store ${i}: OpenMetrics parser: ${parsed.error ?? ''}\n${om}`);
      // The parser gives back exactly the label values that were bound.
      const seen = new Set(
        (parsed.parsed ?? []).flatMap((f) => f.samples.map((s) => JSON.stringify(withoutLe(s.labels)))),
      );
      for (const b of bound)
        assert.ok(
          seen.has(JSON.stringify(sorted(b.labels))),
          `seed ${SEED} store ${i}: ${JSON.stringify(b.labels)} not read back`,
        );
    }
    t.diagnostic(
      `${STORES} random stores, ${series} series; ${judged} judged by promtool and the OpenMetrics parser${judgesAvailable().openmetrics ? '' : ' (judges missing)'}`,
    );
  });
});

function sorted(labels: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function withoutLe(labels: Readonly<Record<string, string>>): Record<string, string> {
  return sorted(Object.fromEntries(Object.entries(labels).filter(([k]) => k !== 'le')));
}
