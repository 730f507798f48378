/** `tollgate demo` (and `npm start`): the demo backend and a gateway in front of it, URLs printed. */
import { loadConfigValue } from '../config/load.js';
import { startDemoBackend } from '../demo/backend.js';
import { DEMO_PATHS, demoConfig } from '../demo/config.js';
import { createLogger, type LogLevel } from '../log/logger.js';
import { serve } from './run.js';

export async function demoCommand(opts: { port: number; metricsPort: number; logLevel: LogLevel }): Promise<void> {
  const logger = createLogger(opts.logLevel);
  const backend = await startDemoBackend();
  const loaded = loadConfigValue(demoConfig(backend.url, opts.port, opts.metricsPort), '(built-in demo config)');
  const gateway = await serve(loaded, logger, 5_000, () => new Promise<void>((r) => backend.server.close(() => r())));
  void gateway;
  const base = `http://127.0.0.1:${opts.port}`;
  const lines = [
    '',
    `Tollgate demo is running: gateway ${base}  →  demo backend ${backend.url}`,
    'Try:',
    ...DEMO_PATHS.map((p) => `  curl -i ${base}${p}`),
    `Metrics (Prometheus/OpenMetrics): curl http://127.0.0.1:${opts.metricsPort}/metrics`,
    'Stop with Ctrl-C.',
    '',
  ];
  process.stderr.write(lines.join('\n'));
}
