/**
 * Self-tests of the outside judges (test/helpers/judges.ts): they must accept known-good expositions and
 * reject known-bad ones, or a green metrics test would mean nothing. The tables below also pin what the
 * judges on this machine actually enforce (promtool 2.42.0, python3-prometheus-client 0.16.0), so a
 * judge upgrade that changes behaviour shows up here first rather than as a puzzling metrics failure.
 *
 * Findings for the strict OpenMetrics parser (prometheus_client.openmetrics.parser 0.16.0):
 *
 * `le` formats — every finite float spelling is accepted; only +Inf is checked for canonical form:
 *   accepted: "1", "1.0", "0.5", ".5", "0.50", "+1.0", "1e+06", "1.0e+06", "1e6", "1E6", "1048576",
 *             "1048576.0", "1e-05", "1.0e-05", "0.00001", "2.5e+00", and Python-float quirks "nan",
 *             "1_0", " 1"; negative bounds such as "-1.0" only when the histogram has no `_sum`.
 *   rejected: "+inf", "Inf", "inf", "Infinity" (positive infinity must be exactly "+Inf"), "NaN", a
 *             missing `le`, non-numbers ("abc", ""), and two spellings of the same bound in one
 *             histogram (`le="1"` then `le="1.0"` → "Buckets out of order").
 *   This follows the spec: "Parsers MUST NOT reject inputs which are outside of the canonical values";
 *   canonical rendering is an exposer SHOULD (Go %g with ".0" appended when there is no "." or exponent:
 *   0.001 0.1 1.0 10.0 100000.0 1e+06 1e-05). Prometheus 2.42 stores `le` exactly as exposed (verified
 *   in test/integration/prometheus-harness.test.ts: "1", "1.0e+06" come back verbatim), so `le="1"` and
 *   `le="1.0"` are different series; keep one spelling across both formats. (Prometheus 3.x normalises.)
 *
 * Exemplars — accepted only on counter `_total` samples and on histogram/gaugehistogram `_bucket`
 *   samples (including the `+Inf` bucket); rejected on `_created`, `_sum`, `_count`, gauges, unknown,
 *   summaries ("Invalid line only histogram/gaugehistogram buckets and counters can have exemplars").
 *   Syntax is ` # {labels} value [timestamp]` with exactly one space on each side of `#`; `{}` is allowed;
 *   the label names+values may total 128 code points (129 → "Exemplar labels are too long"). NOT checked:
 *   that the exemplar value lies within its bucket.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import {
  judgesAvailable,
  openMetricsParse,
  prometheusTextParse,
  promtoolCheckMetrics,
  skipUnlessJudge,
} from '../helpers/judges.js';
import { prometheusVersion } from '../helpers/prometheus.js';

/** Text 0.0.4: a counter named with `_total` in HELP/TYPE and a histogram with an explicit +Inf bucket. */
const VALID_TEXT = [
  '# HELP x_total Requests handled.',
  '# TYPE x_total counter',
  'x_total{route="/a",code="200"} 3',
  'x_total{route="/b \\"quoted\\" \\\\ \\n",code="500"} 1',
  '# HELP lat_seconds Request latency.',
  '# TYPE lat_seconds histogram',
  'lat_seconds_bucket{le="0.1"} 1',
  'lat_seconds_bucket{le="1"} 2',
  'lat_seconds_bucket{le="+Inf"} 3',
  'lat_seconds_sum 2.5',
  'lat_seconds_count 3',
  '',
].join('\n');

/**
 * OpenMetrics 1.0: the counter family is named without `_total` in TYPE/HELP while its sample carries it,
 * `le` uses float spelling, and both the counter and a bucket carry an exemplar.
 */
const VALID_OM = [
  '# TYPE x counter',
  '# HELP x Requests handled.',
  'x_total{route="/a"} 3 # {trace_id="abc"} 1 1.7e9',
  'x_created{route="/a"} 1.7e9',
  '# TYPE lat_seconds histogram',
  '# UNIT lat_seconds seconds',
  '# HELP lat_seconds Request latency.',
  'lat_seconds_bucket{le="0.1"} 1',
  'lat_seconds_bucket{le="1.0"} 2 # {trace_id="abc"} 0.5 1.7e9',
  'lat_seconds_bucket{le="+Inf"} 3',
  'lat_seconds_sum 2.5',
  'lat_seconds_count 3',
  '# EOF',
  '',
].join('\n');

test('judges: report what is installed', (t) => {
  const avail = judgesAvailable();
  t.diagnostic(`judges available: ${JSON.stringify(avail)}`);
  if (avail.prometheus) t.diagnostic(`prometheus ${prometheusVersion()}`);
  if (!avail.promtool && !avail.openmetrics && !avail.prometheus) t.skip('no outside judge installed');
});

// -------------------------------------------------------------------------------------------------------
// promtool
// -------------------------------------------------------------------------------------------------------

test('promtool: accepts a valid 0.0.4 exposition with exit code 0', async (t) => {
  if (skipUnlessJudge(t, 'promtool')) return;
  const r = await promtoolCheckMetrics(VALID_TEXT);
  assert.deepEqual(
    { ok: r.ok, exitCode: r.exitCode, problems: r.problems, parseError: r.parseError },
    { ok: true, exitCode: 0, problems: [], parseError: false },
    r.output,
  );
});

test('promtool: lint findings exit 3 and are split into metric + message', async (t) => {
  if (skipUnlessJudge(t, 'promtool')) return;
  const r = await promtoolCheckMetrics('# HELP x A counter.\n# TYPE x counter\nx 1\n# TYPE y_count gauge\ny_count 2\n');
  assert.equal(r.ok, false);
  assert.equal(r.exitCode, 3);
  assert.equal(r.parseError, false);
  assert.ok(
    r.lint.some((l) => l.metric === 'x' && l.message === 'counter metrics should have "_total" suffix'),
    r.output,
  );
  assert.ok(
    r.lint.some((l) => l.metric === 'y_count' && l.message === 'no help text'),
    r.output,
  );
  assert.ok(
    r.lint.some((l) => l.metric === 'y_count' && l.message.includes('should not have "_count" suffix')),
    r.output,
  );
  assert.equal(r.problems.length, r.lint.length);
});

test('promtool: parse errors exit 1 and are flagged as parseError', async (t) => {
  if (skipUnlessJudge(t, 'promtool')) return;
  const cases: [string, string, RegExp][] = [
    [
      'unterminated label value',
      '# HELP x_total c\n# TYPE x_total counter\nx_total{a="b} 1\n',
      /label value .* contains unescaped new-line/,
    ],
    [
      'second HELP for a name',
      '# HELP x_total c\n# TYPE x_total counter\nx_total 1\n# HELP x_total c\n',
      /second HELP line/,
    ],
    ['no final newline', '# HELP x_total c\n# TYPE x_total counter\nx_total 1', /unexpected end of input stream/],
    // promtool speaks only 0.0.4: an OpenMetrics exemplar is a parse error, so never feed it OM output.
    [
      'OpenMetrics exemplar',
      '# HELP x_total c\n# TYPE x_total counter\nx_total 1 # {trace_id="a"} 1\n',
      /expected integer as timestamp, got "#"/,
    ],
  ];
  for (const [name, text, re] of cases) {
    const r = await promtoolCheckMetrics(text);
    assert.equal(r.exitCode, 1, `${name}: ${r.output}`);
    assert.equal(r.parseError, true, name);
    assert.deepEqual(r.lint, [], name);
    assert.match(r.error ?? '', re, name);
  }
});

test('promtool 2.42: what it does not catch (pinned so an upgrade that tightens this is noticed)', async (t) => {
  if (skipUnlessJudge(t, 'promtool')) return;
  const lenient: [string, string][] = [
    ['duplicate series', '# HELP x_total c\n# TYPE x_total counter\nx_total{a="1"} 1\nx_total{a="1"} 2\n'],
    [
      'interleaved families',
      '# HELP x_total c\n# TYPE x_total counter\nx_total{a="1"} 1\n# HELP y c\n# TYPE y gauge\ny 1\nx_total{a="2"} 2\n',
    ],
    [
      'histogram without +Inf, le descending',
      '# HELP h c\n# TYPE h histogram\nh_bucket{le="2"} 1\nh_bucket{le="1"} 1\nh_sum 3\nh_count 2\n',
    ],
  ];
  for (const [name, text] of lenient) {
    const r = await promtoolCheckMetrics(text);
    assert.equal(r.exitCode, 0, `${name} is expected to pass promtool 2.42: ${r.output}`);
  }
});

// -------------------------------------------------------------------------------------------------------
// Python text 0.0.4 parser
// -------------------------------------------------------------------------------------------------------

test('text parser: accepts the valid 0.0.4 exposition and reads it back', async (t) => {
  if (skipUnlessJudge(t, 'openmetrics')) return;
  const r = await prometheusTextParse(VALID_TEXT);
  assert.equal(r.ok, true, r.error);
  assert.equal(r.families, 2);
  const counter = r.parsed?.find((f) => f.name === 'x');
  assert.equal(counter?.type, 'counter'); // the parser strips _total from the family name
  assert.deepEqual(counter?.samples[1]?.labels, { route: '/b "quoted" \\ \n', code: '500' });
  const hist = r.parsed?.find((f) => f.name === 'lat_seconds');
  assert.deepEqual(
    hist?.samples.map((s) => [s.name, s.labels['le'] ?? '', s.value]),
    [
      ['lat_seconds_bucket', '0.1', 1],
      ['lat_seconds_bucket', '1', 2],
      ['lat_seconds_bucket', '+Inf', 3],
      ['lat_seconds_sum', '', 2.5],
      ['lat_seconds_count', '', 3],
    ],
  );
});

test('text parser: rejects bad escaping, bad names, bad values and OpenMetrics exemplars', async (t) => {
  if (skipUnlessJudge(t, 'openmetrics')) return;
  const bad: [string, string][] = [
    ['unterminated label value', 'x{a="b} 1\n'],
    ['unescaped quote in label value', 'x{a="b"c"} 1\n'],
    ['dash in metric name', 'x-y 1\n'],
    ['non-numeric value', 'x abc\n'],
    ['exemplar', '# TYPE x_total counter\nx_total 1 # {a="b"} 1\n'],
  ];
  const results = await Promise.all(bad.map(([, text]) => prometheusTextParse(text)));
  bad.forEach(([name], i) => assert.equal(results[i]?.ok, false, `${name} should be rejected`));
});

// -------------------------------------------------------------------------------------------------------
// Strict OpenMetrics parser
// -------------------------------------------------------------------------------------------------------

test('OpenMetrics parser: accepts a valid exposition with exemplars and reads them back', async (t) => {
  if (skipUnlessJudge(t, 'openmetrics')) return;
  const r = await openMetricsParse(VALID_OM);
  assert.equal(r.ok, true, r.error);
  assert.equal(r.families, 2);
  const counter = r.parsed?.find((f) => f.name === 'x');
  assert.equal(counter?.type, 'counter');
  assert.deepEqual(counter?.samples[0]?.exemplar, { labels: { trace_id: 'abc' }, value: 1, timestamp: 1.7e9 });
  const hist = r.parsed?.find((f) => f.name === 'lat_seconds');
  assert.equal(hist?.unit, 'seconds');
  const bucket = hist?.samples.find((s) => s.labels['le'] === '1.0');
  assert.deepEqual(bucket?.exemplar, { labels: { trace_id: 'abc' }, value: 0.5, timestamp: 1.7e9 });
});

async function omVerdicts(cases: readonly (readonly [string, string])[]): Promise<Map<string, string | true>> {
  const results = await Promise.all(cases.map(([, text]) => openMetricsParse(text)));
  return new Map(cases.map(([name], i) => [name, results[i]?.ok === true ? true : (results[i]?.error ?? 'no result')]));
}

/** Asserts every case's verdict, reporting all mismatches at once. */
function assertVerdicts(verdicts: Map<string, string | true>, expectOk: Set<string>): void {
  const wrong = [...verdicts]
    .filter(([name, v]) => (v === true) !== expectOk.has(name))
    .map(
      ([name, v]) => `${name}: expected ${expectOk.has(name) ? 'accept' : 'reject'}, got ${v === true ? 'accept' : v}`,
    );
  assert.deepEqual(wrong, []);
}

test('OpenMetrics parser: rejects missing # EOF, bad escaping and other structural errors', async (t) => {
  if (skipUnlessJudge(t, 'openmetrics')) return;
  const C = '# TYPE x counter\n';
  const H = '# TYPE h histogram\n';
  const cases: [string, string, RegExp][] = [
    ['missing # EOF', C + 'x_total 1\n', /Missing # EOF at end/],
    ['line after # EOF', C + 'x_total 1\n# EOF\n\n', /Received line after # EOF/],
    ['blank line', C + '\nx_total 1\n# EOF\n', /Received blank line/],
    ['CRLF line endings', C.replace('\n', '\r\n') + 'x_total 1\r\n# EOF\r\n', /Invalid/],
    ['unescaped quote in label value', C + 'x_total{a="q"b"} 1\n# EOF\n', /Invalid labels/],
    ['raw newline in label value', C + 'x_total{a="q\nb"} 1\n# EOF\n', /Error|substring not found/],
    ['label list trailing comma', C + 'x_total{a="b",} 1\n# EOF\n', /Invalid labels/],
    [
      '0.0.4 counter naming (TYPE x_total, sample x_total)',
      '# TYPE x_total counter\nx_total 1\n# EOF\n',
      /Clashing name: x_total/,
    ],
    ['counter sample without _total', C + 'x 1\n# EOF\n', /Clashing name: x/],
    ['comment line', '# just a comment\n' + C + 'x_total 1\n# EOF\n', /Invalid line/],
    ['TYPE untyped', '# TYPE u untyped\nu 1\n# EOF\n', /Invalid TYPE/],
    ['metadata after samples', C + 'x_total 1\n# HELP x h\n# EOF\n', /Received metadata after samples/],
    ['interleaved families', C + 'x_total{a="1"} 1\n# TYPE g gauge\ng 1\nx_total{a="2"} 1\n# EOF\n', /Clashing name/],
    [
      'interleaved metrics',
      H +
        'h_bucket{a="1",le="+Inf"} 1\nh_bucket{a="2",le="+Inf"} 1\nh_count{a="1"} 1\nh_sum{a="1"} 1\nh_count{a="2"} 1\nh_sum{a="2"} 1\n# EOF\n',
      /Invalid metric grouping/,
    ],
    [
      'gauge x_created next to counter x',
      C + 'x_total 1\n# TYPE x_created gauge\nx_created 1\n# EOF\n',
      /Clashing name: x_created/,
    ],
    ['histogram without +Inf', H + 'h_bucket{le="1.0"} 1\nh_sum 1\nh_count 1\n# EOF\n', /\+Inf bucket missing/],
    ['histogram count != +Inf', H + 'h_bucket{le="+Inf"} 1\nh_sum 1\nh_count 2\n# EOF\n', /Count does not match/],
    [
      'histogram le descending',
      H + 'h_bucket{le="2.0"} 1\nh_bucket{le="1.0"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n# EOF\n',
      /Buckets out of order/,
    ],
    [
      'histogram buckets decreasing',
      H + 'h_bucket{le="1.0"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n# EOF\n',
      /Bucket values out of order/,
    ],
    ['histogram fractional bucket', H + 'h_bucket{le="+Inf"} 1.5\nh_sum 1\nh_count 1.5\n# EOF\n', /must be an integer/],
    ['histogram _count without _sum', H + 'h_bucket{le="+Inf"} 1\nh_count 1\n# EOF\n', /_sum\/_gsum must be present/],
    [
      'UNIT not a suffix of the name',
      '# TYPE x_seconds counter\n# UNIT x_seconds milliseconds\nx_seconds_total 1\n# EOF\n',
      /Unit does not match/,
    ],
    ['negative counter', C + 'x_total -1\n# EOF\n', /cannot be negative/],
    ['NaN counter', C + 'x_total NaN\n# EOF\n', /cannot be NaN/],
    ['underscore in value', C + 'x_total 1_0\n# EOF\n', /Invalid value/],
    ['trailing space', C + 'x_total 1 \n# EOF\n', /Invalid line/],
    ['bad metric name', 'x-y 1\n# EOF\n', /Invalid metric name/],
    ['bad label name', C + 'x_total{1a="b"} 1\n# EOF\n', /Invalid labels/],
  ];
  const verdicts = await omVerdicts(cases.map(([n, text]) => [n, text] as const));
  assertVerdicts(verdicts, new Set());
  for (const [name, , re] of cases) assert.match(String(verdicts.get(name)), re, name);
});

test('OpenMetrics parser: leniencies of prometheus_client 0.16 (pinned; do not rely on it for these)', async (t) => {
  if (skipUnlessJudge(t, 'openmetrics')) return;
  const C = '# TYPE x counter\n';
  const verdicts = await omVerdicts([
    ['# EOF without final newline', C + 'x_total 1\n# EOF'],
    ['empty exposition', '# EOF\n'],
    ['duplicate sample', C + 'x_total{a="1"} 1\nx_total{a="1"} 2\n# EOF\n'],
    ['undefined escape \\a (allowed by the ABNF)', C + 'x_total{a="q\\a"} 1\n# EOF\n'],
    ['label value ending in \\" (no exemplar on the line)', C + 'x_total{a="q\\"} 1\n# EOF\n'],
    [
      'exemplar value outside its bucket',
      '# TYPE h histogram\nh_bucket{le="1.0"} 1 # {trace_id="a"} 50\nh_bucket{le="+Inf"} 1\nh_sum 0.5\nh_count 1\n# EOF\n',
    ],
    ['gauge named *_total', '# TYPE y_total gauge\ny_total 1\n# EOF\n'],
    ['millisecond integer timestamp', C + 'x_total 1 1700000000000\n# EOF\n'],
  ]);
  assertVerdicts(verdicts, new Set(verdicts.keys()));
});

test('OpenMetrics parser: accepted le spellings (only +Inf must be canonical)', async (t) => {
  if (skipUnlessJudge(t, 'openmetrics')) return;
  const hist = (le: string, withSum = true): string =>
    `# TYPE h histogram\nh_bucket{le="${le}"} 0\nh_bucket{le="+Inf"} 1\n${withSum ? 'h_sum 1\nh_count 1\n' : ''}# EOF\n`;
  const accepted = [
    '1',
    '1.0',
    '0.5',
    '.5',
    '0.50',
    '+1.0',
    '1e+06',
    '1.0e+06',
    '1e6',
    '1E6',
    '1048576',
    '1048576.0',
    '1e-05',
    '1.0e-05',
    '0.00001',
    '2.5e+00',
    'nan',
    '1_0',
    ' 1',
  ];
  const rejected = ['+inf', 'Inf', 'inf', 'Infinity', 'NaN', 'abc', '', '-1.0' /* with _sum */];
  const cases: [string, string][] = [
    ...accepted.map((le): [string, string] => [`le="${le}"`, hist(le)]),
    ...rejected.map((le): [string, string] => [`le="${le}"`, hist(le)]),
    ['le="-1.0" without _sum', hist('-1.0', false)],
    ['le="+Inf" alone', '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n# EOF\n'],
    ['missing le', '# TYPE h histogram\nh_bucket 0\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n# EOF\n'],
    [
      'le="1" and le="1.0" in one histogram',
      '# TYPE h histogram\nh_bucket{le="1"} 0\nh_bucket{le="1.0"} 0\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n# EOF\n',
    ],
  ];
  const verdicts = await omVerdicts(cases);
  assertVerdicts(
    verdicts,
    new Set([...accepted.map((le) => `le="${le}"`), 'le="-1.0" without _sum', 'le="+Inf" alone']),
  );
});

test('OpenMetrics parser: exemplars only on counter _total and histogram/gaugehistogram _bucket', async (t) => {
  if (skipUnlessJudge(t, 'openmetrics')) return;
  const C = '# TYPE x counter\n';
  const H = '# TYPE h histogram\n';
  const ex = ' # {trace_id="abc"} 0.5';
  const verdicts = await omVerdicts([
    ['counter _total', C + `x_total 1${ex} 1.7e9\n# EOF\n`],
    ['counter _total, no exemplar timestamp', C + `x_total 1${ex}\n# EOF\n`],
    ['counter _total, empty exemplar labels', C + 'x_total 1 # {} 0.5\n# EOF\n'],
    ['counter _total with sample timestamp too', C + `x_total 1 1.7e9${ex} 1.7e9\n# EOF\n`],
    ['histogram bucket', H + `h_bucket{le="1.0"} 1${ex}\nh_bucket{le="+Inf"} 1\nh_sum 0.5\nh_count 1\n# EOF\n`],
    [
      'histogram +Inf bucket',
      H + `h_bucket{le="1.0"} 0\nh_bucket{le="+Inf"} 1 # {trace_id="abc"} 5\nh_sum 5\nh_count 1\n# EOF\n`,
    ],
    ['gaugehistogram bucket', `# TYPE g gaugehistogram\ng_bucket{le="+Inf"} 1${ex}\ng_gcount 1\ng_gsum 0.5\n# EOF\n`],
    ['exemplar labels = 128 code points', C + `x_total 1 # {trace_id="${'é'.repeat(120)}"} 1\n# EOF\n`],
    // rejected placements
    ['counter _created', C + `x_total 1\nx_created 1.7e9${ex}\n# EOF\n`],
    ['histogram _sum', H + `h_bucket{le="+Inf"} 1\nh_sum 0.5${ex}\nh_count 1\n# EOF\n`],
    ['histogram _count', H + `h_bucket{le="+Inf"} 1\nh_sum 0.5\nh_count 1${ex}\n# EOF\n`],
    ['gauge', `# TYPE g gauge\ng 1${ex}\n# EOF\n`],
    ['unknown (untyped sample)', `u 1${ex}\n# EOF\n`],
    ['summary _count', `# TYPE s summary\ns_count 1${ex}\ns_sum 1\n# EOF\n`],
    ['exemplar labels = 129 code points', C + `x_total 1 # {trace_id="${'a'.repeat(121)}"} 1\n# EOF\n`],
    ['no space after #', C + 'x_total 1 #{trace_id="abc"} 1\n# EOF\n'],
  ]);
  assertVerdicts(
    verdicts,
    new Set([
      'counter _total',
      'counter _total, no exemplar timestamp',
      'counter _total, empty exemplar labels',
      'counter _total with sample timestamp too',
      'histogram bucket',
      'histogram +Inf bucket',
      'gaugehistogram bucket',
      'exemplar labels = 128 code points',
    ]),
  );
  assert.match(String(verdicts.get('gauge')), /only histogram\/gaugehistogram buckets and counters can have exemplars/);
  assert.match(String(verdicts.get('exemplar labels = 129 code points')), /Exemplar labels are too long/);
});

test('judges disagree by design: promtool rejects OpenMetrics exemplars, the OM parser rejects 0.0.4 text', async (t) => {
  if (skipUnlessJudge(t, 'promtool', 'openmetrics')) return;
  const [prom, om] = await Promise.all([promtoolCheckMetrics(VALID_OM), openMetricsParse(VALID_TEXT)]);
  assert.equal(prom.parseError, true, prom.output);
  assert.equal(om.ok, false);
  assert.match(om.error ?? '', /Clashing name: x_total|Missing # EOF/);
});
