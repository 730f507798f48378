/**
 * The standard Prometheus process collector (`process_metrics` exporter flag): the same family names,
 * types and units as client_golang's and prom-client's, so stock "process" dashboard panels work
 * unchanged against Tollgate.
 *
 * Everything is read at snapshot time by a store collector — no timers. The reads are cheap: two
 * libuv calls (cpuUsage, rss), and on Linux three small procfs reads plus one readdir of
 * /proc/self/fd. Families whose source does not exist on this platform (procfs) are never bound, so
 * their series are omitted rather than exported as a misleading 0, as both reference collectors do.
 */
import { readFileSync, readdirSync } from 'node:fs';
import type { MetricStore } from '../store/store.js';
import type { GaugeCell } from '../store/cells.js';

const GROUP = 'process';

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** `VmSize:	  123456 kB` → bytes; procfs always reports these fields in kB. */
function statusKb(status: string, field: string): number | undefined {
  const m = new RegExp(`^${field}:\\s*(\\d+)\\s*kB`, 'm').exec(status);
  return m?.[1] === undefined ? undefined : Number(m[1]) * 1024;
}

/** Soft limit of "Max open files" in /proc/self/limits; `unlimited` is reported as +Inf. */
function maxOpenFiles(limits: string): number | undefined {
  const m = /^Max open files\s+(\S+)/m.exec(limits);
  if (m?.[1] === undefined) return undefined;
  return m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

/**
 * Open descriptors, minus the one readdirSync itself holds on /proc/self/fd while listing it
 * (prom-client subtracts it too; otherwise every reading is one too high).
 */
function openFds(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return undefined;
  }
}

function setIfKnown(cell: GaugeCell | undefined, v: number | undefined): void {
  // A failed read keeps the last good value: a transient EMFILE must not look like "0 bytes".
  if (cell !== undefined && v !== undefined && !Number.isNaN(v)) cell.set(v);
}

export function registerProcessMetrics(store: MetricStore): void {
  const cpuUser = store
    .counter(GROUP, {
      name: 'process_cpu_user_seconds',
      help: 'Total user CPU time spent in seconds.',
      unit: 'seconds',
    })
    .bind([]);
  const cpuSystem = store
    .counter(GROUP, {
      name: 'process_cpu_system_seconds',
      help: 'Total system CPU time spent in seconds.',
      unit: 'seconds',
    })
    .bind([]);
  const cpuTotal = store
    .counter(GROUP, {
      name: 'process_cpu_seconds',
      help: 'Total user and system CPU time spent in seconds.',
      unit: 'seconds',
    })
    .bind([]);

  // process.uptime() counts from process start, so this is the start instant; it never changes, so
  // it is computed once (fractional seconds, like client_golang's procfs-based value).
  store
    .gauge(GROUP, {
      name: 'process_start_time_seconds',
      help: 'Start time of the process since unix epoch in seconds.',
      unit: 'seconds',
      merge: 'min',
    })
    .bind([])
    .set(Date.now() / 1000 - process.uptime());

  const resident = store
    .gauge(GROUP, {
      name: 'process_resident_memory_bytes',
      merge: 'sum',
      help: 'Resident memory size in bytes.',
      unit: 'bytes',
    })
    .bind([]);

  // prom-client's Linux collector: VmSize → virtual, VmData → heap, both from /proc/self/status
  // (one read, already in kB, so no page-size guess as /proc/self/statm would need).
  const hasStatus = readText('/proc/self/status') !== undefined;
  const virtual = hasStatus
    ? store
        .gauge(GROUP, {
          name: 'process_virtual_memory_bytes',
          merge: 'sum',
          help: 'Virtual memory size in bytes.',
          unit: 'bytes',
        })
        .bind([])
    : undefined;
  const heap = hasStatus
    ? store
        .gauge(GROUP, { name: 'process_heap_bytes', merge: 'sum', help: 'Process heap size in bytes.', unit: 'bytes' })
        .bind([])
    : undefined;

  const hasFds = openFds() !== undefined;
  const open = hasFds
    ? store.gauge(GROUP, { name: 'process_open_fds', merge: 'sum', help: 'Number of open file descriptors.' }).bind([])
    : undefined;
  const hasLimits = readText('/proc/self/limits') !== undefined;
  const max = hasLimits
    ? store.gauge(GROUP, { name: 'process_max_fds', help: 'Maximum number of open file descriptors.' }).bind([])
    : undefined;

  store.addCollector(GROUP, () => {
    // Cumulative by nature: the counter cell simply holds the latest reading (µs → s).
    const cpu = process.cpuUsage();
    cpuUser.value = cpu.user / 1e6;
    cpuSystem.value = cpu.system / 1e6;
    cpuTotal.value = (cpu.user + cpu.system) / 1e6;
    // memoryUsage.rss() skips the V8 heap walk that process.memoryUsage() does.
    resident.set(process.memoryUsage.rss());

    if (hasStatus) {
      const status = readText('/proc/self/status');
      if (status !== undefined) {
        setIfKnown(virtual, statusKb(status, 'VmSize'));
        setIfKnown(heap, statusKb(status, 'VmData'));
      }
    }
    if (hasFds) setIfKnown(open, openFds());
    if (hasLimits) {
      const limits = readText('/proc/self/limits');
      if (limits !== undefined) setIfKnown(max, maxOpenFiles(limits));
    }
  });
}
