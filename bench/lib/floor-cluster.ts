// Child process: the floor proxy (lib/floor-proxy.ts) run as N node:cluster
// workers on one shared port, the reference for a Tollgate with `workers: N`.
//
//   node --import tsx bench/lib/floor-cluster.ts --upstream <origin> [--workers 2]
//
// The workers run floor-proxy.ts unchanged (cluster.setupPrimary({ exec })),
// so the per-request work is exactly the floor's. Each worker binds
// 127.0.0.1:0 and announces its port to this primary over the cluster IPC
// channel; node:cluster hands every worker's listen(0) the same port (the
// primary owns the socket and round-robins connections, as for Tollgate).
// Once all N have announced the same port, this primary announces it to the
// driver — not before, so no load starts against a half-started cluster.

import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { announce, exitWithParent, type ChildMessage } from './ipc.js';

const START_TIMEOUT_MS = 15_000;

exitWithParent();

const { values } = parseArgs({ options: { upstream: { type: 'string' }, workers: { type: 'string', default: '2' } } });
const workerCount = Number(values.workers);
if (values.upstream === undefined || !Number.isInteger(workerCount) || workerCount < 1) {
  announce({ type: 'unavailable', reason: 'floor cluster needs --upstream <origin> and --workers <n >= 1>' });
  process.exit(1);
}

function fail(reason: string): never {
  announce({ type: 'unavailable', reason });
  // Workers die with their IPC channel (floor-proxy.ts calls exitWithParent), but do not wait for that.
  for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
  process.exit(1);
}

cluster.setupPrimary({
  exec: fileURLToPath(new URL('./floor-proxy.ts', import.meta.url)),
  // The workers are TypeScript too; say so explicitly rather than rely on inheriting our execArgv.
  execArgv: ['--import', 'tsx'],
  args: ['--upstream', values.upstream],
});

const ports = new Map<number, number>();
const timer = setTimeout(
  () => fail(`only ${ports.size} of ${workerCount} floor workers listened within ${START_TIMEOUT_MS} ms`),
  START_TIMEOUT_MS,
);

function onAnnouncement(worker: Worker, raw: unknown): void {
  const message = raw as Partial<ChildMessage> | null;
  if (message?.type === 'unavailable') fail(`floor worker ${worker.id}: ${String(message.reason)}`);
  if (message?.type !== 'listening' || typeof message.port !== 'number') return;
  ports.set(worker.id, message.port);
  if (ports.size < workerCount) return;
  const distinct = new Set(ports.values());
  if (distinct.size !== 1)
    fail(`floor workers listen on different ports (${[...distinct].join(', ')}); the port is not shared`);
  clearTimeout(timer);
  announce({ type: 'listening', port: message.port });
}

cluster.on('message', (worker, message: unknown) => onAnnouncement(worker, message));
// A worker that dies after start-up is not restarted: the run would silently measure fewer workers.
cluster.on('exit', (worker, code, signal) => {
  const reason = `floor worker ${worker.id} exited (code ${String(code)}, signal ${String(signal)})`;
  if (ports.size < workerCount) fail(reason);
  process.stderr.write(`${reason}; stopping the floor cluster\n`);
  process.exit(1);
});

for (let i = 0; i < workerCount; i++) cluster.fork();
