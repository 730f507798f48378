/**
 * What a migration tells the operator: the settings it could not carry over (one note each, with the
 * path in the input file), and the problems that make the input unusable (all of them at once, as
 * config loading does, so a broken file is fixed in one pass).
 */
import { formatPath, type PathSegment } from '../config/json-path.js';
import type { RawObject } from '../config/raw.js';

export interface MigrationNote {
  /** Where in the input, e.g. `services[0].routes[1].hosts`. */
  readonly path: string;
  readonly message: string;
}

export interface MigrationResult {
  /** A KrakenD v3 configuration for Tollgate. */
  readonly config: RawObject;
  readonly notes: readonly MigrationNote[];
}

/** The input cannot be migrated; every problem with its path. */
export class MigrationInputError extends Error {
  readonly issues: readonly MigrationNote[];

  constructor(issues: readonly MigrationNote[]) {
    super(
      `${issues.length} problem${issues.length === 1 ? '' : 's'} in the input: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    );
    this.name = 'MigrationInputError';
    this.issues = issues;
  }
}

export class MigrationReport {
  readonly #notes: MigrationNote[] = [];
  readonly #issues: MigrationNote[] = [];

  /** A setting that is dropped or changes meaning; the migration goes on. */
  note(at: readonly PathSegment[], message: string): void {
    this.#notes.push({ path: formatPath(at), message });
  }

  /** A problem that makes the input unusable; reported together by `finish`. */
  invalid(at: readonly PathSegment[], message: string): void {
    this.#issues.push({ path: formatPath(at), message });
  }

  get hasIssues(): boolean {
    return this.#issues.length > 0;
  }

  /** Throws the collected input problems, if any. */
  check(): void {
    if (this.#issues.length > 0) throw new MigrationInputError(this.#issues);
  }

  finish(config: RawObject): MigrationResult {
    this.check();
    return { config, notes: this.#notes };
  }
}
