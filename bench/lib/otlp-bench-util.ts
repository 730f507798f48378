// Helpers shared by bench/otlp-throughput.ts and bench/otlp-collector-down.ts:
// CPU pinning of the driver, /metrics scraping and sample sums, the real pid
// of a gateway started under `timeout`/`taskset`, its RSS, per-CPU busy time
// and the "wait until no other benchmark is running" gate.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { availableParallelism } from 'node:os';
import { isShuttingDown } from './cleanup.js';
import { childPids, statTimes } from './foreign-load.js';
import { which } from './which.js';

/** Moves a running process, every thread of it (-a), to one CPU; throws with taskset's message. */
export function pinProcess(taskset: string, pid: number, cpu: number): void {
  execFileSync(taskset, ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Pins this driver (every thread) to CPU 0 so that what it spawns afterwards
 * (upstream, sinks, wrk) inherits CPU 0, and returns the taskset binary to pin
 * the gateways to CPU 1 — or undefined with the reason logged.
 */
export function pinDriver(
  enabled: boolean,
  log: (message: string) => void,
  tag: string,
  pinned = 'gateway(s) on CPU 1; driver, upstream, sink(s) and wrk on CPU 0',
  /** Logged as "not pinned (…)" when pinning is off; undefined: nothing is logged then. */
  disabled: string | undefined = '--no-pin',
): string | undefined {
  const bin = enabled && availableParallelism() >= 2 ? which('taskset') : undefined;
  if (bin === undefined) {
    const why = enabled ? 'taskset not found or a single CPU' : disabled;
    if (why !== undefined) log(`${tag}: not pinned (${why})`);
    return undefined;
  }
  try {
    pinProcess(bin, process.pid, 0);
    log(`${tag}: pinned: ${pinned}`);
    return bin;
  } catch (error) {
    log(`${tag}: not pinned (taskset failed: ${error instanceof Error ? error.message : String(error)})`);
    return undefined;
  }
}

/** GET with the body as text (for /metrics); a fresh connection, closed afterwards. */
export function getText(url: string, timeoutMs = 5000): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.once('error', reject);
    req.end();
  });
}

/** Sum of every sample of `name` whose line contains all of `must` (e.g. `outcome="dropped"`). */
export function sumSamples(text: string, name: string, must: readonly string[] = []): { series: number; sum: number } {
  let series = 0;
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!must.every((m) => line.includes(m))) continue;
    // Value is the field after the label set; an optional timestamp or exemplar may follow.
    const afterLabels = line.slice(line.indexOf('}') === -1 ? name.length : line.indexOf('}') + 1).trim();
    const value = Number(afterLabels.split(/\s+/)[0]);
    if (!Number.isFinite(value)) continue;
    series++;
    sum += value;
  }
  return { series, sum };
}

/** The sample lines of an exposition (neither comments nor blank lines). */
export function sampleLineCount(text: string): number {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
}

function comm(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Node processes forked by `pid` (cluster workers), leaving out helpers such as tsx's esbuild service. */
export function nodeChildren(pid: number): number[] {
  return childPids(pid).filter((c) => comm(c)?.startsWith('node') === true);
}

/**
 * The pid of the Node process a tracked child runs: the child itself, or —
 * when it was started as `timeout … taskset … node` — the first descendant
 * whose command is not one of those wrappers (taskset execs, timeout forks).
 */
export function nodePidOf(pid: number | undefined): number | undefined {
  let current = pid;
  for (let depth = 0; current !== undefined && depth < 4; depth++) {
    const name = comm(current);
    if (name === undefined) return undefined;
    if (name !== 'timeout' && name !== 'taskset') return current;
    current = childPids(current)[0];
  }
  return undefined;
}

/** VmRSS of a process in bytes, or undefined when it is gone or /proc is missing. */
export function rssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] === undefined ? undefined : Number(m[1]) * 1024;
  } catch {
    return undefined;
  }
}

/**
 * VmRSS of a process and all its descendants (a cluster primary and its workers), or undefined when
 * the process is gone.
 */
export function treeRssBytes(pid: number): number | undefined {
  const own = rssBytes(pid);
  if (own === undefined) return undefined;
  let sum = own;
  const stack = [...childPids(pid)];
  while (stack.length > 0) {
    const p = stack.pop() as number;
    sum += rssBytes(p) ?? 0;
    stack.push(...childPids(p));
  }
  return sum;
}

/** utime + stime of a process in clock ticks, or undefined. */
export function cpuTicks(pid: number): number | undefined {
  const t = statTimes(pid);
  return t === undefined ? undefined : t[0] + t[1];
}

function perCpuTimes(): Map<string, { busy: number; total: number }> {
  const out = new Map<string, { busy: number; total: number }>();
  try {
    for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
      const m = /^(cpu\d+)\s+(.*)$/.exec(line);
      if (m?.[1] === undefined || m[2] === undefined) continue;
      const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = m[2]
        .trim()
        .split(/\s+/)
        .map(Number);
      const busy = user + nice + system + irq + softirq + steal;
      out.set(m[1], { busy, total: busy + idle + iowait });
    }
  } catch {
    // Not Linux.
  }
  return out;
}

/** Starts a meter of each CPU's busy share (0–100, softirq and steal included); empty without /proc. */
export function startPerCpuMeter(): () => Record<string, number> {
  const t0 = perCpuTimes();
  return () => {
    const t1 = perCpuTimes();
    const out: Record<string, number> = {};
    for (const [cpu, b] of t1) {
      const a = t0.get(cpu);
      if (a === undefined || b.total <= a.total) continue;
      out[cpu] = Math.round((1000 * (b.busy - a.busy)) / (b.total - a.total)) / 10;
    }
    return out;
  };
}

function parentOf(pid: number): number | undefined {
  try {
    const m = /^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] === undefined ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

/**
 * Other benchmark processes on the machine (wrk, autocannon, anything running
 * from a bench/ path), excluding this driver's own tree and its ancestors (the
 * shell that started it).
 */
export function foreignBenchProcesses(): string[] {
  const own = new Set<number>([process.pid]);
  for (let p = parentOf(process.pid); p !== undefined && p > 1 && !own.has(p); p = parentOf(p)) own.add(p);
  const stack = [process.pid];
  while (stack.length > 0) {
    for (const c of childPids(stack.pop() as number)) {
      if (!own.has(c)) {
        own.add(c);
        stack.push(c);
      }
    }
  }
  let out: string;
  try {
    out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (m?.[1] === undefined || m[2] === undefined) continue;
    const pid = Number(m[1]);
    const args = m[2];
    if (own.has(pid)) continue;
    if (/(^|\/)(wrk|autocannon)(\s|$)/.test(args) || /(^|[\s/])bench\/\S+\.ts/.test(args) || /autocannon/.test(args))
      found.push(`${pid} ${args.slice(0, 120)}`);
  }
  return found;
}

/**
 * Waits (polling every `pollMs`) until no other benchmark process is running,
 * for at most `maxMs`; returns what was still running when it gave up, or [] when clear.
 */
export async function waitForQuietBench(
  log: (message: string) => void,
  tag: string,
  maxMs = 15 * 60_000,
  pollMs = 20_000,
): Promise<string[]> {
  const deadline = Date.now() + maxMs;
  let others = foreignBenchProcesses();
  let announced = false;
  while (others.length > 0 && Date.now() < deadline && !isShuttingDown()) {
    if (!announced) {
      log(
        `${tag}: another benchmark is running; waiting (up to ${Math.round(maxMs / 60_000)} min, polling every ${Math.round(pollMs / 1000)} s):\n  ${others.join('\n  ')}`,
      );
      announced = true;
    }
    await new Promise((r) => setTimeout(r, Math.min(pollMs, Math.max(0, deadline - Date.now()))));
    others = foreignBenchProcesses();
  }
  if (announced && others.length === 0) log(`${tag}: the other benchmark has finished`);
  return others;
}
