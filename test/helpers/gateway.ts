/** Starts a real Gateway in-process on 127.0.0.1:0 from a config object, closed after the test. */
import type { TestContext } from 'node:test';
import { Writable } from 'node:stream';
import { loadConfigValue } from '../../src/config/load.js';
import type { LoadedConfig } from '../../src/config/types.js';
import { createLogger, type Logger } from '../../src/log/logger.js';
import { Gateway } from '../../src/server/gateway.js';

export interface RunningGateway {
  readonly url: string;
  readonly port: number;
  readonly gateway: Gateway;
  readonly loaded: LoadedConfig;
  readonly logs: Record<string, unknown>[];
}

/** A pino logger writing into an array, so tests can assert on log lines. */
export function memoryLogger(level: 'debug' | 'info' | 'warn' = 'warn'): {
  logger: Logger;
  lines: Record<string, unknown>[];
} {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n'))
        if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: createLogger(level, sink), lines };
}

export async function startGateway(t: TestContext, config: Record<string, unknown>): Promise<RunningGateway> {
  const loaded = loadConfigValue({ version: 3, port: 0, listen_ip: '127.0.0.1', ...config }, 'test-config.json');
  const { logger, lines } = memoryLogger();
  const gateway = new Gateway(loaded.config, { logger });
  const address = await gateway.start();
  t.after(() => gateway.close(1_000));
  const scheme = loaded.config.tls === undefined ? 'http' : 'https';
  return { url: `${scheme}://127.0.0.1:${address.port}`, port: address.port, gateway, loaded, logs: lines };
}
