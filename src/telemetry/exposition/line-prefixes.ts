/**
 * The bytes before the value on each sample line of a series (`name_bucket{labels,le="0.1"} `),
 * made once per series and reused by every later render: a large /metrics is mostly these
 * prefixes, and rebuilding them from their parts on each of 20 scrapes a second was most of a
 * render. Keyed by the series' attributes object, which is made once per series and lives exactly
 * as long as it does (a WeakMap, so series gone after a reload take their prefixes with them).
 */
export class LinePrefixes {
  readonly #bySeries = new WeakMap<object, { readonly family: string; readonly lines: readonly Buffer[] }>();

  get(family: string, series: object, make: () => readonly string[]): readonly Buffer[] {
    const cached = this.#bySeries.get(series);
    // A series belongs to one family; the name is checked anyway, since a wrong prefix would be silent.
    if (cached !== undefined && cached.family === family) return cached.lines;
    const lines = make().map((s) => Buffer.from(s));
    this.#bySeries.set(series, { family, lines });
    return lines;
  }
}
