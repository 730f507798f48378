/** The `tollgate` command line: run | check | migrate | demo | version. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, loadConfigFile } from '../config/load.js';
import { LOG_LEVELS, type LogLevel } from '../log/logger.js';
import { VERSION } from '../version.js';
import { DEMO_DEFAULT_PORTS } from '../demo/config.js';
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

const ALLOW_UNENFORCED =
  'start even with settings that would protect or transform traffic which Tollgate does not enforce (each is logged)';

function checkCommand(
  file: string | undefined,
  o: { config?: string; lint?: boolean; allowUnenforced?: boolean },
): number {
  const path = o.config ?? file;
  if (path === undefined || (o.config !== undefined && file !== undefined && file !== o.config)) {
    process.stderr.write('tollgate check: give one configuration file, as `check FILE` or `check -c FILE`\n');
    return 2;
  }
  try {
    const loaded = loadConfigFile(path, { lint: o.lint, allowUnenforced: o.allowUnenforced });
    for (const w of loaded.warnings) process.stderr.write(`warning: ${w}\n`);
    const n = loaded.config.endpoints.length;
    process.stdout.write(`${path}: configuration OK (${n} endpoint${n === 1 ? '' : 's'})\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(formatConfigError(err));
    return 1;
  }
}

const program = new Command('tollgate')
  .description('An observability-first API gateway for KrakenD v3 configurations')
  .version(VERSION, '-v, --version');

program
  .command('run')
  .description('start the gateway')
  .requiredOption('-c, --config <file>', 'KrakenD v3 configuration file (JSON, or YAML by extension)')
  .option('-p, --port <port>', 'listen port (overrides "port")', port)
  .option('-d, --debug', 'enable the /__debug/ endpoint')
  .option('--drain-timeout <ms>', 'how long in-flight requests may take to finish on SIGTERM', positiveInt, 10_000)
  .option('-w, --watch', 'reload when the config file changes (SIGHUP always reloads)')
  .option('--allow-unenforced', ALLOW_UNENFORCED)
  .addOption(logLevel())
  .action(
    async (o: {
      config: string;
      port?: number;
      debug?: boolean;
      drainTimeout: number;
      watch?: boolean;
      allowUnenforced?: boolean;
      logLevel: LogLevel;
    }) => {
      await runCommand({
        config: o.config,
        port: o.port,
        debug: o.debug,
        logLevel: o.logLevel,
        drainTimeoutMs: o.drainTimeout,
        watch: o.watch,
        allowUnenforced: o.allowUnenforced,
      });
    },
  );

program
  .command('check')
  .description('validate a configuration file without starting (exit 0 when valid, 1 when not)')
  .argument('[file]', 'KrakenD v3 configuration file (same as -c)')
  .option('-c, --config <file>', 'KrakenD v3 configuration file')
  .option('--lint', "fail on unknown keys and namespaces too (as KrakenD's check --lint)")
  .option('--allow-unenforced', ALLOW_UNENFORCED)
  .action((file: string | undefined, o: { config?: string; lint?: boolean; allowUnenforced?: boolean }) => {
    process.exitCode = checkCommand(file, o);
  });

program
  .command('demo')
  .description('run the gateway on a built-in demo config with its own demo backend')
  .option('-p, --port <port>', 'gateway port', port, DEMO_DEFAULT_PORTS.gateway)
  .option('--metrics-port <port>', 'Prometheus /metrics port', port, DEMO_DEFAULT_PORTS.metrics)
  .option('--dashboard-port <port>', 'live dashboard port', port, DEMO_DEFAULT_PORTS.dashboard)
  .option('--kong-port <port>', "Kong status listener port (Kong's /metrics)", port, DEMO_DEFAULT_PORTS.kong)
  .option('--stats-port <port>', "KrakenD's /__stats port", port, DEMO_DEFAULT_PORTS.stats)
  .addOption(logLevel().default('warn'))
  .action(
    async (o: {
      port: number;
      metricsPort: number;
      dashboardPort: number;
      kongPort: number;
      statsPort: number;
      logLevel: LogLevel;
    }) => {
      const ports = {
        gateway: o.port,
        metrics: o.metricsPort,
        dashboard: o.dashboardPort,
        kong: o.kongPort,
        stats: o.statsPort,
      };
      await demoCommand({ ports, logLevel: o.logLevel });
    },
  );

program
  .command('migrate')
  .description('rewrite a legacy configuration for Tollgate: KrakenD telemetry/opencensus, or a Kong declarative file')
  .addOption(new Option('--from <format>', 'what FILE is').choices(MIGRATE_SOURCES).makeOptionMandatory())
  .argument('<file>', 'the configuration to migrate (JSON or YAML)')
  .option('-o, --output <file>', 'write the migrated configuration here instead of stdout')
  .option(
    '--allow-unenforced',
    'write the result even if it has settings that `run` refuses as unenforced (each is listed)',
  )
  // Usage errors exit 2, apart from the 1 of a file that cannot be migrated.
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
  .action((file: string, o: { from: MigrateSource; output?: string; allowUnenforced?: boolean }) => {
    process.exitCode = migrateCommand({ from: o.from, file, output: o.output, allowUnenforced: o.allowUnenforced });
  });

program
  .command('version')
  .description('print the version')
  .action(() => {
    process.stdout.write(`tollgate ${VERSION}\n`);
  });

await program.parseAsync(process.argv);
