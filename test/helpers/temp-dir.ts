/**
 * Temporary directories for one test file, removed when its process exits. Helpers that write a
 * config or make certificates have no test context to hang a `t.after` on, and `node --test` runs
 * every file in a process of its own, so the process's exit is each file's end. Without it, every
 * run left some fifty directories, private keys among them, in the system's temp dir.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A new directory under the system's temp dir, named `<prefix>XXXXXX`. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
