/**
 * Schema validation with ajv, every error at once, each rendered as `path: message` in words an
 * operator recognises (ajv's own wording is kept for the rare keywords not mapped here).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { CONFIG_SCHEMA } from './schema.js';
import { formatPath, pointerToSegments, type PathSegment } from './json-path.js';
import type { ConfigIssue } from './issue.js';

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  compiled ??= new Ajv({ allErrors: true, strict: false }).compile(CONFIG_SCHEMA);
  return compiled;
}

export function validateSchema(value: unknown): ConfigIssue[] {
  const validate = validator();
  if (validate(value)) return [];
  // Alternatives report one error each plus the anyOf itself: keep only the summary.
  const issues = (validate.errors ?? []).filter((e) => !e.schemaPath.includes('/anyOf/')).map(toIssue);
  return dedupe(issues);
}

function toIssue(e: ErrorObject): ConfigIssue {
  const segments: PathSegment[] = pointerToSegments(e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      segments.push(String(p.missingProperty));
      return { path: formatPath(segments), message: 'is required' };
    case 'minItems': {
      const n = Number(p.limit);
      return { path: formatPath(segments), message: `must have at least ${n} item${n === 1 ? '' : 's'}` };
    }
    case 'type':
      return { path: formatPath(segments), message: `must be ${article(String(p.type))}` };
    case 'enum':
      return {
        path: formatPath(segments),
        message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'const':
      if (e.instancePath === '/version') {
        return {
          path: 'version',
          message: 'must be 3: Tollgate runs KrakenD v3 configuration files (older formats are not supported)',
        };
      }
      return { path: formatPath(segments), message: `must be ${JSON.stringify(p.allowedValue)}` };
    case 'minimum':
    case 'maximum':
      return {
        path: formatPath(segments),
        message: `must be ${e.keyword === 'minimum' ? '>=' : '<='} ${String(p.limit)}`,
      };
    case 'anyOf':
      if (segments[segments.length - 1] === 'allow_unenforced')
        return { path: formatPath(segments), message: 'must be true, false or a list of setting names' };
      return {
        path: formatPath(segments),
        message: 'must be a list of {"key", "value"} objects (or an object of strings)',
      };
    case 'pattern':
      return { path: formatPath(segments), message: patternMessage(segments, String(p.pattern)) };
    default:
      return { path: formatPath(segments), message: e.message ?? 'is invalid' };
  }
}

function article(type: string): string {
  const t = type.replace(/,/g, ' or ');
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

function patternMessage(segments: PathSegment[], pattern: string): string {
  const last = segments[segments.length - 1];
  if (last === 'endpoint')
    return 'must start with "/" and contain no "*", "?", "&" or "%" (a trailing "/*" is allowed)';
  if (pattern.includes('ms|s|m|h')) return 'must be a duration such as "500ms", "2s" or "1m30s"';
  if (last === 'listen_address') return 'must be ":port" or "ip:port"';
  if (last === 'address') return 'must be a URL starting with http:// or https://';
  return `must match ${pattern}`;
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.path}\u0000${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
