/**
 * The standard Prometheus process collector (`process_metrics` exporter flag): the same family names,
 * types and units as client_golang's and prom-client's, so stock "process" dashboard panels work
 * unchanged against Tollgate.
 *
 * Everything is read at snapshot time by a store collector — no timers. The reads are cheap: two
 * libuv calls (cpuUsage, rss), and on Linux four small procfs reads plus one readdir of
 * /proc/self/fd. Families whose source does not exist on this platform (procfs) are never bound, so
 * their series are omitted rather than exported as a misleading 0, as both reference collectors do.
 * client_golang's Linux collector (process_collector_procfsenabled.go:28-80, the one KrakenD
 * registers) also reads the address-space limit and the namespace's network bytes; so does this one.
 */
import { readFileSync, readdirSync } from 'node:fs';
import type { MetricStore } from '../store/store.js';
import type { CounterCell, GaugeCell } from '../store/cells.js';

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

/** `unlimited` as procfs reads it (proc_limits.go parseUint): the largest uint64, 2⁶⁴ − 1, which is 2⁶⁴ as a float. */
const UNLIMITED = 2 ** 64;

/** The soft limit of a /proc/self/limits row ("Max open files", "Max address space"). */
function softLimit(limits: string, row: string): number | undefined {
  const m = new RegExp(`^${row}\\s+(\\S+)`, 'm').exec(limits);
  if (m?.[1] === undefined) return undefined;
  return m[1] === 'unlimited' ? UNLIMITED : Number(m[1]);
}

/**
 * IpExt InOctets and OutOctets of /proc/self/net/netstat (procfs proc_netstat.go): the bytes of the
 * process's network namespace, which is what client_golang reports as the process's. A field the
 * kernel does not list reads 0, as client_golang does (process_collector_procfsenabled.go:67-76).
 */
function netOctets(netstat: string): { in: number; out: number } {
  const lines = netstat.split('\n');
  // Two lines per protocol: `IpExt: <names>`, then `IpExt: <values>`.
  const i = lines.findIndex((l) => l.startsWith('IpExt:'));
  const names = i === -1 ? [] : (lines[i] as string).split(' ');
  const values = lines[i + 1]?.split(' ') ?? [];
  const field = (name: string): number => {
    const at = names.indexOf(name);
    const v = at === -1 ? NaN : Number(values[at]);
    return Number.isFinite(v) ? v : 0;
  };
  return { in: field('InOctets'), out: field('OutOctets') };
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
  const maxVirtual = hasLimits
    ? store
        .gauge(GROUP, {
          name: 'process_virtual_memory_max_bytes',
          help: 'Maximum amount of virtual memory available in bytes.',
          unit: 'bytes',
        })
        .bind([])
    : undefined;
  const network = readText(NETSTAT) === undefined ? undefined : networkCells(store);

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
      if (limits !== undefined) {
        setIfKnown(max, softLimit(limits, 'Max open files'));
        setIfKnown(maxVirtual, softLimit(limits, 'Max address space'));
      }
    }
    const netstat = network === undefined ? undefined : readText(NETSTAT);
    if (network !== undefined && netstat !== undefined) {
      const octets = netOctets(netstat);
      network.receive.value = octets.in;
      network.transmit.value = octets.out;
    }
  });
}

const NETSTAT = '/proc/self/net/netstat';

/**
 * Counters of the whole network namespace, so every process of a cluster reads the same numbers: the
 * cluster merge takes the largest instead of the sum (cluster/merge.ts).
 */
export const NAMESPACE_COUNTERS: ReadonlySet<string> = new Set([
  'process_network_receive_bytes',
  'process_network_transmit_bytes',
]);

function networkCells(store: MetricStore): { receive: CounterCell; transmit: CounterCell } {
  return {
    receive: store
      .counter(GROUP, {
        name: 'process_network_receive_bytes',
        help: 'Number of bytes received by the process over the network.',
        unit: 'bytes',
      })
      .bind([]),
    transmit: store
      .counter(GROUP, {
        name: 'process_network_transmit_bytes',
        help: 'Number of bytes sent by the process over the network.',
        unit: 'bytes',
      })
      .bind([]),
  };
}
