/**
 * The bytes before the value on each sample line of a series (`name_bucket{labels,le="0.1"} `),
 * made once per series and reused by every later render: a large /metrics is mostly these
 * prefixes, and rebuilding them from their parts on each of 20 scrapes a second was most of a
 * render. Keyed by the series' attributes object, which is made once per series and lives exactly
 * as long as it does (a WeakMap, so series gone after a reload take their prefixes with them).
 */
export class LinePrefixes {
  readonly #byFamily = new Map<string, WeakMap<object, readonly Buffer[]>>();

  get(family: string, series: object, make: () => readonly string[]): readonly Buffer[] {
    let map = this.#byFamily.get(family);
    if (map === undefined) {
      map = new WeakMap();
      this.#byFamily.set(family, map);
    }
    let lines = map.get(series);
    if (lines === undefined) {
      lines = make().map((s) => Buffer.from(s));
      map.set(series, lines);
    }
    return lines;
  }
}
