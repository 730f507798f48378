// Locates executables on PATH without shelling out, so optional targets
// (wrk, nginx, haproxy) can be skipped with a clear reason when absent.

import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Extra directories where Debian puts daemons that non-root PATHs often omit. */
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

export function which(command: string): string | undefined {
  const fromEnv = (process.env['PATH'] ?? '').split(delimiter).filter((dir) => dir !== '');
  for (const dir of [...fromEnv, ...SBIN_DIRS]) {
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here; keep looking.
    }
  }
  return undefined;
}
