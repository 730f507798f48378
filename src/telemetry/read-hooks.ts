/**
 * Functions run before every read of a metric registry, in the order they were added: the views'
 * queue of finished requests is written into the cells there (view-deferral.ts), so a read sees
 * every request finished before it. One contract for both registries a gateway reads, the metric
 * store (store/store.ts) and `/__stats`' (stats/extended-metrics.ts).
 */
export class ReadHooks {
  readonly #fns: (() => void)[] = [];

  add(fn: () => void): void {
    this.#fns.push(fn);
  }

  run(): void {
    for (const fn of this.#fns) fn();
  }
}
