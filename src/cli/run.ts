/**
 * `tollgate run`: load and validate the config, start the gateway, and stop gracefully on SIGTERM or
 * SIGINT (stop accepting, let in-flight requests finish up to the drain deadline, exit 0).
 */
import { ConfigError, loadConfigFile, type ConfigOverrides } from '../config/load.js';
import type { LoadedConfig } from '../config/types.js';
import { Gateway } from '../server/gateway.js';
import { createLogger, type LogLevel, type Logger } from '../log/logger.js';
import { formatConfigError } from './report.js';

export interface RunOptions {
  readonly config: string;
  readonly port?: number | undefined;
  readonly debug?: boolean | undefined;
  readonly logLevel: LogLevel;
  readonly drainTimeoutMs: number;
}

export async function runCommand(opts: RunOptions): Promise<void> {
  const logger = createLogger(opts.logLevel);
  const overrides: ConfigOverrides = { port: opts.port, debugEndpoint: opts.debug };
  let loaded: LoadedConfig;
  try {
    loaded = loadConfigFile(opts.config, overrides);
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
  await serve(loaded, logger, opts.drainTimeoutMs);
}

/** Starts a gateway on a loaded config and wires the stop signals; shared by `run` and `demo`. */
export async function serve(loaded: LoadedConfig, logger: Logger, drainTimeoutMs: number, onStop?: () => Promise<void>): Promise<Gateway> {
  for (const w of loaded.warnings) logger.warn({ file: loaded.file }, w);
  const gateway = new Gateway(loaded.config, { logger });
  try {
    await gateway.start();
  } catch (err) {
    logger.fatal({ err }, 'cannot start the gateway');
    logger.flush();
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second stop signal, exiting now');
      logger.flush();
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, inFlight: gateway.inFlight, drainTimeoutMs }, 'stopping: draining in-flight requests');
    gateway
      .close(drainTimeoutMs)
      .then(() => onStop?.())
      .then(
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
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return gateway;
}
