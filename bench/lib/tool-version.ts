// Reads a native tool's version banner for the results file, so numbers from
// different machines or package versions are never compared blindly.

import { spawnSync } from 'node:child_process';

/**
 * First line of `<bin> <args>` output. Both streams are read because nginx
 * prints its version on stderr and wrk exits non-zero after printing it.
 */
export function toolVersion(bin: string, args: readonly string[]): string | undefined {
  const result = spawnSync(bin, args, { encoding: 'utf8', timeout: 3000 });
  if (result.error !== undefined) return undefined;
  const text = `${result.stdout ?? ''}\n${result.stderr ?? ''}`;
  return text
    .split('\n')
    .map((line) => line.trim())
    .find((line) => line !== '');
}

/** Full `<bin> <args>` output (both streams), e.g. for `nginx -V` build flags. */
export function toolOutput(bin: string, args: readonly string[]): string {
  const result = spawnSync(bin, args, { encoding: 'utf8', timeout: 3000 });
  return `${result.stdout ?? ''}\n${result.stderr ?? ''}`;
}
