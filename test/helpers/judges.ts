/**
 * Outside judges of our metrics exposition: parsers we did not write.
 *
 * - `promtool check metrics` (Go, Prometheus 2.42.0 here): the Prometheus text 0.0.4 parser plus promlint.
 * - `prometheus_client.openmetrics.parser` (Python client 0.16.0, Debian python3-prometheus-client): the
 *   strict OpenMetrics 1.0 reference parser.
 * - `prometheus_client.parser`: the Python 0.0.4 text parser (lenient; weaker than promtool, see below).
 *
 * Each judge runs as a child process and gets the exposition on stdin, exactly as the gateway serves it.
 * Tests call `judgesAvailable()` / `skipUnlessJudge()` first so a missing judge is a visible skip.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';
import { findBinary, findPrometheus, parsePromFloat } from './prometheus.js';

/**
 * The Debian interpreter that sees /usr/lib/python3/dist-packages. `python3` on PATH is a pyenv build
 * without prometheus_client, so we never use PATH here. Override with TOLLGATE_JUDGE_PYTHON.
 */
export const JUDGE_PYTHON = process.env['TOLLGATE_JUDGE_PYTHON'] ?? '/usr/bin/python3';

const JUDGE_TIMEOUT_MS = 15_000;

interface ProcResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runWithStdin(cmd: string, args: readonly string[], input: string): Promise<ProcResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (stdout += d));
    child.stderr.on('data', (d: string) => (stderr += d));
    // A judge that rejects early may close stdin before we finish writing; that is a verdict, not an error.
    child.stdin.on('error', () => undefined);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} did not finish within ${JUDGE_TIMEOUT_MS} ms`));
    }, JUDGE_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // Bytes, not a JS string re-encoded by a locale: the exposition is UTF-8 on the wire.
    child.stdin.end(Buffer.from(input, 'utf8'));
  });
}

// ---------------------------------------------------------------------------------------------------------
// Availability
// ---------------------------------------------------------------------------------------------------------

export interface JudgesAvailable {
  readonly promtool: boolean;
  readonly openmetrics: boolean;
  readonly prometheus: boolean;
}

let cachedAvailability: JudgesAvailable | undefined;

export function judgesAvailable(): JudgesAvailable {
  if (cachedAvailability !== undefined) return cachedAvailability;
  const py = spawnSync(
    JUDGE_PYTHON,
    ['-I', '-c', 'import prometheus_client.openmetrics.parser, prometheus_client.parser'],
    { stdio: 'ignore', timeout: JUDGE_TIMEOUT_MS },
  );
  cachedAvailability = {
    promtool: findBinary('promtool') !== undefined,
    openmetrics: py.status === 0,
    prometheus: findPrometheus() !== undefined,
  };
  return cachedAvailability;
}

const INSTALL_HINT: Record<keyof JudgesAvailable, string> = {
  promtool: 'promtool not found (apt-get install prometheus)',
  prometheus: 'prometheus server binary not found (apt-get install prometheus)',
  openmetrics: `${JUDGE_PYTHON} cannot import prometheus_client (apt-get install python3-prometheus-client)`,
};

/** `if (skipUnlessJudge(t, 'promtool')) return;` — marks the test skipped with the reason when missing. */
export function skipUnlessJudge(t: TestContext, ...judges: (keyof JudgesAvailable)[]): boolean {
  const avail = judgesAvailable();
  const missing = judges.filter((j) => !avail[j]);
  if (missing.length === 0) return false;
  t.skip(missing.map((j) => INSTALL_HINT[j]).join('; '));
  return true;
}

// ---------------------------------------------------------------------------------------------------------
// promtool check metrics
// ---------------------------------------------------------------------------------------------------------

export interface PromtoolLintProblem {
  readonly metric: string;
  readonly message: string;
}

export interface PromtoolResult {
  /** Exit code 0: parsed and no lint problems. */
  readonly ok: boolean;
  readonly exitCode: number | null;
  /** stdout + stderr as printed. */
  readonly output: string;
  /** Every non-empty output line (lint lines and the parse error line). */
  readonly problems: string[];
  /** Lint problems split into metric name and message (only when the text parsed). */
  readonly lint: PromtoolLintProblem[];
  /** True when the text did not parse (exit 1, "error while linting: text format parsing error …"). */
  readonly parseError: boolean;
  /** The parse error message without the "error while linting: " prefix. */
  readonly error?: string;
}

/**
 * `promtool check metrics < text`. Behaviour of promtool 2.42.0 (checked on this machine):
 *
 * - exit 0, no output: parsed, no lint findings. An empty input is also exit 0.
 * - exit 3 (lint): one line per finding on **stderr**, "<metric> <message>", e.g.
 *     `x counter metrics should have "_total" suffix`, `x no help text`,
 *     `x_count non-histogram and non-summary metrics should not have "_count" suffix`,
 *     `x_total non-histogram metrics should not have "le" label`,
 *     `y_milliseconds use base unit "seconds" instead of "milliseconds"`,
 *     `CamelCase metric names should be written in 'snake_case' not 'camelCase'`.
 *   Suffix/unit rules only look at typed families: an untyped `y_count 2` gets just "no help text".
 *   Every lint finding makes the exit code 3 — there is no warning-only level — so `ok` means "parses and
 *   lint-clean"; use `parseError`/`lint` to tell the two failure kinds apart.
 * - exit 1 (parse error): a single stderr line "error while linting: text format parsing error in line N:
 *   …" and no lint output. Examples: unescaped newline in a label value, a second HELP/TYPE for a name,
 *   a missing final newline ("unexpected end of input stream"), and OpenMetrics exemplars
 *   (`x_total 1 # {…} 1` → "expected integer as timestamp, got \"#\"") — feed promtool the 0.0.4 rendering.
 * - NOT detected by promtool 2.42: duplicate series (same name + labels twice), interleaved families
 *   (samples of a family after another family, without a second TYPE line), histograms without the
 *   `le="+Inf"` bucket or with descending `le`. `# EOF` is just a comment to it, so an OpenMetrics text
 *   without exemplars usually "parses", but the OM counter layout (`# TYPE x counter` + `x_total`) is
 *   reported as `x_total no help text` (x_total becomes an untyped family of its own).
 */
export async function promtoolCheckMetrics(text: string, opts: { extended?: boolean } = {}): Promise<PromtoolResult> {
  const bin = findBinary('promtool');
  if (bin === undefined) throw new Error(INSTALL_HINT.promtool);
  const r = await runWithStdin(bin, ['check', 'metrics', ...(opts.extended === true ? ['--extended'] : [])], text);
  const output = r.stdout + r.stderr;
  // --extended prints its cardinality table on stdout; findings and errors are always on stderr.
  const problems = r.stderr.split('\n').filter((l) => l.trim() !== '');
  const errLine = problems.find((l) => l.startsWith('error while linting:'));
  const parseError = errLine !== undefined || r.code === 1;
  const lint = parseError
    ? []
    : problems.map((l) => {
        const sp = l.indexOf(' ');
        return sp < 0 ? { metric: l, message: '' } : { metric: l.slice(0, sp), message: l.slice(sp + 1) };
      });
  return {
    ok: r.code === 0,
    exitCode: r.code,
    output,
    problems,
    lint,
    parseError,
    ...(errLine === undefined ? {} : { error: errLine.replace(/^error while linting:\s*/, '') }),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Python prometheus_client parsers
// ---------------------------------------------------------------------------------------------------------

export interface ParsedExemplar {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** Seconds. */
  readonly timestamp?: number;
}

export interface ParsedSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** The value as Python rendered it: ints stay ints ("3"), floats use repr ("0.5"), "NaN", "+Inf". */
  readonly rawValue: string;
  /** Seconds (the 0.0.4 parser converts the ms timestamp to seconds). */
  readonly timestamp?: number;
  readonly exemplar?: ParsedExemplar;
}

export interface ParsedFamily {
  /** For counters the name without `_total` (both parsers strip it). */
  readonly name: string;
  readonly type: string;
  readonly unit: string;
  readonly help: string;
  readonly samples: readonly ParsedSample[];
}

export interface ParseResult {
  readonly ok: boolean;
  /** "<PythonExceptionType>: <message>", e.g. "ValueError: Missing # EOF at end". */
  readonly error?: string;
  /** Number of families parsed (only when ok). */
  readonly families?: number;
  /** The parsed families (only when ok), for asserting on what the judge understood. */
  readonly parsed?: readonly ParsedFamily[];
}

// The parsers are generators and some checks (missing "# EOF", name clashes, histogram rules) only fire
// while or after the last family is yielded, so the script consumes everything before answering.
// stdin is read as bytes and decoded strictly: text-mode stdin would apply universal newlines and hide
// "\r\n" line endings (which OpenMetrics forbids), and invalid UTF-8 must be a failure, not a replacement.
const PY_SCRIPT = String.raw`
import sys, json, math
if sys.argv[1] == 'openmetrics':
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
else:
    from prometheus_client.parser import text_string_to_metric_families

def num(v):
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    v = float(v)
    if math.isnan(v):
        return 'NaN'
    if math.isinf(v):
        return '+Inf' if v > 0 else '-Inf'
    return repr(v)

def ts(v):
    return None if v is None else float(v)

def sample(s):
    ex = getattr(s, 'exemplar', None)
    return {
        'name': s.name, 'labels': s.labels, 'value': num(s.value), 'timestamp': ts(s.timestamp),
        'exemplar': None if ex is None else {'labels': ex.labels, 'value': num(ex.value), 'timestamp': ts(ex.timestamp)},
    }

try:
    text = sys.stdin.buffer.read().decode('utf-8')
    out = []
    for f in text_string_to_metric_families(text):
        out.append({'name': f.name, 'type': f.type, 'unit': f.unit, 'help': f.documentation,
                    'samples': [sample(s) for s in f.samples]})
    print(json.dumps({'ok': True, 'families': out}))
except Exception as e:
    print(json.dumps({'ok': False, 'error': type(e).__name__ + ': ' + str(e)}))
`;

interface PyExemplar {
  labels: Record<string, string>;
  value: string;
  timestamp: number | null;
}
interface PySample {
  name: string;
  labels: Record<string, string>;
  value: string;
  timestamp: number | null;
  exemplar: PyExemplar | null;
}
interface PyFamily {
  name: string;
  type: string;
  unit: string;
  help: string;
  samples: PySample[];
}
type PyAnswer = { ok: true; families: PyFamily[] } | { ok: false; error: string };

async function pythonParse(mode: 'openmetrics' | 'text', text: string): Promise<ParseResult> {
  // -I: isolated mode, so PYTHONPATH/user site-packages cannot swap in another prometheus_client.
  const r = await runWithStdin(JUDGE_PYTHON, ['-I', '-c', PY_SCRIPT, mode], text);
  let answer: PyAnswer;
  try {
    answer = JSON.parse(r.stdout) as PyAnswer;
  } catch {
    // Import errors and the like: the judge itself is broken, which must not look like a verdict.
    throw new Error(`${JUDGE_PYTHON} ${mode} parser failed (exit ${String(r.code)}): ${r.stderr || r.stdout}`);
  }
  if (!answer.ok) return { ok: false, error: answer.error };
  const parsed: ParsedFamily[] = answer.families.map((f) => ({
    name: f.name,
    type: f.type,
    unit: f.unit,
    help: f.help,
    samples: f.samples.map((s) => ({
      name: s.name,
      labels: s.labels,
      value: parsePromFloat(s.value),
      rawValue: s.value,
      ...(s.timestamp === null ? {} : { timestamp: s.timestamp }),
      ...(s.exemplar === null
        ? {}
        : {
            exemplar: {
              labels: s.exemplar.labels,
              value: parsePromFloat(s.exemplar.value),
              ...(s.exemplar.timestamp === null ? {} : { timestamp: s.exemplar.timestamp }),
            },
          }),
    })),
  }));
  return { ok: true, families: parsed.length, parsed };
}

/**
 * Strict OpenMetrics 1.0 parse with prometheus_client 0.16.0 (`openmetrics.parser`). What it enforces and
 * what it lets through is pinned by test/unit/judges.test.ts; in short:
 * - rejects: missing `# EOF`, anything after it (even an empty line), blank lines, `\r`, comments other
 *   than HELP/TYPE/UNIT, `untyped`, metadata after samples, name clashes (0.0.4-style `# TYPE x_total
 *   counter` + `x_total`, counter samples without `_total`, gauge `x_created` next to counter `x`),
 *   interleaved families/metrics, histogram errors (no `+Inf`, `le` not ascending, decreasing buckets,
 *   non-integer buckets, `_count` != `+Inf`, `_count` without `_sum`), negative or NaN counter-like
 *   samples, exemplars anywhere except counter `_total` and histogram/gaugehistogram `_bucket`,
 *   exemplar label sets over 128 code points, unescaped `"` in label values, bad metric/label names.
 * - accepts (not checked): duplicate samples, exemplar values outside their bucket, undefined escapes
 *   like `\a` (the ABNF allows them), a label value ending in `\"` when no exemplar is on the line,
 *   any float spelling for finite `le` (only +Inf must be spelled "+Inf").
 */
export function openMetricsParse(text: string): Promise<ParseResult> {
  return pythonParse('openmetrics', text);
}

/**
 * Prometheus text 0.0.4 parse with prometheus_client's `parser` module. It is lenient (its own docstring
 * says so): it does not check HELP/TYPE order or uniqueness, duplicates, interleaving, `+Inf` buckets or
 * label-name syntax, and ignores `# EOF` as a comment. It does reject bad label quoting/escaping, bad
 * metric names, non-numeric values/timestamps and OpenMetrics exemplars. promtool is the stricter 0.0.4
 * judge; use this one as a second opinion and to read back what was parsed.
 */
export function prometheusTextParse(text: string): Promise<ParseResult> {
  return pythonParse('text', text);
}
