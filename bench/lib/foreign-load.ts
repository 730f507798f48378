// Foreign CPU load *during* a load run (Linux): the machine's busy time
// (/proc/stat, steal included) minus the CPU time of this driver's own process tree — the
// driver, its live descendants (gateway, upstream, `timeout` leashes, a
// running wrk) and the children it has already reaped (a finished wrk ends up
// in the driver's cutime/cstime). What is left is someone else's work, which
// lib/cpu-quiet.ts (sampled before the run, while everything is idle) cannot
// see when it starts mid-run.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Clock ticks per second of /proc times (getconf CLK_TCK, 100 when unknown). */
export const CLOCK_TICKS_PER_SECOND = (() => {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

/** Clock ticks of /proc times in ms. */
export function ticksToMs(ticks: number): number {
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

/**
 * utime, stime, cutime, cstime of one process in ticks — or of one of its threads, `thread` (utime and
 * stime of that thread alone) — or undefined when it is gone (or not Linux).
 */
export function statTimes(pid: number, thread?: number): readonly [number, number, number, number] | undefined {
  try {
    const stat = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8');
    // Fields after the command name, which may contain spaces and parentheses: field n is at index n - 3.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [Number(f[11]), Number(f[12]), Number(f[13]), Number(f[14])];
  } catch {
    return undefined;
  }
}

/** Direct children of a process (every thread's children), from /proc. */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text !== '') for (const c of text.split(' ')) out.push(Number(c));
    }
  } catch {
    // Gone, or no /proc.
  }
  return out;
}

/** CPU ms of this process tree: self (with reaped children) and every live descendant (with theirs). */
function treeCpuMs(): number | undefined {
  let ticks = 0;
  const self = statTimes(process.pid);
  if (self === undefined) return undefined;
  const stack = [process.pid];
  const seen = new Set<number>();
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    const t = statTimes(pid);
    if (t !== undefined) ticks += t[0] + t[1] + t[2] + t[3];
    stack.push(...childPids(pid));
  }
  return ticksToMs(ticks);
}

/**
 * Machine CPU time in ms. From /proc/stat where available, so that steal time
 * (the hypervisor running someone else on our cores) counts as foreign too;
 * softirq is left out of both sums because the kernel does not charge it to
 * the processes whose loopback traffic caused it. Elsewhere, os.cpus().
 */
export function machineBusyMs(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const [label, ...rest] = line.trim().split(/\s+/);
    const v = rest.map(Number);
    if (label === 'cpu' && v.length >= 8 && v.every(Number.isFinite)) {
      const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, , steal = 0] = v;
      return {
        busy: ticksToMs(user + nice + system + irq + steal),
        total: ticksToMs(user + nice + system + idle + iowait + irq + steal),
      };
    }
  } catch {
    // Not Linux: fall through.
  }
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    busy += times.user + times.nice + times.sys + times.irq;
    total += times.user + times.nice + times.sys + times.idle + times.irq;
  }
  return { busy, total };
}

/**
 * Starts a meter; the returned function gives the foreign busy share of the
 * whole machine (0–100) since the start, or undefined where /proc is missing.
 * A live descendant that exits between the two samples without being reaped
 * by this driver would count as foreign; bench children only exit at cleanup.
 */
export function startTreeForeignLoadMeter(): () => number | undefined {
  const m0 = machineBusyMs();
  const own0 = treeCpuMs();
  return () => {
    const m1 = machineBusyMs();
    const own1 = treeCpuMs();
    if (own0 === undefined || own1 === undefined) return undefined;
    const total = m1.total - m0.total;
    if (total <= 0) return 0;
    const foreign = m1.busy - m0.busy - (own1 - own0);
    return Math.max(0, Math.round((1000 * foreign) / total) / 10);
  };
}
