/**
 * A cluster worker: serves the data listener (shared by node:cluster) with a full gateway whose
 * metrics the primary reads on request; spans go straight to the collectors from here.
 */
import type { Worker } from 'node:cluster';
import { loadConfigText } from '../../config/load.js';
import { isTollgateError } from '../../errors/catalogue.js';
import type { Logger } from '../../log/logger.js';
import { Gateway } from '../gateway.js';
import { isToWorker, type ToPrimary, type ToWorker } from './protocol.js';

const EVERYTHING = { stats: true, slow: true } as const;
const STATS_EVERY_MS = 10_000;

export function runWorker(worker: Worker, logger: Logger): void {
  let gateway: Gateway | undefined;
  let starting: Promise<void> | undefined;
  let statsSentAt = 0;
  let draining = false;
  const send = (m: ToPrimary): void => {
    if (worker.isConnected()) worker.send(m);
  };
  const drain = async (deadlineMs: number): Promise<void> => {
    if (draining) return;
    draining = true;
    // A drain during start-up waits for the listener: it may already hold a connection.
    await starting;
    await gateway?.close(deadlineMs);
    const telemetry = gateway?.telemetry;
    if (telemetry !== undefined) {
      // The last window of telemetry/metrics ends now, so the primary's final push has it.
      telemetry.stats?.tick();
      send({ t: 'final', telemetry: telemetry.workerReport(EVERYTHING) });
    }
    logger.flush();
    // Give the IPC channel a moment to carry the final message before the process goes.
    setTimeout(() => process.exit(0), 50).unref();
    worker.disconnect();
  };
  // A drain that fails still ends the worker: the primary restarts or replaces it.
  const stop = (deadlineMs: number): void => {
    drain(deadlineMs).catch((err: unknown) => {
      logger.error({ err }, 'worker drain failed');
      logger.flush();
      process.exit(1);
    });
  };
  const start = async (m: Extract<ToWorker, { t: 'config' }>): Promise<void> => {
    try {
      const { config } = loadConfigText(m.text, m.file, m.overrides);
      gateway = new Gateway(config, { logger, worker: true });
      const address = await gateway.start();
      send({ t: 'ready', port: address.port });
    } catch (err) {
      send({ t: 'failed', message: (err as Error).message, code: isTollgateError(err) ? err.code : undefined });
      logger.flush();
      process.exit(1);
    }
  };
  process.on('message', (m: unknown) => {
    if (!isToWorker(m)) return;
    if (m.t === 'config') starting ??= start(m);
    else if (m.t === 'collect') {
      if (gateway === undefined) return;
      // telemetry/metrics values go along every 10 s even when no reader asks, so the counts a
      // crashed worker leaves behind are at most that old. Not more often: copying them (windows,
      // reservoirs) is a 1–3 ms pause of the worker, which once a second showed in the p99.9 of
      // requests served while /metrics was scraped.
      const now = Date.now();
      const stats = m.want.stats || now - statsSentAt >= STATS_EVERY_MS;
      if (stats) statsSentAt = now;
      send({ t: 'collected', id: m.id, telemetry: gateway.telemetry.workerReport({ ...m.want, stats }) });
    } else stop(m.deadlineMs);
  });
  // A connection handed over without its descriptor (this process was out of them): Node answers
  // NACK and the primary's round-robin then waits on this worker for ever (see server/descriptor-guard.ts),
  // so only a fresh worker joining the round-robin gets the queued connections served again.
  process.on('internalMessage' as 'message', (m: unknown, handle: unknown) => {
    if (
      !draining &&
      handle == null &&
      typeof m === 'object' &&
      m !== null &&
      (m as { cmd?: unknown }).cmd === 'NODE_HANDLE'
    ) {
      logger.error(
        { code: 'EMFILE', pid: process.pid },
        'accept failed: too many open files; a handed-over connection was lost, asking for a replacement worker',
      );
      send({ t: 'handoff-lost' });
    }
  });
  // The primary owns the stop signals; a worker only follows its instructions (or its death).
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => stop(10_000));
  process.on('disconnect', () => {
    // The primary is gone: nobody will read our metrics or route connections to us.
    if (!draining) stop(5_000);
  });
  send({ t: 'hello' });
}
