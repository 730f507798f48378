/**
 * Config loading, the one place where a file becomes a GatewayConfig: read → parse (JSON or YAML) →
 * alias legacy namespaces → schema (ajv) → cross-field checks → settings Tollgate does not enforce →
 * normalise → freeze. Every problem is collected and reported at once in a ConfigError, each with its
 * JSON path. It fails closed: a setting that would protect or transform traffic and that Tollgate does
 * not implement stops the file (TG_ERR_CONFIG_UNENFORCED) unless the operator opts out.
 */
import { readFileSync } from 'node:fs';
import { TollgateError } from '../errors/catalogue.js';
import { deepFreeze } from './freeze.js';
import { NAMESPACE_ALIASES, NAMESPACE_SCHEMAS } from './namespaces.js';
import { normalizeConfig } from './normalize.js';
import { parseConfigText } from './parse.js';
import { arrayAt, isObject, stringAt, type RawObject } from './raw.js';
import { checkSemantics } from './semantics.js';
import { TOLLGATE_NAMESPACE } from './namespaces/tollgate.js';
import { collectFindings, findingWarnings, type Finding } from './unsupported.js';
import type { ConfigIssue } from './issue.js';
import { validateSchema } from './validate.js';
import type { LoadedConfig } from './types.js';

export class ConfigError extends TollgateError {
  readonly issues: readonly ConfigIssue[];
  readonly file: string;

  constructor(
    code: 'TG_ERR_CONFIG_READ' | 'TG_ERR_CONFIG_SYNTAX' | 'TG_ERR_CONFIG_INVALID' | 'TG_ERR_CONFIG_UNENFORCED',
    file: string,
    issues: ConfigIssue[],
    cause?: unknown,
  ) {
    super(
      code,
      `${file}: ${issues.length} configuration error${issues.length === 1 ? '' : 's'}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      { cause },
    );
    this.name = 'ConfigError';
    this.issues = issues;
    this.file = file;
  }
}

/** Command-line settings that win over the file (`tollgate run -p PORT -d`). */
export interface ConfigOverrides {
  readonly port?: number | undefined;
  readonly debugEndpoint?: boolean | undefined;
  /** `--allow-unenforced`: start despite settings Tollgate does not enforce (each one logged). */
  readonly allowUnenforced?: boolean | undefined;
  /** `check --lint`: unknown keys and namespaces are errors, not warnings. */
  readonly lint?: boolean | undefined;
}

export function loadConfigFile(file: string, overrides: ConfigOverrides = {}): LoadedConfig {
  return loadConfigText(readConfigFile(file), file, overrides);
}

/** The text of a config file, or a ConfigError that says why it cannot be read. */
export function readConfigFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      'TG_ERR_CONFIG_READ',
      file,
      [{ path: '(file)', message: `cannot read ${file}: ${(err as Error).message}` }],
      err,
    );
  }
}

export function loadConfigText(text: string, file: string, overrides: ConfigOverrides = {}): LoadedConfig {
  const parsed = parseConfigText(text, file);
  if (!parsed.ok) {
    const { line, column, message, excerpt } = parsed.problem;
    throw new ConfigError('TG_ERR_CONFIG_SYNTAX', file, [{ path: `line ${line}, column ${column}`, message, excerpt }]);
  }
  return loadConfigValue(parsed.value, file, overrides);
}

export function loadConfigValue(value: unknown, file: string, overrides: ConfigOverrides = {}): LoadedConfig {
  if (!isObject(value)) {
    throw new ConfigError('TG_ERR_CONFIG_INVALID', file, [
      { path: '(root)', message: 'must be an object with "version": 3' },
    ]);
  }
  const root = applyAliases(structuredClone(value));
  if (overrides.port !== undefined) root.port = overrides.port;
  if (overrides.debugEndpoint === true) root.debug_endpoint = true;
  const semanticWarnings: string[] = [];
  const schemaIssues = validateSchema(root);
  const namespaceIssues = schemaIssues.length === 0 ? NAMESPACE_SCHEMAS.flatMap((ns) => ns.check?.(root) ?? []) : [];
  const issues = [
    ...schemaIssues,
    ...checkSemantics(root, semanticWarnings),
    ...checkTlsFiles(root),
    ...namespaceIssues,
  ];
  const findings = collectFindings(root);
  if (overrides.lint === true)
    issues.push(...findings.filter((f) => f.kind === 'unknown').map(({ path, message }) => ({ path, message })));
  const optOut = unenforcedOptOut(root, overrides);
  const refused = findings.filter((f) => f.kind === 'unenforced' && !optOut.allows(f));
  const all = [...issues, ...refused.map(({ path, message }) => ({ path, message }))];
  if (all.length > 0)
    throw new ConfigError(issues.length > 0 ? 'TG_ERR_CONFIG_INVALID' : 'TG_ERR_CONFIG_UNENFORCED', file, all);
  // One loud line per setting that runs unenforced: the operator asked for it, the log must keep saying so.
  const warnings = findings
    .filter((f) => f.kind === 'unenforced')
    .map((f) => `NOT ENFORCED: ${f.path}: ${f.message}; running without it because ${optOut.source}`);
  warnings.push(...findingWarnings(findings), ...semanticWarnings);
  const config = deepFreeze(normalizeConfig(root, warnings));
  return { config, warnings, file };
}

interface OptOut {
  readonly allows: (f: Finding) => boolean;
  readonly source: string;
}

/** `--allow-unenforced`, or the root `"tollgate": {"allow_unenforced": true | [names]}` namespace. */
function unenforcedOptOut(root: RawObject, overrides: ConfigOverrides): OptOut {
  if (overrides.allowUnenforced === true) return { allows: () => true, source: '--allow-unenforced is set' };
  const own = isObject(root.extra_config) ? root.extra_config[TOLLGATE_NAMESPACE] : undefined;
  const setting = isObject(own) ? own.allow_unenforced : undefined;
  const source = `extra_config.${TOLLGATE_NAMESPACE}.allow_unenforced is set`;
  if (setting === true) return { allows: () => true, source };
  if (Array.isArray(setting)) return { allows: (f) => setting.includes(f.name), source };
  return { allows: () => false, source: '' };
}

function applyAliases(root: RawObject): RawObject {
  const rename = (o: unknown): void => {
    if (!isObject(o) || !isObject(o.extra_config)) return;
    const extra = o.extra_config;
    for (const [legacy, current] of Object.entries(NAMESPACE_ALIASES)) {
      if (legacy in extra && !(current in extra)) {
        extra[current] = extra[legacy];
        delete extra[legacy];
      }
    }
  };
  rename(root);
  for (const ep of arrayAt(root, 'endpoints')) {
    rename(ep);
    if (isObject(ep)) for (const be of arrayAt(ep, 'backend')) rename(be);
  }
  return root;
}

function checkTlsFiles(root: RawObject): ConfigIssue[] {
  const tls = root.tls;
  if (!isObject(tls) || tls.disabled === true) return [];
  const issues: ConfigIssue[] = [];
  const readable = (file: string | undefined, path: string): void => {
    if (file === undefined) return;
    try {
      readFileSync(file);
    } catch (err) {
      issues.push({
        path,
        message: `cannot read "${file}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      });
    }
  };
  const pub = stringAt(tls, 'public_key');
  const priv = stringAt(tls, 'private_key');
  if ((pub === undefined) !== (priv === undefined)) {
    issues.push({
      path: pub === undefined ? 'tls.public_key' : 'tls.private_key',
      message: 'is required together with the other key file',
    });
  }
  if (pub === undefined && arrayAt(tls, 'keys').length === 0) {
    issues.push({ path: 'tls', message: 'needs public_key and private_key (or keys[]), or "disabled": true' });
  }
  readable(pub, 'tls.public_key');
  readable(priv, 'tls.private_key');
  arrayAt(tls, 'keys').forEach((k, i) => {
    if (!isObject(k)) return;
    readable(stringAt(k, 'public_key'), `tls.keys[${i}].public_key`);
    readable(stringAt(k, 'private_key'), `tls.keys[${i}].private_key`);
  });
  for (const [i, ca] of arrayAt(tls, 'ca_certs').entries())
    if (typeof ca === 'string') readable(ca, `tls.ca_certs[${i}]`);
  return issues;
}
