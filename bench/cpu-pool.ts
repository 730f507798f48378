// Several runs of bench/cpu-per-request.ts read as one: the per-round ratios of every run pooled,
// for a difference smaller than one run's noise. On the 2-core development VM one run's per-round
// ratios scatter by ±10–15 %, so a 3 % target needs more rounds than one run of all seven variants
// holds in half an hour; runs of the same build, method and rate measure the same thing, and their
// per-round ratios (each against its partner of the same round and run) can be read together.
//
//   node --import tsx bench/cpu-pool.ts bench/results/cpu-per-request-<a>.json bench/results/cpu-per-request-<b>.json
//
// Runs are pooled only when they agree on what was measured: the same gateway build (the git trees of
// `src/` and of the lockfile, which commits that change only benches or docs keep; read from the
// recorded commit for files that have only that, and files with neither are taken as given), the same
// rate (or both saturated), `--fresh`, `--side-by-side`, duration, warm-ups, connections, payload, workers and
// batch delay.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runDriver } from './lib/driver.js';
import { VARIANTS } from './lib/cpu-gateways.js';
import { pairedDifferences, pairedRatios, upstreamNormalizedRatios, type CpuRun } from './lib/cpu-report.js';
import { sourceTreeOf } from './lib/results-file.js';
import { median, medianInterval, type Interval } from './lib/stats.js';
import { textTable } from './lib/text-table.js';

const TAG = 'cpu-pool';
const USAGE = `Usage: node --import tsx bench/cpu-pool.ts <results.json> [<results.json> ...]

Pools the per-round ratios of several bench/cpu-per-request.ts results files of one build and method
(every "vs off" and "vs metrics" both runs have) and prints their medians with 95 % intervals.
`;

/** What must be the same in two runs for their rounds to measure the same thing. */
const SAME = [
  'rate',
  'fresh',
  'sideBySide',
  'durationSeconds',
  'connections',
  'payloadBytes',
  'workers',
  'batchDelayMs',
  'warmupSeconds',
  'initialWarmupSeconds',
] as const;

interface RunFile {
  readonly path: string;
  /** The gateway build measured (lib/results-file.ts `sourceTree`); undefined when the file does not say. */
  readonly build: string | undefined;
  readonly options: Readonly<Record<string, unknown>>;
  readonly runs: readonly CpuRun[];
}

function readRunFile(path: string): RunFile {
  const data = JSON.parse(readFileSync(path, 'utf8')) as {
    benchmark?: unknown;
    options?: Record<string, unknown>;
    environment?: { commit?: unknown; sourceTree?: unknown };
    runs?: CpuRun[];
  };
  if (data.benchmark !== 'cpu-per-request' || data.options === undefined || !Array.isArray(data.runs))
    throw new Error(`${path}: not a bench/cpu-per-request.ts results file`);
  return {
    path,
    build: buildOf(path, data.environment?.sourceTree, data.environment?.commit),
    options: data.options,
    runs: data.runs,
  };
}

function buildOf(path: string, sourceTree: unknown, commit: unknown): string | undefined {
  // Uncommitted sources are a build of their own, the same as no other run's.
  if (sourceTree === 'uncommitted' || (typeof commit === 'string' && commit.endsWith('+src')))
    return `uncommitted sources (${path})`;
  if (typeof sourceTree === 'string' && sourceTree !== 'unknown') return sourceTree;
  if (typeof commit === 'string' && commit !== 'unknown') return sourceTreeOf(commit) ?? `commit ${commit}`;
  return undefined;
}

/** Every way `files` disagree on what they measured (empty when they can be pooled). */
function disagreements(files: readonly RunFile[]): string[] {
  const first = files[0];
  if (first === undefined) return [];
  const out: string[] = [];
  for (const f of files.slice(1)) {
    for (const k of SAME)
      if (JSON.stringify(f.options[k]) !== JSON.stringify(first.options[k]))
        out.push(
          `${k}: ${JSON.stringify(first.options[k])} in ${first.path}, ${JSON.stringify(f.options[k])} in ${f.path}`,
        );
  }
  const builds = new Set(files.flatMap((f) => (f.build === undefined ? [] : [f.build])));
  if (builds.size > 1) out.push(`gateway builds (src/ and lockfile trees): ${[...builds].join(', ')}`);
  return out;
}

interface Pooled {
  readonly label: string;
  readonly rounds: number;
  readonly files: number;
  readonly ratio: number;
  readonly interval: Interval | undefined;
  readonly divided: number | undefined;
  readonly dividedInterval: Interval | undefined;
  readonly differenceUs: number;
  readonly perFile: readonly number[];
}

/** `of` against `to` over every file that ran both. */
function pool(files: readonly RunFile[], of: string, to: string, capped: boolean): Pooled | undefined {
  const having = files.filter((f) => f.runs.some((r) => r.variant === of) && f.runs.some((r) => r.variant === to));
  const ratios = having.map((f) => pairedRatios(f.runs, of, to));
  const all = ratios.flat();
  if (all.length === 0) return undefined;
  const divided = capped ? having.flatMap((f) => upstreamNormalizedRatios(f.runs, of, to)) : [];
  return {
    label: `${of} vs ${to}`,
    rounds: all.length,
    files: having.length,
    ratio: median(all),
    interval: medianInterval(all),
    divided: divided.length === 0 ? undefined : median(divided),
    dividedInterval: medianInterval(divided),
    differenceUs: median(having.flatMap((f) => pairedDifferences(f.runs, of, to))),
    perFile: ratios.map((r) => median(r)),
  };
}

const fmtInterval = (i: Interval | undefined): string =>
  i === undefined ? '' : `[${i.low.toFixed(3)}–${i.high.toFixed(3)}]`;

/** The results files named (undefined = --help). */
function parse(argv: readonly string[]): readonly string[] | undefined {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: { help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help === true) return undefined;
  if (positionals.length === 0) throw new Error('no results file given (see --help)');
  return positionals;
}

function main(paths: readonly string[]): Promise<void> {
  const files = paths.map(readRunFile);
  const wrong = disagreements(files);
  if (wrong.length > 0) throw new Error(`these runs did not measure the same thing:\n  ${wrong.join('\n  ')}`);
  const capped = Number(files[0]?.options['rate'] ?? 0) > 0;
  const present = new Set(files.flatMap((f) => f.runs.map((r) => r.variant)));
  const comparisons = VARIANTS.flatMap((variant) =>
    [variant.vsOff, variant.vsMetrics].flatMap((to) =>
      to !== undefined && present.has(variant.name) && present.has(to) ? [[variant.name, to] as const] : [],
    ),
  );
  const rows = comparisons.flatMap(([of, to]) => {
    const p = pool(files, of, to, capped);
    return p === undefined ? [] : [p];
  });
  const out = [
    `${TAG}: ${files.length} run(s); gateway build ${[...new Set(files.map((f) => f.build ?? 'not recorded'))].join(', ')}; ` +
      (capped ? `rate ${String(files[0]?.options['rate'])} req/s` : 'saturated'),
    ...files.map((f) => `  ${f.path}: ${new Set(f.runs.map((r) => r.round)).size} rounds`),
    '',
    ...textTable(
      [
        'comparison',
        'rounds (runs)',
        'per-round ratio [95 % CI]',
        ...(capped ? ['÷ upstream [95 % CI]'] : []),
        'µs/req more',
        'each run',
      ],
      rows.map((p) => [
        p.label,
        `${p.rounds} (${p.files})`,
        `${p.ratio.toFixed(3)} ${fmtInterval(p.interval)}`,
        ...(capped ? [p.divided === undefined ? '' : `${p.divided.toFixed(3)} ${fmtInterval(p.dividedInterval)}`] : []),
        p.differenceUs.toFixed(1),
        p.perFile.map((x) => x.toFixed(3)).join(' '),
      ]),
    ),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  return Promise.resolve();
}

await runDriver(TAG, USAGE, parse, main);
