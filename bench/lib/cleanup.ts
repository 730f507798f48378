// Process-wide teardown registry for the benchmark driver.
//
// The benchmark spawns upstreams, proxies and load generators; if any of them
// outlived the run it would keep a port busy and skew the next run, so every
// resource registers a teardown here and one place decides when they run:
// normal completion, SIGINT/SIGTERM, an uncaught error, or the global
// watchdog firing.

export interface CleanupHook {
  /** Graceful teardown, awaited on every orderly path. */
  readonly graceful: () => Promise<void>;
  /**
   * Last-resort teardown for the `exit` event, where nothing asynchronous can
   * run any more; must be synchronous and must not throw.
   */
  readonly immediate: () => void;
}

const hooks: CleanupHook[] = [];
let running: Promise<void> | undefined;
let installed = false;

export function registerCleanup(hook: CleanupHook): () => void {
  hooks.push(hook);
  return () => {
    const index = hooks.indexOf(hook);
    if (index !== -1) hooks.splice(index, 1);
  };
}

/**
 * True once teardown has begun. Long-running loops check it so an interrupted
 * run stops promptly instead of starting the next target's load.
 */
export function isShuttingDown(): boolean {
  return running !== undefined;
}

/** Runs every graceful hook once (later calls share the first run), newest first. */
export function runCleanup(): Promise<void> {
  running ??= (async () => {
    // Reverse order: things started last (load generators, proxies) usually
    // depend on things started first (upstream, temp dirs).
    for (const hook of [...hooks].reverse()) {
      try {
        await hook.graceful();
      } catch (error) {
        process.stderr.write(`bench: cleanup step failed: ${String(error)}\n`);
      }
    }
  })();
  return running;
}

function runImmediate(): void {
  for (const hook of [...hooks].reverse()) {
    try {
      hook.immediate();
    } catch {
      // Nothing useful can be done while the process is exiting.
    }
  }
}

/**
 * Wires signals, uncaught errors and `exit` to the registry. Exit codes follow
 * the shell convention (128 + signal number) so callers can tell an interrupt
 * from a failure.
 */
export function installCleanupHandlers(): void {
  if (installed) return;
  installed = true;

  const onSignal = (signal: NodeJS.Signals, code: number): void => {
    process.stderr.write(`\nbench: received ${signal}, stopping children...\n`);
    runCleanup()
      .finally(() => process.exit(code))
      .catch(() => undefined);
  };
  process.once('SIGINT', () => onSignal('SIGINT', 130));
  process.once('SIGTERM', () => onSignal('SIGTERM', 143));
  process.once('SIGHUP', () => onSignal('SIGHUP', 129));

  const onFatal = (error: unknown): void => {
    process.stderr.write(`bench: fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    runCleanup()
      .finally(() => process.exit(1))
      .catch(() => undefined);
  };
  process.once('uncaughtException', onFatal);
  process.once('unhandledRejection', onFatal);

  // Covers process.exit() calls that bypassed runCleanup.
  process.once('exit', runImmediate);
}

/**
 * Fails the whole run if it exceeds its time budget, so a wedged child can
 * never make the benchmark hang forever. The timer is unref'd: it must not be
 * what keeps the process alive.
 */
export function armWatchdog(budgetMs: number): void {
  const timer = setTimeout(() => {
    process.stderr.write(`bench: watchdog: run exceeded its ${Math.round(budgetMs / 1000)} s budget, aborting\n`);
    process.exitCode = 124;
    runCleanup()
      .finally(() => process.exit(124))
      .catch(() => undefined);
  }, budgetMs);
  timer.unref();
}
