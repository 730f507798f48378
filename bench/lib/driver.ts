// The prologue and epilogue every load-driving benchmark shares: command-line flags (with -h/--help
// printing the driver's usage), the cleanup handlers and the watchdog, the upstream, logging, and
// the last word on errors (`<tag>: <message>`, exit code 1, every child stopped).

import { parseArgs } from 'node:util';
import type { TrackedChild } from './children.js';
import { armWatchdog, installCleanupHandlers, runCleanup } from './cleanup.js';
import { startNodeServer } from './node-child.js';

/** The lines every driver's usage ends with. */
export const USAGE_TAIL = `  --tollgate-bin <path> launcher to run (default <repo>/bin/tollgate.js)
  -h, --help            show this help
`;

/** The usage line of --no-wait (the quiet-machine gate, lib/quiet-gate.ts). */
export const NO_WAIT_USAGE =
  '  --no-wait             do not wait for other benchmarks (wrk, autocannon, bench/*.ts) to finish\n';

/** Progress goes to stderr, so stdout carries only the report. */
export function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Flags<S extends string, B extends string> = { readonly [K in S]?: string } & { readonly [K in B]?: boolean };

/**
 * The driver's flags as node:util parseArgs reads them (strict: an unknown flag is an error):
 * `strings` take a value, `booleans` do not. Undefined when -h/--help was given.
 */
export function parseFlags<S extends string, B extends string = never>(
  argv: readonly string[],
  strings: readonly S[],
  booleans: readonly B[] = [],
): Flags<S, B> | undefined {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const name of strings) options[name] = { type: 'string' };
  for (const name of booleans) options[name] = { type: 'boolean' };
  options['help'] = { type: 'boolean', short: 'h' };
  const { values } = parseArgs({ args: [...argv], options, strict: true });
  return values['help'] === true ? undefined : (values as Flags<S, B>);
}

/** Installs the cleanup handlers and a watchdog that aborts the run after `budgetSeconds`. */
export function armRun(budgetSeconds: number): void {
  installCleanupHandlers();
  armWatchdog(budgetSeconds * 1000);
}

/** Starts lib/<script> (an upstream server) with `--payload <bytes>`; throws when it does not come up. */
export async function startUpstream(
  script: './upstream-server.ts' | './telemetry-upstream.ts',
  payloadBytes: number,
): Promise<{ readonly child: TrackedChild; readonly port: number }> {
  const upstream = await startNodeServer('upstream', script, ['--payload', String(payloadBytes)], 15_000);
  if (!upstream.ok) throw new Error(`upstream failed to start: ${upstream.reason}`);
  return upstream;
}

/**
 * Runs a driver: parses its options (undefined = help: the usage goes to stdout), runs `main`, and
 * whatever happens stops every child. An error is one line `<tag>: <message>` and exit code 1.
 */
export async function runDriver<O>(
  tag: string,
  usage: string,
  parse: (argv: readonly string[]) => O | undefined,
  main: (options: O) => Promise<void>,
): Promise<void> {
  try {
    const options = parse(process.argv.slice(2));
    if (options === undefined) {
      process.stdout.write(usage);
      return;
    }
    await main(options);
  } catch (error) {
    process.stderr.write(`${tag}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  } finally {
    await runCleanup();
  }
}

/** A flag that turns true once `child` has exited (a gateway dying mid-run ends the run). */
export function exitedFlag(child: TrackedChild): () => boolean {
  let exited = false;
  child.exited
    .then(() => {
      exited = true;
    })
    .catch(() => undefined);
  return () => exited;
}
