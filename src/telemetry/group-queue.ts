/**
 * Items handled a group at a time: `run` gets what is queued once `group` items wait, or `delayMs`
 * after the first of them, or on `flush`. Memory stays bounded by `group`; the timer never keeps the
 * process alive. What span-deferral.ts and view-deferral.ts share.
 */
export class GroupQueue<T> {
  readonly #group: number;
  readonly #delayMs: number;
  readonly #run: (items: readonly T[]) => void;
  #pending: T[] = [];
  #timer: NodeJS.Timeout | undefined;
  readonly #flush = (): void => this.flush();

  constructor(group: number, delayMs: number, run: (items: readonly T[]) => void) {
    this.#group = group;
    this.#delayMs = delayMs;
    this.#run = run;
  }

  add(item: T): void {
    const n = this.#pending.push(item);
    if (n >= this.#group) this.flush();
    else if (n === 1) {
      this.#timer = setTimeout(this.#flush, this.#delayMs);
      this.#timer.unref();
    }
  }

  /** Runs what is queued now. */
  flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const list = this.#pending;
    if (list.length === 0) return;
    this.#pending = [];
    this.#run(list);
  }
}
