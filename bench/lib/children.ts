// Spawning and reliably reaping child processes.
//
// Every process the benchmark starts goes through here so that it is:
// - in its own process group (`detached`), letting us signal the whole group
//   and take down anything it forked in turn (e.g. a gateway's workers);
// - optionally "leashed" with coreutils `timeout`, an independent watchdog
//   that still kills native daemons (nginx, HAProxy) if this driver itself is
//   SIGKILLed and never gets to run its cleanup;
// - registered with the cleanup registry, so SIGINT, errors and normal exit
//   all stop it;
// - keeping the tail of its stderr, which is what we report when it fails.

import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { isShuttingDown, registerCleanup } from './cleanup.js';
import { which } from './which.js';

const STDERR_TAIL_BYTES = 4096;
/** Cap on captured stdout: tool reports are a few KiB; anything bigger is a bug. */
const STDOUT_MAX_BYTES = 1 << 20;
const TIMEOUT_BIN = which('timeout');

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface TrackedChild {
  readonly name: string;
  readonly process: ChildProcess;
  /** Resolves when the process has exited, however that happened. */
  readonly exited: Promise<ExitInfo>;
  /** Last few KiB of stderr, for error reports. */
  stderrTail(): string;
  /** Captured stdout so far (empty unless spawned with `stdout: 'capture'`). */
  stdout(): string;
  /** SIGTERM the process group, SIGKILL it if still alive after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnTrackedOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Give the child an IPC channel (Node children report their port through it). */
  readonly ipc?: boolean;
  /**
   * What to do with stdout: dropped by default (servers), or captured for
   * tools whose report is their stdout (wrk, the autocannon worker).
   */
  readonly stdout?: 'ignore' | 'capture';
  /** Hard wall-clock limit enforced by coreutils `timeout`, when installed. */
  readonly leashSeconds?: number;
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    // Negative pid = the whole process group the child leads (it is detached).
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  }
}

export function spawnTracked(
  name: string,
  command: string,
  args: readonly string[],
  options: SpawnTrackedOptions = {},
): TrackedChild {
  // A child spawned after teardown began would never be reaped.
  if (isShuttingDown()) throw new Error(`not starting ${name}: shutting down`);
  let file = command;
  let argv = [...args];
  if (options.leashSeconds !== undefined && TIMEOUT_BIN !== undefined) {
    // `-k 3`: if the child ignores SIGTERM at the deadline, SIGKILL 3 s later.
    argv = ['-k', '3', String(Math.ceil(options.leashSeconds)), command, ...args];
    file = TIMEOUT_BIN;
  }

  const stdio: SpawnOptions['stdio'] = [
    'ignore',
    options.stdout === 'capture' ? 'pipe' : 'ignore',
    'pipe',
    ...(options.ipc === true ? (['ipc'] as const) : []),
  ];
  const child = spawn(file, argv, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio,
    detached: true,
  });

  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-STDERR_TAIL_BYTES);
  });

  let out = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    if (out.length < STDOUT_MAX_BYTES) out += chunk;
  });

  const exited = new Promise<ExitInfo>((resolve) => {
    // 'close' rather than 'exit': it also waits for stdio to drain, so captured
    // stdout is complete once this resolves.
    child.once('close', (code, signal) => resolve({ code, signal }));
    // A failed spawn (ENOENT...) emits 'error' and possibly never 'exit'.
    child.once('error', (error) => {
      tail += `\n${error.message}`;
      resolve({ code: null, signal: null });
    });
  });

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 2000): Promise<void> => {
    stopping ??= (async () => {
      signalGroup(child, 'SIGTERM');
      const timedOut = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(true), graceMs).unref()),
      ]);
      if (timedOut) {
        signalGroup(child, 'SIGKILL');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
      }
    })();
    return stopping;
  };

  const unregister = registerCleanup({
    graceful: () => stop(),
    immediate: () => signalGroup(child, 'SIGKILL'),
  });
  exited.then(unregister).catch(() => undefined);

  return {
    name,
    process: child,
    exited,
    stderrTail: () => tail.trim(),
    stdout: () => out,
    stop,
  };
}
