/**
 * The file to migrate, parsed. A KrakenD file is JSON or YAML by extension, as `tollgate check` reads
 * it; a Kong declarative file is usually `kong.yml` but may be JSON, so without a telling extension
 * its first character decides. Problems come back as ConfigErrors (TG_ERR_CONFIG_READ / _SYNTAX),
 * with the line and column of a syntax error.
 */
import { ConfigError, readConfigFile } from '../config/load.js';
import { parseConfigText } from '../config/parse.js';

export type InputFormat = 'by-extension' | 'by-content';

export function readInput(file: string, format: InputFormat): unknown {
  const text = readConfigFile(file);
  const parsed = parseConfigText(text, format === 'by-extension' ? file : syntaxName(file, text));
  if (!parsed.ok) {
    const { line, column, message } = parsed.problem;
    throw new ConfigError('TG_ERR_CONFIG_SYNTAX', file, [{ path: `line ${line}, column ${column}`, message }]);
  }
  return parsed.value;
}

/** A name whose extension tells parseConfigText which syntax to use. */
function syntaxName(file: string, text: string): string {
  if (/\.json$/i.test(file)) return file;
  if (/\.ya?ml$/i.test(file)) return file;
  return /^\uFEFF?\s*[{[]/.test(text) ? `${file}.json` : `${file}.yaml`;
}
