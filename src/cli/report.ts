/** How `check` and `run` print configuration problems: one line per error, with its path. */
import type { ConfigError } from '../config/load.js';

export function formatConfigError(err: ConfigError): string {
  const lines = [`${err.file}: configuration is invalid (${err.issues.length} error${err.issues.length === 1 ? '' : 's'}) [${err.code}]`];
  for (const i of err.issues) lines.push(`  ${i.path}: ${i.message}`);
  return `${lines.join('\n')}\n`;
}
