/** The `tollgate` command line: run | check | migrate | demo | version. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, loadConfigFile } from '../config/load.js';
import { LOG_LEVELS, type LogLevel } from '../log/logger.js';
import { VERSION } from '../version.js';
import { demoCommand } from './demo.js';
import { MIGRATE_SOURCES, migrateCommand, type MigrateSource } from './migrate.js';
import { formatConfigError } from './report.js';
import { runCommand } from './run.js';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number');
  return n;
}

const logLevel = (): Option => new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info');

const program = new Command('tollgate').description('An observability-first API gateway for KrakenD v3 configurations').version(VERSION, '-v, --version');

program
  .command('run')
  .description('start the gateway')
  .requiredOption('-c, --config <file>', 'KrakenD v3 configuration file (JSON, or YAML by extension)')
  .option('-p, --port <port>', 'listen port (overrides "port")', port)
  .option('-d, --debug', 'enable the /__debug/ endpoint')
  .option('--drain-timeout <ms>', 'how long in-flight requests may take to finish on SIGTERM', positiveInt, 10_000)
  .option('-w, --watch', 'reload when the config file changes (SIGHUP always reloads)')
  .addOption(logLevel())
  .action(async (o: { config: string; port?: number; debug?: boolean; drainTimeout: number; watch?: boolean; logLevel: LogLevel }) => {
    await runCommand({ config: o.config, port: o.port, debug: o.debug, logLevel: o.logLevel, drainTimeoutMs: o.drainTimeout, watch: o.watch });
  });

program
  .command('check')
  .description('validate a configuration file without starting (exit 0 when valid, 1 when not)')
  .requiredOption('-c, --config <file>', 'KrakenD v3 configuration file')
  .action((o: { config: string }) => {
    try {
      const loaded = loadConfigFile(o.config);
      for (const w of loaded.warnings) process.stderr.write(`warning: ${w}\n`);
      process.stdout.write(`${o.config}: configuration OK (${loaded.config.endpoints.length} endpoints)\n`);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(formatConfigError(err));
      process.exitCode = 1;
    }
  });

program
  .command('demo')
  .description('run the gateway on a built-in demo config with its own demo backend')
  .option('-p, --port <port>', 'gateway port', port, 8080)
  .option('--metrics-port <port>', 'Prometheus /metrics port', port, 9090)
  .addOption(logLevel().default('warn'))
  .action(async (o: { port: number; metricsPort: number; logLevel: LogLevel }) => {
    await demoCommand({ port: o.port, metricsPort: o.metricsPort, logLevel: o.logLevel });
  });

program
  .command('migrate')
  .description('rewrite a legacy configuration for Tollgate: KrakenD telemetry/opencensus, or a Kong declarative file')
  .addOption(new Option('--from <format>', 'what FILE is').choices(MIGRATE_SOURCES).makeOptionMandatory())
  .argument('<file>', 'the configuration to migrate (JSON or YAML)')
  .option('-o, --output <file>', 'write the migrated configuration here instead of stdout')
  // Usage errors exit 2, apart from the 1 of a file that cannot be migrated.
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
  .action((file: string, o: { from: MigrateSource; output?: string }) => {
    process.exitCode = migrateCommand({ from: o.from, file, output: o.output });
  });

program
  .command('version')
  .description('print the version')
  .action(() => {
    process.stdout.write(`tollgate ${VERSION}\n`);
  });

await program.parseAsync(process.argv);
