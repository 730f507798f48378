// Small helpers for the in-process micro-benchmarks (telemetry-record.ts,
// telemetry-render.ts, tracing-record.ts, kong.ts): their shared prologue
// (help text, integer options, the machine and quiet-machine line),
// CPU and wall-clock timing of a block, medians, and the foreign-load checks.

import { availableParallelism, cpus } from 'node:os';
import { backgroundCpuBusyPercent, NOISY_BACKGROUND_PERCENT } from './cpu-quiet.js';
import { machineBusyMs } from './foreign-load.js';

export interface Timing {
  /** process.cpuUsage() delta (user + system, every thread of this process: GC helpers too), ns. */
  readonly cpuNs: number;
  /** process.hrtime.bigint() delta, ns. */
  readonly wallNs: number;
}

/** Times `block` once, in CPU time and wall-clock time. */
export function timeSync(block: () => void): Timing {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  block();
  const t1 = process.hrtime.bigint();
  const cpu = process.cpuUsage(cpu0);
  return { cpuNs: (cpu.user + cpu.system) * 1000, wallNs: Number(t1 - t0) };
}

/** Same as timeSync for an async block (prom-client and the OTel exporter collect asynchronously). */
export async function timeAsync(block: () => Promise<void>): Promise<Timing> {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await block();
  const t1 = process.hrtime.bigint();
  const cpu = process.cpuUsage(cpu0);
  return { cpuNs: (cpu.user + cpu.system) * 1000, wallNs: Number(t1 - t0) };
}

/** Median (lower median for even counts). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const m = sorted[Math.floor((sorted.length - 1) / 2)];
  if (m === undefined) throw new Error('median of nothing');
  return m;
}

/** Prints `usage` and exits when -h or --help is among `argv`. */
export function exitOnHelp(argv: readonly string[], usage: string): void {
  if (!argv.includes('--help') && !argv.includes('-h')) return;
  process.stdout.write(usage);
  process.exit(0);
}

/** "node v20.x, 2 CPU(s) (model)", for the line each micro-benchmark starts with. */
export function machineSummary(): string {
  return `node ${process.version}, ${availableParallelism()} CPU(s) (${cpus()[0]?.model ?? 'unknown'})`;
}

/** Parses `--name value` integer options with a fallback; throws on garbage. */
export function intOption(argv: readonly string[], name: string, fallback: number, min = 1): number {
  const i = argv.indexOf(`--${name}`);
  if (i === -1) return fallback;
  const raw = argv[i + 1];
  const value = Number(raw);
  if (raw === undefined || !Number.isInteger(value) || value < min)
    throw new Error(`--${name} must be an integer >= ${min}, got "${String(raw)}"`);
  return value;
}

/**
 * Samples background CPU before the run: on a 2-core box a test suite or a
 * compiler running alongside shifts these figures by tens of percent.
 */
export async function quietCheck(): Promise<{ readonly busyPercent: number; readonly warning: string | undefined }> {
  const busy = await backgroundCpuBusyPercent(500);
  const busyPercent = Math.round(busy * 10) / 10;
  return {
    busyPercent,
    warning:
      busy > NOISY_BACKGROUND_PERCENT
        ? `warning: the machine was busy before the run (background CPU ${Math.round(busy)}% > ${NOISY_BACKGROUND_PERCENT}%); numbers are noisy — rerun on a quiet machine`
        : undefined,
  };
}

/**
 * Foreign CPU load *during* a measurement: all-CPU busy time (steal included,
 * see foreign-load.ts) minus this process's own CPU time, as a percentage of
 * the machine's capacity. The micro-benchmarks keep one core busy
 * themselves; anything above that is someone else competing for caches,
 * memory bandwidth and (on 2 cores) the core our GC helper threads would use.
 */
export function startForeignLoadMeter(): () => number {
  const m0 = machineBusyMs();
  const own0 = process.cpuUsage();
  return () => {
    const m1 = machineBusyMs();
    const own = process.cpuUsage(own0);
    const total = m1.total - m0.total;
    if (total <= 0) return 0;
    const foreign = m1.busy - m0.busy - (own.user + own.system) / 1000;
    return Math.max(0, Math.round((1000 * foreign) / total) / 10);
  };
}

/** The closing lines about foreign load: during the run (`foreignPercent`), and the before-run warning if any. */
export function foreignLoadLines(foreignPercent: number, quiet: { readonly warning: string | undefined }): string[] {
  const out = [
    `foreign CPU load during the measurement: ${foreignPercent}% of the machine (this benchmark itself keeps ~${Math.round(100 / availableParallelism())}% busy)`,
  ];
  if (quiet.warning !== undefined) out.push(quiet.warning);
  if (foreignPercent > 10)
    out.push(
      'warning: another process used the CPU during the measurement; numbers are noisy — rerun on a quiet machine',
    );
  return out;
}
