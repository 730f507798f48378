/**
 * Keeps the data listener below the process's open-file limit. In a cluster worker a connection
 * arrives as a descriptor passed by the primary over IPC; when the worker has no descriptor left to
 * receive it, Node answers NODE_HANDLE_NACK, and for a raw TCP handle it neither resends nor closes it
 * (lib/internal/child_process.js: only `net.Socket` handles get a pending message to retransmit), so
 * the primary's round-robin waits for this worker's acknowledgement for ever: every later connection
 * queues in the primary, in CLOSE-WAIT once the client gives up (lib/internal/cluster/round_robin_handle.js,
 * `handoff`). A single process meets the same limit in accept(2), where libuv drops the connection.
 * So, like nginx at `worker_connections` and libuv at EMFILE, a connection beyond the listener's share
 * of the limit is closed as soon as it arrives, keeping a reserve for the upstream sockets and for the
 * next descriptor the primary hands over; the log line says so, rate limited.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:net';
import type { Socket } from 'node:net';
import type { Logger } from '../log/logger.js';
import { RateLimitedLog } from '../log/logger.js';

/** The soft RLIMIT_NOFILE, from /proc (Linux); undefined elsewhere or when unlimited. */
function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'latin1'));
    return m === null ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

function openFiles(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return undefined;
  }
}

export class DescriptorGuard {
  readonly #logs = new RateLimitedLog();
  #open = 0;
  /** Connections this listener may hold; Infinity when the limit is unknown. */
  readonly capacity: number;
  /** Connections closed on arrival so far. */
  refused = 0;

  constructor(
    server: Server,
    readonly logger: Logger,
    limit = openFileLimit(),
  ) {
    const inUse = openFiles();
    // 5 % of the limit, at least 32, for upstream sockets, log and config files, and the next handover.
    this.capacity =
      limit === undefined || inUse === undefined
        ? Infinity
        : Math.max(1, limit - inUse - Math.max(32, Math.ceil(limit / 20)));
    server.on('connection', (socket: Socket) => this.#onConnection(socket));
  }

  #onConnection(socket: Socket): void {
    if (this.#open >= this.capacity) {
      this.refused++;
      socket.destroy();
      this.#logs.maybe('emfile', (suppressed) =>
        this.logger.error(
          { code: 'EMFILE', capacity: this.capacity, suppressed },
          'accept failed: too many open files',
        ),
      );
      return;
    }
    this.#open++;
    socket.once('close', () => this.#open--);
  }
}
