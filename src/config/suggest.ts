/**
 * "Did you mean …?" for unknown keys and namespaces: the closest known name by optimal-string-alignment
 * distance (Levenshtein plus adjacent transpositions, so `dashbaord` is one edit from `dashboard`).
 */

/** Edits (insert, delete, substitute, swap two adjacent characters) that turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  const first = rows[0] as number[];
  for (let j = 0; j <= b.length; j++) first[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[];
    const prev = rows[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, (rows[i - 2]?.[j - 2] as number) + 1);
      row[j] = d;
    }
  }
  return rows[a.length]?.[b.length] as number;
}

/**
 * How far a name may be from a known one to count as its typo: one edit for short names (so `key` is
 * not taken for `deny`), two from six characters on.
 */
function typoBudget(name: string): number {
  if (name.length <= 2) return 0;
  return name.length <= 5 ? 1 : 2;
}

/** The known name closest to `name` within its typo budget (case ignored), or undefined. */
export function closestName(name: string, known: Iterable<string>): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    if (k === name) continue;
    const d = editDistance(lower, k.toLowerCase());
    if (d <= Math.min(typoBudget(name), typoBudget(k)) && d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}
