// CPU time of one process tree (Linux /proc): a gateway started under
// `timeout`/`taskset`, its Node primary and every cluster worker. Each
// process's /proc/<pid>/stat utime+stime already sums all of its threads (the
// event loop, libuv's pool, V8's GC and compiler threads), and cutime+cstime
// add children it has reaped, so a worker that exits mid-run still counts.

import { readFileSync } from 'node:fs';
import { CLOCK_TICKS_PER_SECOND, childPids } from './foreign-load.js';

/** utime + stime + cutime + cstime of one process in clock ticks, or undefined when it is gone. */
function processTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields are counted after the last ')'; field n is at index n - 3.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  } catch {
    return undefined;
  }
}

export interface TreeCpu {
  /** CPU ms of the root and every live descendant. */
  readonly ms: number;
  /** Processes found (root included): a cluster shows 1 + workers, plus any leash wrapper. */
  readonly processes: number;
}

/** CPU time of `root` and its live descendants, or undefined when the root is gone (or there is no /proc). */
export function treeCpu(root: number): TreeCpu | undefined {
  if (processTicks(root) === undefined) return undefined;
  let ticks = 0;
  let processes = 0;
  const seen = new Set<number>();
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    const t = processTicks(pid);
    if (t === undefined) continue;
    ticks += t;
    processes++;
    stack.push(...childPids(pid));
  }
  return { ms: (ticks * 1000) / CLOCK_TICKS_PER_SECOND, processes };
}

/** Resolution of treeCpu, in ms: one clock tick. */
export const TREE_CPU_RESOLUTION_MS = 1000 / CLOCK_TICKS_PER_SECOND;
