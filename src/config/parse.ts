/**
 * Turns the config file's text into a value, JSON or YAML by extension, with the line and column of a
 * syntax error (V8's JSON messages give an offset only for some errors; the rest are located here).
 */
import { parse as parseYaml, YAMLParseError } from 'yaml';

export interface SyntaxProblem {
  readonly line: number;
  readonly column: number;
  readonly message: string;
  /** The offending line and a caret under the column, for the operator to see where. */
  readonly excerpt: string;
}

export type ParseResult = { ok: true; value: unknown } | { ok: false; problem: SyntaxProblem };

export function parseConfigText(text: string, fileName: string): ParseResult {
  return /\.ya?ml$/i.test(fileName) ? parseYamlText(text) : parseJsonText(text);
}

function parseJsonText(text: string): ParseResult {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch (err) {
    const message = (err as Error).message;
    const offset = errorOffset(body, message);
    const { line, column } = lineColumn(body, offset);
    return {
      ok: false,
      problem: {
        line,
        column,
        message: message.replace(/,? ".*" is not valid JSON$/s, ''),
        excerpt: excerpt(body, line, column),
      },
    };
  }
}

function parseYamlText(text: string): ParseResult {
  try {
    return { ok: true, value: parseYaml(text, { uniqueKeys: true }) };
  } catch (err) {
    if (err instanceof YAMLParseError && err.linePos !== undefined) {
      const [start] = err.linePos;
      // yaml's message ends with " at line N, column M:" and its own excerpt: the position is reported
      // separately, and the excerpt is rebuilt the same way as for JSON.
      const first = (err.message.split('\n')[0] ?? err.message).replace(/ at line \d+, column \d+:?$/, '');
      return {
        ok: false,
        problem: { line: start.line, column: start.col, message: first, excerpt: excerpt(text, start.line, start.col) },
      };
    }
    throw err;
  }
}

function errorOffset(text: string, message: string): number {
  const m = /at position (\d+)/.exec(message);
  if (m !== null) return Number(m[1]);
  if (/Unexpected end of JSON input/.test(message)) return text.length;
  return firstBadOffset(text);
}

/**
 * The first offset whose prefix can no longer become valid JSON: a prefix that only runs out early
 * fails with an end-of-input error, one that contains the fault fails with another error.
 */
function firstBadOffset(text: string): number {
  const broken = (len: number): boolean => {
    try {
      JSON.parse(text.slice(0, len));
      return false;
    } catch (err) {
      const msg = (err as Error).message;
      if (/Unexpected end of JSON input/.test(msg)) return false;
      const pos = /at position (\d+)/.exec(msg);
      return pos === null || Number(pos[1]) < len;
    }
  };
  let lo = 1;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (broken(mid)) hi = mid;
    else lo = mid + 1;
  }
  return Math.max(0, lo - 1);
}

/** `line` of `text` (1-based) and a caret under `column`; long lines are cut around the column. */
export function excerpt(text: string, line: number, column: number): string {
  const raw = (text.split(/\r?\n/)[line - 1] ?? '').replace(/\t/g, ' ');
  const start = Math.max(0, column - 60);
  const shown = raw.slice(start, start + 120);
  return `${start > 0 ? '…' : ''}${shown}\n${' '.repeat(column - 1 - start + (start > 0 ? 1 : 0))}^`;
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
