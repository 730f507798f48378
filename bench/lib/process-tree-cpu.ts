// CPU time of one process tree (Linux /proc): a gateway started under
// `timeout`/`taskset`, its Node primary and every cluster worker. Each
// process's /proc/<pid>/stat utime+stime already sums all of its threads (the
// event loop, libuv's pool, V8's GC and compiler threads), and cutime+cstime
// add children it has reaped, so a worker that exits mid-run still counts.
// The main threads' share (/proc/<pid>/task/<pid>/stat: each event loop) is
// kept apart: the rest is V8's GC and compiler threads and libuv's pool, which
// a CPU profile of the event loop does not show.

import { CLOCK_TICKS_PER_SECOND, childPids, statTimes, ticksToMs as ms } from './foreign-load.js';

/** utime + stime + cutime + cstime of one process, its user part, and utime + stime of its main thread, in clock ticks. */
function processTicks(pid: number): { all: number; user: number; main: number } | undefined {
  const p = statTimes(pid);
  if (p === undefined) return undefined;
  const m = statTimes(pid, pid);
  return { all: p[0] + p[1] + p[2] + p[3], user: p[0] + p[2], main: m === undefined ? 0 : m[0] + m[1] };
}

export interface TreeCpu {
  /** CPU ms of the root and every live descendant. */
  readonly ms: number;
  /** Of which the processes' main threads (event loops); the rest ran on helper threads. */
  readonly mainThreadMs: number;
  /** Of which in user mode (utime + cutime); the rest is the kernel's, mostly socket I/O. */
  readonly userMs: number;
  /** Processes found (root included): a cluster shows 1 + workers, plus any leash wrapper. */
  readonly processes: number;
  /** CPU ms of each process found, by pid (to tell the worker serving the requests from the primary). */
  readonly byProcess: ReadonlyMap<number, number>;
}

/** CPU time of `root` and its live descendants, or undefined when the root is gone (or there is no /proc). */
export function treeCpu(root: number): TreeCpu | undefined {
  if (processTicks(root) === undefined) return undefined;
  let ticks = 0;
  let mainTicks = 0;
  let userTicks = 0;
  let processes = 0;
  const byProcess = new Map<number, number>();
  const seen = new Set<number>();
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    const t = processTicks(pid);
    if (t === undefined) continue;
    ticks += t.all;
    byProcess.set(pid, ms(t.all));
    mainTicks += t.main;
    userTicks += t.user;
    processes++;
    stack.push(...childPids(pid));
  }
  return { ms: ms(ticks), mainThreadMs: ms(mainTicks), userMs: ms(userTicks), processes, byProcess };
}

/** The CPU ms the busiest process of a tree used between two readings (the worker, in a loaded cluster). */
export function busiestProcessMs(before: TreeCpu, after: TreeCpu): number {
  let most = 0;
  for (const [pid, ms] of after.byProcess) most = Math.max(most, ms - (before.byProcess.get(pid) ?? 0));
  return most;
}

/** Resolution of treeCpu, in ms: one clock tick. */
export const TREE_CPU_RESOLUTION_MS = 1000 / CLOCK_TICKS_PER_SECOND;
