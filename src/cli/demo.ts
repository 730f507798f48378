/**
 * `tollgate demo` (and `npm start`): the demo backend and a gateway in front of it, with every
 * telemetry surface on (Prometheus `/metrics`, the live dashboard, Kong's status listener, KrakenD's
 * `/__stats`), and the URLs to try printed.
 */
import { loadConfigValue } from '../config/load.js';
import { startDemoBackend } from '../demo/backend.js';
import { DEMO_REQUESTS, demoConfig, type DemoPorts } from '../demo/config.js';
import { createLogger, type LogLevel } from '../log/logger.js';
import { serve } from './run.js';

/** The lines `tollgate demo` prints once it is up: what to try, and where to watch it. */
function demoBanner(backendUrl: string, ports: DemoPorts): string[] {
  const base = `http://127.0.0.1:${ports.gateway}`;
  const local = (port: number, path: string): string => `http://127.0.0.1:${port}${path}`;
  const tries = DEMO_REQUESTS.map(
    (r) => `  curl ${r.curl} '${base}${r.path}'${r.note === undefined ? '' : `   # ${r.note}`}`,
  );
  return [
    '',
    `Tollgate demo is running: gateway ${base}  →  demo backend ${backendUrl}`,
    'Try:',
    ...tries,
    'Watch it:',
    `  Live dashboard (open in a browser):        ${local(ports.dashboard, '/')}`,
    `  Prometheus /metrics (KrakenD's names):     ${local(ports.metrics, '/metrics')}`,
    `  Kong status listener (Kong's names):       ${local(ports.kong, '/metrics')}`,
    `  KrakenD /__stats (expvar JSON):            ${local(ports.stats, '/__stats')}`,
    'Stop with Ctrl-C.',
    '',
  ];
}

export async function demoCommand(opts: { ports: DemoPorts; logLevel: LogLevel }): Promise<void> {
  const logger = createLogger(opts.logLevel);
  const backend = await startDemoBackend();
  const loaded = loadConfigValue(demoConfig(backend.url, opts.ports), '(built-in demo config)');
  await serve(loaded, logger, 5_000, () => new Promise<void>((r) => backend.server.close(() => r())));
  process.stderr.write(demoBanner(backend.url, opts.ports).join('\n'));
}
