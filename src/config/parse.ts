/**
 * Turns the config file's text into a value, JSON or YAML by extension, with the line and column of a
 * syntax error (V8's JSON messages give an offset only for some errors; the rest are located here).
 */
import { parse as parseYaml, YAMLParseError } from 'yaml';

export interface SyntaxProblem {
  readonly line: number;
  readonly column: number;
  readonly message: string;
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
    return { ok: false, problem: { line, column, message: message.replace(/,? ".*" is not valid JSON$/s, '') } };
  }
}

function parseYamlText(text: string): ParseResult {
  try {
    return { ok: true, value: parseYaml(text, { uniqueKeys: true }) };
  } catch (err) {
    if (err instanceof YAMLParseError && err.linePos !== undefined) {
      const [start] = err.linePos;
      return { ok: false, problem: { line: start.line, column: start.col, message: err.message.split('\n')[0] ?? err.message } };
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
