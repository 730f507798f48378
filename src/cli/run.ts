/**
 * `tollgate run`: load and validate the config, start a cluster primary and its workers (the data
 * listener on every worker, telemetry on the primary), reload on SIGHUP or a changed file
 * (`--watch`), and stop gracefully on SIGTERM or SIGINT (stop accepting, let in-flight requests finish
 * up to the drain deadline, flush the pushes, exit 0).
 */
import cluster from 'node:cluster';
import { watch } from 'node:fs';
import { ConfigError, loadConfigText, readConfigFile, type ConfigOverrides } from '../config/load.js';
import type { LoadedConfig } from '../config/types.js';
import { Gateway } from '../server/gateway.js';
import { createLogger, type LogLevel, type Logger } from '../log/logger.js';
import { formatConfigError } from './report.js';
import { exitOnStartFailure } from './start-failure.js';
import { ClusterPrimary } from '../server/cluster/primary.js';
import { runWorker } from '../server/cluster/worker.js';

export interface RunOptions {
  readonly config: string;
  readonly port?: number | undefined;
  readonly debug?: boolean | undefined;
  readonly logLevel: LogLevel;
  readonly drainTimeoutMs: number;
  /** Reload when the config file changes. */
  readonly watch?: boolean | undefined;
  /** Start despite settings Tollgate does not enforce (each is logged as a warning). */
  readonly allowUnenforced?: boolean | undefined;
}

export async function runCommand(opts: RunOptions): Promise<void> {
  const logger = createLogger(opts.logLevel);
  if (cluster.isWorker && cluster.worker !== undefined) {
    runWorker(cluster.worker, logger);
    return;
  }
  const overrides: ConfigOverrides = {
    port: opts.port,
    debugEndpoint: opts.debug,
    allowUnenforced: opts.allowUnenforced,
  };
  let loaded: LoadedConfig;
  let text: string;
  try {
    text = readConfigFile(opts.config);
    loaded = loadConfigText(text, opts.config, overrides);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(formatConfigError(err));
      logger.fatal({ code: err.code, issues: err.issues }, 'invalid configuration');
      logger.flush();
      process.exitCode = 1;
      return;
    }
    throw err;
  }
  await supervise(loaded, text, opts, overrides, logger);
}

/** The cluster primary: workers, reload on SIGHUP (and on file changes with --watch), drain on stop. */
async function supervise(
  loaded: LoadedConfig,
  text: string,
  opts: RunOptions,
  overrides: ConfigOverrides,
  logger: Logger,
): Promise<void> {
  for (const w of loaded.warnings) logger.warn({ file: loaded.file }, w);
  const primary = new ClusterPrimary({ file: opts.config, overrides, logger, drainTimeoutMs: opts.drainTimeoutMs });
  // Before start: its listeners answer before start() resolves, and SIGHUP's default action is to exit.
  // A reload reports its own rejections; one that fails otherwise (a new side listener's port taken)
  // is logged and the running configuration keeps serving.
  const reload = (): void => {
    primary
      .reload()
      .catch((err: unknown) => logger.error({ err }, 'reload failed; the running configuration keeps serving'));
  };
  process.on('SIGHUP', reload);
  // Also before start: the first worker serves before the others are up, and a stop then must drain it
  // rather than kill it with the primary.
  onStopSignals(logger, (signal) => {
    logger.info({ signal, drainTimeoutMs: opts.drainTimeoutMs }, 'stopping: draining in-flight requests');
    return primary.stop();
  });
  try {
    await primary.start(loaded.config, text);
  } catch (err) {
    exitOnStartFailure(err, logger);
  }
  if (opts.watch === true) {
    // Editors replace files (rename) as often as they write them: re-arm on every event, and let a
    // burst of events settle before reading.
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      try {
        watch(opts.config, { persistent: false }, () => {
          clearTimeout(timer);
          timer = setTimeout(() => {
            reload();
            arm();
          }, 200);
        });
      } catch (err) {
        logger.warn({ err, file: opts.config }, 'cannot watch the config file');
      }
    };
    arm();
  }
}

/** Starts a gateway on a loaded config and wires the stop signals; shared by `run` and `demo`. */
export async function serve(
  loaded: LoadedConfig,
  logger: Logger,
  drainTimeoutMs: number,
  onStop?: () => Promise<void>,
): Promise<Gateway> {
  for (const w of loaded.warnings) logger.warn({ file: loaded.file }, w);
  const gateway = new Gateway(loaded.config, { logger });
  const started = gateway.start();
  // Before the start completes: the listener serves before the telemetry readers are up.
  onStopSignals(logger, async (signal) => {
    await started.catch(() => undefined);
    logger.info({ signal, inFlight: gateway.inFlight, drainTimeoutMs }, 'stopping: draining in-flight requests');
    await gateway.close(drainTimeoutMs);
    await onStop?.();
  });
  try {
    await started;
  } catch (err) {
    exitOnStartFailure(err, logger);
  }
  return gateway;
}

/**
 * SIGTERM/SIGINT: run `stop` once, then exit 0 (1 if it failed); a second signal exits at once with 1.
 */
function onStopSignals(logger: Logger, stop: (signal: NodeJS.Signals) => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second stop signal, exiting now');
      logger.flush();
      process.exit(1);
    }
    stopping = true;
    stop(signal).then(
      () => {
        logger.flush();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        logger.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
