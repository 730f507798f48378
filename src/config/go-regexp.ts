/**
 * Go's regular expressions (RE2 syntax) as JavaScript ones. KrakenD compiles the patterns of a JSON
 * schema (santhosh-tekuri/jsonschema uses Go's `regexp`) and `security/http` `allowed_hosts` with
 * `allowed_hosts_are_regex` (unrolled/secure `secure.go:158`, `regexp.Compile("^%s$")`) with Go's
 * engine. The common RE2 forms JavaScript spells differently are rewritten here: a leading flag group
 * `(?i)`, `(?s)`, `(?m)` (as the RegExp's flags), `\A` and `\z` (start and end of the text), and
 * `(?P<name>…)`. What JavaScript has no form for (a flag group further in, `(?U)`, `(?i:…)`) is an
 * error, and so is anything the RegExp constructor refuses in unicode mode (POSIX classes `[[:alpha:]]`,
 * `\pL`, `\Q…\E`): the caller reports it with the setting's path instead of matching differently.
 *
 * One difference remains: RE2's `\s` is ASCII whitespace only, JavaScript's also takes Unicode spaces.
 */

export type GoRegExp = { readonly ok: true; readonly source: string; readonly flags: string } | GoRegExpError;

export interface GoRegExpError {
  readonly ok: false;
  readonly message: string;
}

const LEADING_FLAGS = /^\(\?([imsU]+)\)/;

/** The JavaScript source and flags (`u` always) of an RE2 pattern, or why it has none. */
export function translateGoRegExp(pattern: string): GoRegExp {
  let rest = pattern;
  let flags = 'u';
  const lead = LEADING_FLAGS.exec(rest);
  if (lead !== null) {
    const f = lead[1] as string;
    if (f.includes('U')) return { ok: false, message: 'the ungreedy flag (?U) has no JavaScript equivalent' };
    for (const c of new Set(f)) flags += c;
    rest = rest.slice(lead[0].length);
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i] as string;
    if (c === '\\') {
      const next = rest[i + 1] ?? '';
      i++;
      if (!inClass && next === 'A') out += '(?<![\\s\\S])';
      else if (!inClass && next === 'z') out += '(?![\\s\\S])';
      else out += c + next;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      // RE2, like Perl, takes a `]` right after `[` or `[^` as a literal.
      if (rest[i + 1] === '^') out += rest[++i] as string;
      if (rest[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '(' && rest[i + 1] === '?') {
      const after = rest.slice(i + 2);
      if (after.startsWith('P<')) {
        out += '(?<';
        i += 3;
        continue;
      }
      if (/^[imsU-]+[:)]/.test(after))
        return { ok: false, message: 'flag groups such as (?i) are supported only at the start of the pattern' };
    }
    out += c;
  }
  try {
    new RegExp(out, flags);
  } catch (err) {
    return { ok: false, message: `not a regular expression Tollgate can run: ${(err as Error).message}` };
  }
  return { ok: true, source: out, flags };
}

/** The RegExp of an RE2 pattern; throws (with the reason) when it has none. */
export function goRegExp(pattern: string): RegExp {
  const t = translateGoRegExp(pattern);
  if (!t.ok) throw new SyntaxError(t.message);
  return new RegExp(t.source, t.flags);
}
