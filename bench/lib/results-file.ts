// Persists a run as JSON under bench/results/ so runs can be compared over
// time (the directory's .gitignore keeps them out of commits).

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Filesystem-safe ISO timestamp: 2025-01-31T12-34-56Z. */
export function fileTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

export async function writeResultsFile(dir: string, startedAt: Date, data: unknown): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `proxy-${fileTimestamp(startedAt)}.json`);
  await writeFile(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}
