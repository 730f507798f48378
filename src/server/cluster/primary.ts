/**
 * The cluster primary (`workers` > 1): forks the workers that serve the data listener, restarts one
 * that dies (with backoff), owns the telemetry listeners and pushes (the sum over workers, see
 * telemetry/cluster), reloads the config on request without dropping requests, and drains on stop.
 */
import cluster, { type Worker } from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { ConfigError, loadConfigText, readConfigFile, type ConfigOverrides } from '../../config/load.js';
import type { GatewayConfig } from '../../config/types.js';
import { ERRORS, TollgateError, type ErrorCode } from '../../errors/catalogue.js';
import { RateLimitedLog, type Logger } from '../../log/logger.js';
import { ClusterTelemetry, type WorkerCollector } from '../../telemetry/cluster/cluster-telemetry.js';
import { StoreMirror } from '../../telemetry/cluster/store-delta.js';
import type { ReportRequest, WorkerReport, WorkerTelemetry } from '../../telemetry/telemetry.js';
import { isToPrimary, type ToPrimary, type ToWorker } from './protocol.js';

/** How long a read of the metrics waits for a worker's answer before using its previous one. */
const COLLECT_TIMEOUT_MS = 1_000;
const READY_TIMEOUT_MS = 20_000;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 10_000;
/** A worker that lived this long resets the restart backoff. */
const STABLE_MS = 30_000;

interface Member {
  readonly worker: Worker;
  readonly generation: number;
  /** The config this worker serves (a restarted worker gets its generation's). */
  readonly text: string;
  readonly startedAt: number;
  ready: boolean;
  /** Set when the primary asked it to go (reload, stop): its exit is not a crash. */
  leaving: boolean;
  /** Its store, rebuilt from its delta reports. */
  readonly mirror: StoreMirror;
  /** Its telemetry as of its last report. */
  last: WorkerTelemetry | undefined;
  final: boolean;
}

const STORE_ONLY: ReportRequest = { stats: false, slow: false };

/** Whether a collection asking `a` also answers a read that needs `b`. */
function covers(a: ReportRequest, b: ReportRequest): boolean {
  if ((b.stats && !a.stats) || (b.slow && !a.slow)) return false;
  if (a.groups === undefined) return true;
  const groups = a.groups;
  return b.groups !== undefined && [...b.groups].every((g) => groups.has(g));
}

function receive(member: Member, report: WorkerReport): WorkerTelemetry {
  member.mirror.apply(report.store);
  // What a report leaves out (not asked for) is as the previous report had it.
  const stats = report.stats === undefined ? member.last?.stats : (report.stats ?? undefined);
  return { store: member.mirror.snapshot(), stats, slow: report.slow ?? member.last?.slow ?? [] };
}

export interface PrimaryOptions {
  readonly file: string;
  readonly overrides: ConfigOverrides;
  readonly logger: Logger;
  readonly drainTimeoutMs: number;
}

export class ClusterPrimary implements WorkerCollector {
  readonly #options: PrimaryOptions;
  readonly #logger: Logger;
  readonly #members = new Map<number, Member>();
  readonly #pending = new Map<number, { readonly waiting: Set<number>; readonly done: () => void }>();
  readonly #nodeId = randomUUID();
  #telemetry: ClusterTelemetry | undefined;
  #text = '';
  #generation = 0;
  #nextId = 1;
  #backoffMs = BACKOFF_MIN_MS;
  #stopping = false;
  #started = false;
  #reloading: Promise<boolean> | undefined;
  #starting: Promise<void> | undefined;
  #collecting: { readonly want: ReportRequest; readonly result: Promise<readonly WorkerTelemetry[]> } | undefined;
  /** Why the first worker that failed to start failed (what `start()` rejects with). */
  #failure: { readonly message: string; readonly code: string | undefined } | undefined;

  constructor(options: PrimaryOptions) {
    this.#options = options;
    this.#logger = options.logger;
  }

  get telemetry(): ClusterTelemetry | undefined {
    return this.#telemetry;
  }

  /** Starts the workers of a validated config and the telemetry readers; resolves once all serve. */
  start(config: GatewayConfig, text: string): Promise<void> {
    this.#starting = this.#start(config, text);
    return this.#starting;
  }

  async #start(config: GatewayConfig, text: string): Promise<void> {
    this.#text = text;
    cluster.setupPrimary({ serialization: 'advanced' });
    cluster.on('message', (worker, m: unknown) => this.#onMessage(worker, m));
    cluster.on('exit', (worker, code, signal) => this.#onExit(worker, code, signal));
    this.#telemetry = new ClusterTelemetry(config, this, this.#logger);
    this.#generation = 1;
    const ok = await this.#startGeneration(config.workers, 1);
    // A stop during start-up leaves the workers that came up (one may already serve) to stop()'s
    // drain, and still starts the readers: the requests served so far get their final push.
    if (!ok && !this.#stopping) throw this.#startFailure();
    await this.#telemetry.start();
    this.#started = true;
    // From here on the primary supervises: an error nothing caught is logged, not the end of the data
    // plane. Not before, so a start-up that fails still exits.
    keepSupervising(process, this.#logger);
    if (!this.#stopping)
      this.#logger.info({ workers: config.workers, port: config.port, pid: process.pid }, 'cluster primary running');
  }

  #fork(generation: number): Member {
    const worker = cluster.fork({ TOLLGATE_CLUSTER_WORKER: '1', TOLLGATE_NODE_ID: this.#nodeId });
    const member: Member = {
      worker,
      generation,
      text: this.#text,
      startedAt: Date.now(),
      ready: false,
      leaving: false,
      mirror: new StoreMirror(),
      last: undefined,
      final: false,
    };
    this.#members.set(worker.id, member);
    // A worker's IPC may fail while it dies; that is its exit's business, not a crash of ours.
    worker.on('error', (err) => this.#logger.warn({ err, worker: worker.id }, 'worker channel error'));
    return member;
  }

  #send(worker: Worker, m: ToWorker): void {
    if (worker.isConnected()) worker.send(m);
  }

  /** Forks `count` workers of `generation` and waits until each serves (or one fails). */
  async #startGeneration(count: number, generation: number): Promise<boolean> {
    const members = Array.from({ length: count }, () => this.#fork(generation));
    const until = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < until) {
      // Stopping: the drain takes these over, ready or not.
      if (this.#stopping) return false;
      if (members.every((m) => m.ready)) {
        this.#updateWorkerGauge();
        return true;
      }
      if (members.some((m) => m.worker.isDead())) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const m of members) {
      m.leaving = true;
      if (!m.worker.isDead()) m.worker.kill('SIGKILL');
    }
    return false;
  }

  #onMessage(worker: Worker, m: unknown): void {
    const member = this.#members.get(worker.id);
    if (member === undefined || !isToPrimary(m)) return;
    const msg: ToPrimary = m;
    // A worker told to drain before it listened for messages did not hear it: told again, it exits.
    if (msg.t === 'hello')
      this.#send(
        worker,
        member.leaving
          ? { t: 'drain', deadlineMs: this.#options.drainTimeoutMs }
          : { t: 'config', text: member.text, file: this.#options.file, overrides: this.#options.overrides },
      );
    else if (msg.t === 'ready') {
      member.ready = true;
      this.#updateWorkerGauge();
    } else if (msg.t === 'handoff-lost')
      this.#replace(member).catch((err: unknown) =>
        this.#logger.error({ err, worker: worker.id }, 'cannot replace the worker'),
      );
    else if (msg.t === 'failed') {
      // Its exit is the failure being reported, not a crash to restart from.
      member.leaving = true;
      this.#failure ??= { message: msg.message, code: msg.code };
      this.#logger.error({ worker: worker.id, reason: msg.message, code: msg.code }, 'worker failed to start');
    } else if (msg.t === 'collected') {
      member.last = receive(member, msg.telemetry);
      const p = this.#pending.get(msg.id);
      if (p !== undefined) {
        p.waiting.delete(worker.id);
        if (p.waiting.size === 0) p.done();
      }
    } else {
      member.last = receive(member, msg.telemetry);
      member.final = true;
    }
  }

  #onExit(worker: Worker, code: number | null, signal: string | null): void {
    const member = this.#members.get(worker.id);
    if (member === undefined) return;
    this.#members.delete(worker.id);
    // Its counts stay in the sum: counters never go back because a worker died or was replaced.
    if (member.last !== undefined) this.#telemetry?.retire(member.last);
    for (const p of this.#pending.values()) {
      p.waiting.delete(worker.id);
      if (p.waiting.size === 0) p.done();
    }
    this.#updateWorkerGauge();
    if (member.leaving || this.#stopping || member.generation !== this.#generation) return;
    const lived = Date.now() - member.startedAt;
    if (lived > STABLE_MS) this.#backoffMs = BACKOFF_MIN_MS;
    const wait = this.#backoffMs;
    this.#backoffMs = Math.min(BACKOFF_MAX_MS, this.#backoffMs * 2);
    this.#logger.error(
      { worker: worker.id, pid: worker.process.pid, code, signal, restartInMs: wait },
      'worker died; restarting it',
    );
    setTimeout(() => {
      if (this.#stopping || member.generation !== this.#generation) return;
      this.#telemetry?.cluster.restarts.add(1);
      this.#fork(member.generation);
    }, wait).unref();
  }

  /** The error a failed start rejects with: the worker's own (a TollgateError when it had a code). */
  #startFailure(): Error {
    const f = this.#failure;
    if (f === undefined) return new Error('the workers failed to start (see the log)');
    return f.code !== undefined && f.code in ERRORS
      ? new TollgateError(f.code as ErrorCode, f.message)
      : new Error(f.message);
  }

  /**
   * A worker that lost a connection handover (it had no descriptor left) no longer gets connections
   * from node:cluster's round-robin: a fresh worker of its generation joins, then it drains.
   */
  async #replace(member: Member): Promise<void> {
    if (member.leaving || this.#stopping || member.generation !== this.#generation) return;
    member.leaving = true;
    this.#logger.error(
      { worker: member.worker.id, pid: member.worker.process.pid },
      'worker lost a connection handover (too many open files); replacing it',
    );
    this.#telemetry?.cluster.restarts.add(1);
    const fresh = this.#fork(member.generation);
    const until = Date.now() + READY_TIMEOUT_MS;
    while (!fresh.ready && !fresh.worker.isDead() && !this.#stopping && Date.now() < until)
      await new Promise((r) => setTimeout(r, 20));
    this.#updateWorkerGauge();
    if (!this.#stopping) await this.#drain([member], this.#options.drainTimeoutMs);
  }

  #updateWorkerGauge(): void {
    let n = 0;
    for (const m of this.#members.values()) if (m.ready && !m.leaving) n++;
    this.#telemetry?.cluster.workers.set(n);
  }

  /**
   * Every ready worker's telemetry, fresh: each is asked and given COLLECT_TIMEOUT_MS; one that does
   * not answer in time is counted with its previous answer (and the miss in a self-metric). A read
   * that arrives while a collection runs shares it when that collection asks for all it needs.
   */
  collect(want: ReportRequest = STORE_ONLY): Promise<readonly WorkerTelemetry[]> {
    const running = this.#collecting;
    if (running !== undefined && covers(running.want, want)) return running.result;
    const result = this.#collect(want).finally(() => {
      if (this.#collecting?.result === result) this.#collecting = undefined;
    });
    this.#collecting = { want, result };
    return result;
  }

  async #collect(want: ReportRequest): Promise<readonly WorkerTelemetry[]> {
    const asked = [...this.#members.values()].filter((m) => m.ready && !m.final && m.worker.isConnected());
    if (asked.length > 0) {
      const id = this.#nextId++;
      const waiting = new Set(asked.map((m) => m.worker.id));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.#telemetry?.cluster.collectTimeouts.add(waiting.size);
          done();
        }, COLLECT_TIMEOUT_MS);
        const done = (): void => {
          clearTimeout(timer);
          this.#pending.delete(id);
          resolve();
        };
        this.#pending.set(id, { waiting, done });
        for (const m of asked) this.#send(m.worker, { t: 'collect', id, want });
      });
    }
    return [...this.#members.values()].flatMap((m) => (m.last === undefined ? [] : [m.last]));
  }

  /**
   * Re-reads the config file. An invalid one is rejected with its errors and the current workers keep
   * serving; a valid one gets new workers, and once they all serve, the old ones drain.
   */
  reload(): Promise<boolean> {
    this.#reloading ??= this.#reload().finally(() => (this.#reloading = undefined));
    return this.#reloading;
  }

  async #reload(): Promise<boolean> {
    // A signal during start-up: the config being started is the one on disk anyway.
    if (this.#stopping || !this.#started || this.#telemetry === undefined) return false;
    const telemetry = this.#telemetry;
    let text: string;
    let config: GatewayConfig;
    try {
      text = readConfigFile(this.#options.file);
      const loaded = loadConfigText(text, this.#options.file, this.#options.overrides);
      config = loaded.config;
      for (const w of loaded.warnings) this.#logger.warn({ file: this.#options.file }, w);
    } catch (err) {
      telemetry.cluster.reloadsRejected.add(1);
      if (err instanceof ConfigError)
        this.#logger.error(
          { code: err.code, issues: err.issues, file: this.#options.file },
          'reload rejected: invalid configuration; the running one keeps serving',
        );
      else
        this.#logger.error(
          { err, file: this.#options.file },
          'reload rejected; the running configuration keeps serving',
        );
      return false;
    }
    const old = [...this.#members.values()];
    const previousText = this.#text;
    this.#text = text;
    const generation = this.#generation + 1;
    this.#generation = generation;
    if (!(await this.#startGeneration(config.workers, generation))) {
      // A stop came during the reload: it drains the new workers with the old ones.
      if (this.#stopping) return false;
      this.#text = previousText;
      this.#generation = generation - 1;
      telemetry.cluster.reloadsRejected.add(1);
      this.#logger.error(
        { file: this.#options.file },
        'reload rejected: the new workers did not start; the running configuration keeps serving',
      );
      return false;
    }
    // The new workers accept connections now; the old ones finish what they have.
    await this.#drain(old, this.#options.drainTimeoutMs);
    await telemetry.replaceConfig(config, this.#options.drainTimeoutMs);
    telemetry.cluster.reloadsApplied.add(1);
    this.#logger.info({ workers: config.workers, endpoints: config.endpoints.length }, 'configuration reloaded');
    return true;
  }

  /** Asks `members` to drain and waits for them to exit (killing what is left after the deadline). */
  async #drain(members: readonly Member[], deadlineMs: number): Promise<void> {
    for (const m of members) {
      m.leaving = true;
      this.#send(m.worker, { t: 'drain', deadlineMs });
    }
    this.#updateWorkerGauge();
    const until = Date.now() + deadlineMs + 5_000;
    while (members.some((m) => !m.worker.isDead()) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    for (const m of members) if (!m.worker.isDead()) m.worker.kill('SIGKILL');
    while (members.some((m) => this.#members.has(m.worker.id))) await new Promise((r) => setTimeout(r, 10));
  }

  /** Drain: workers stop accepting and finish in-flight requests, then the pushes flush the final sums. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    await this.#reloading;
    await this.#drain([...this.#members.values()], this.#options.drainTimeoutMs);
    // After the workers' final reports: the readers' last pushes carry the final sums.
    await this.#starting?.catch(() => undefined);
    if (this.#started) await this.#telemetry?.close(5_000);
    this.#logger.info({}, 'cluster stopped');
  }
}

/**
 * The cluster primary's last resort: an exception or rejection nothing handled (a bug in a side
 * listener, a reader) is logged, rate limited, and the primary keeps supervising — its death would
 * take every worker, and so the data plane, with it. Returns the uninstall.
 */
export function keepSupervising(target: NodeJS.EventEmitter, logger: Logger): () => void {
  const errors = new RateLimitedLog();
  const log = (err: unknown, origin: string): void => {
    const key = `${origin}\u0000${err instanceof Error ? err.message : String(err)}`;
    errors.maybe(key, (suppressed) =>
      logger.error({ err, origin, suppressed }, 'unhandled error in the cluster primary; it keeps supervising'),
    );
  };
  const onException = (err: unknown): void => log(err, 'uncaughtException');
  const onRejection = (reason: unknown): void => log(reason, 'unhandledRejection');
  target.on('uncaughtException', onException);
  target.on('unhandledRejection', onRejection);
  return () => {
    target.off('uncaughtException', onException);
    target.off('unhandledRejection', onRejection);
  };
}
