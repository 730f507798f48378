/**
 * `tollgate migrate --from opencensus|kong FILE [-o OUT]`: prints (or writes) the migrated
 * configuration as JSON, after loading it exactly as `tollgate check` does, and lists on stderr, one
 * line each, what could not be carried over. Exit 0 on success (notes allowed), 1 when the input
 * cannot be read or migrated (every problem with its path), 2 for usage errors (set in main.ts).
 */
import { writeFileSync } from 'node:fs';
import { ConfigError, loadConfigValue } from '../config/load.js';
import { migrateKong } from '../migrate/kong.js';
import { migrateOpencensus } from '../migrate/opencensus.js';
import { readInput } from '../migrate/read-input.js';
import { MigrationInputError, type MigrationResult } from '../migrate/report.js';
import { formatConfigError } from './report.js';

export const MIGRATE_SOURCES = ['opencensus', 'kong'] as const;
export type MigrateSource = (typeof MIGRATE_SOURCES)[number];

export interface MigrateOptions {
  readonly from: MigrateSource;
  readonly file: string;
  readonly output: string | undefined;
  /** Write the result even when it has settings `tollgate run` would refuse as unenforced. */
  readonly allowUnenforced?: boolean | undefined;
}

/** Runs the migration and returns the exit code. */
export function migrateCommand(o: MigrateOptions): number {
  const err = process.stderr;
  let result: MigrationResult;
  try {
    const input = readInput(o.file, o.from === 'kong' ? 'by-content' : 'by-extension');
    result = o.from === 'kong' ? migrateKong(input) : migrateOpencensus(input);
  } catch (e) {
    if (e instanceof ConfigError) err.write(formatInputProblems(o, e.issues, e.code));
    else if (e instanceof MigrationInputError) err.write(formatInputProblems(o, e.issues));
    else throw e;
    return 1;
  }
  const target = o.output ?? '(stdout)';
  let warnings: readonly string[];
  let endpoints: number;
  try {
    const loaded = loadConfigValue(result.config, target, { allowUnenforced: o.allowUnenforced });
    warnings = loaded.warnings;
    endpoints = loaded.config.endpoints.length;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    err.write(
      `${o.file}: the migrated configuration does not pass tollgate check; nothing was written\n${formatConfigError(e)}`,
    );
    return 1;
  }
  for (const n of result.notes) err.write(`warning: ${n.path}: ${n.message}\n`);
  for (const w of warnings) err.write(`warning: (migrated config) ${w}\n`);
  const text = `${JSON.stringify(result.config, null, 2)}\n`;
  if (o.output === undefined) {
    process.stdout.write(text);
  } else {
    try {
      writeFileSync(o.output, text);
    } catch (e) {
      err.write(`${o.output}: cannot write the migrated configuration: ${(e as Error).message}\n`);
      return 1;
    }
  }
  const n = result.notes.length + warnings.length;
  err.write(
    `${o.file}: migrated from ${o.from} to ${target}: ${endpoints} endpoint${endpoints === 1 ? '' : 's'}, ${n} warning${n === 1 ? '' : 's'}\n`,
  );
  return 0;
}

/** The input's problems, one line each with its path, as `tollgate check` prints a config's. */
function formatInputProblems(
  o: MigrateOptions,
  issues: readonly { path: string; message: string }[],
  code?: string,
): string {
  const n = issues.length;
  const lines = [
    `${o.file}: cannot migrate from ${o.from} (${n} problem${n === 1 ? '' : 's'})${code === undefined ? '' : ` [${code}]`}`,
  ];
  for (const i of issues) lines.push(`  ${i.path}: ${i.message}`);
  return `${lines.join('\n')}\n`;
}
