/**
 * What the value tests of issue 19 compare against: /proc read as procfs reads it (client_golang's
 * process collector), and `tollgate run` started from the sources (tsx), so the cluster topology runs
 * the code under test without a build.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { LongRunning } from './cli.js';

export const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');

/** IpExt InOctets / OutOctets of /proc/<pid>/net/netstat (the network namespace's), as procfs' Netstat reads them. */
export function ipExtOctets(pid: number | 'self' = 'self'): { in: number; out: number } {
  const lines = readFileSync(`/proc/${pid}/net/netstat`, 'utf8').split('\n');
  const i = lines.findIndex((l) => l.startsWith('IpExt:'));
  const names = (lines[i] as string).split(' ');
  const values = (lines[i + 1] as string).split(' ');
  return { in: Number(values[names.indexOf('InOctets')]), out: Number(values[names.indexOf('OutOctets')]) };
}

/** The soft limit of a /proc/self/limits row, `unlimited` being the largest uint64 (procfs proc_limits.go). */
export function softLimit(row: string): number {
  const m = new RegExp(`^${row}\\s+(\\S+)`, 'm').exec(readFileSync('/proc/self/limits', 'utf8'));
  if (m?.[1] === undefined) throw new Error(`no ${row} in /proc/self/limits`);
  return m[1] === 'unlimited' ? 2 ** 64 : Number(m[1]);
}

/** Resident set size of a process in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m?.[1] === undefined) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** `tollgate <args>` from src/ through tsx (cluster workers inherit the loader); killed after the test. */
export function startTollgate(
  t: TestContext,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): LongRunning & { argv: string[] } {
  const argv = [process.execPath, MAIN, ...args];
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return { child, output: () => out, exited, argv };
}

/** Pids of the workers that logged `gateway listening`. */
export function workerPids(out: string): number[] {
  return out.split('\n').flatMap((l) => {
    try {
      const j = JSON.parse(l) as { msg?: string; pid?: number };
      return j.msg === 'gateway listening' && typeof j.pid === 'number' ? [j.pid] : [];
    } catch {
      return [];
    }
  });
}
