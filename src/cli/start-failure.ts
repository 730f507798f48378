/**
 * How `run` and `demo` report a gateway that cannot start (a busy port, a certificate that does not
 * load): one line on stderr that says what failed, and one structured log line, then exit 1. An
 * expected failure (a TollgateError) reads as a message, not a crash; anything else keeps its stack in
 * the log, where a bug report can find it.
 */
import { isTollgateError } from '../errors/catalogue.js';
import type { Logger } from '../log/logger.js';

function startFailureLine(err: unknown): string {
  if (isTollgateError(err)) return `${err.message}\n`;
  return `cannot start the gateway: ${err instanceof Error ? err.message : String(err)}\n`;
}

/** Prints the failure, flushes the log and exits 1. */
export function exitOnStartFailure(err: unknown, logger: Logger): never {
  process.stderr.write(startFailureLine(err));
  if (isTollgateError(err)) logger.fatal({ code: err.code, reason: err.message }, 'cannot start the gateway');
  else logger.fatal({ err }, 'cannot start the gateway');
  logger.flush();
  process.exit(1);
}
