// Persists a run as JSON under bench/results/ so runs can be compared over
// time (the directory's .gitignore keeps them out of commits).

import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

/** Filesystem-safe ISO timestamp: 2025-01-31T12-34-56Z. */
export function fileTimestamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
}

/** Writes `data` to `<dir>/<benchmark>-<timestamp>.json`; returns the file's path. */
export async function writeResultsFile(
  dir: string,
  benchmark: string,
  startedAt: Date,
  data: unknown,
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${benchmark}-${fileTimestamp(startedAt)}.json`);
  await writeFile(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

const REPO = fileURLToPath(new URL('../..', import.meta.url));

const git = (...args: string[]): string =>
  execFileSync('git', args, { cwd: REPO, encoding: 'utf8', stdio: 'pipe' }).trim();

/**
 * The gateway build of a commit: the git trees of its `src/` and of its lockfile, which stay the same
 * across commits that change only benches or docs (bench/cpu-pool.ts pools runs of one build);
 * undefined when git cannot say.
 */
export function sourceTreeOf(rev: string): string | undefined {
  try {
    return `${git('rev-parse', '--short=12', `${rev}:src`)}/${git('rev-parse', '--short=12', `${rev}:package-lock.json`)}`;
  } catch {
    return undefined;
  }
}

/**
 * What was measured, read as this module loads (edits made during a long run do not change it): the
 * repository's commit (`+src` when `src/` or the lockfile differed from it then) and its build
 * (`sourceTreeOf`, `uncommitted` then). `unknown` outside a git checkout. `npm run build` makes the
 * dist/ the gateways run.
 */
const MEASURED = ((): { commit: string; sourceTree: string } => {
  try {
    const head = git('rev-parse', '--short=12', 'HEAD');
    const dirty = git('status', '--porcelain', '--', 'src', 'package-lock.json') !== '';
    return {
      commit: dirty ? `${head}+src` : head,
      sourceTree: dirty ? 'uncommitted' : (sourceTreeOf('HEAD') ?? 'unknown'),
    };
  } catch {
    return { commit: 'unknown', sourceTree: 'unknown' };
  }
})();

/** The machine and code a result was measured on (every results file has these). */
export function benchEnvironment(): {
  node: string;
  platform: string;
  cpus: number;
  cpuModel: string;
  commit: string;
  sourceTree: string;
} {
  return {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    ...MEASURED,
  };
}

/**
 * Writes bench/results/<benchmark>-<timestamp>.json: the benchmark's name, when it started and
 * finished, its options, the environment (benchEnvironment() plus `environment`), then `data`.
 */
export function writeRunResults(
  benchmark: string,
  startedAt: Date,
  options: unknown,
  environment: Record<string, unknown>,
  data: Record<string, unknown>,
): Promise<string> {
  return writeResultsFile(RESULTS_DIR, benchmark, startedAt, {
    benchmark,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    options,
    environment: { ...benchEnvironment(), ...environment },
    ...data,
  });
}
