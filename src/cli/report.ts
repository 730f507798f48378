/** How `check` and `run` print configuration problems: one line per error, with its path. */
import type { ConfigError } from '../config/load.js';

export function formatConfigError(err: ConfigError): string {
  const n = err.issues.length;
  const what =
    err.code === 'TG_ERR_CONFIG_UNENFORCED'
      ? `${n} setting${n === 1 ? '' : 's'} Tollgate would not enforce`
      : `${n} error${n === 1 ? '' : 's'}`;
  const lines = [`${err.file}: configuration is invalid (${what}) [${err.code}]`];
  for (const i of err.issues) {
    lines.push(`  ${i.path}: ${i.message}`);
    if (i.excerpt !== undefined) lines.push(...i.excerpt.split('\n').map((l) => `    ${l}`));
  }
  if (err.code === 'TG_ERR_CONFIG_UNENFORCED') {
    lines.push(
      'Tollgate refuses to run settings that protect, validate or transform traffic and that it does not implement:',
      'remove them, or run without them with --allow-unenforced (or "extra_config": {"tollgate": {"allow_unenforced": true}}),',
      'each one is then logged as a warning at every start.',
    );
  }
  return `${lines.join('\n')}\n`;
}
