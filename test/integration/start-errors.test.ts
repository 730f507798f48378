/**
 * A gateway that cannot start says why in one line on stderr and exits 1: a busy port is not a crash
 * (no stack trace, no message said twice, no "worker died; restarting it" first), whichever listener
 * it is — the data listener or a side listener — in `run` (cluster primary and workers) and in `demo`
 * (one process).
 */
import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { runCli, writeConfig, type CliResult } from '../helpers/cli.js';

/** Holds a port on 127.0.0.1 for the test (what another program would do). */
async function busyPort(t: TestContext): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as { port: number }).port;
}

function assertOneLine(r: CliResult, line: string): void {
  assert.equal(r.code, 1, `exit code\n${r.stderr}\n${r.stdout}`);
  assert.equal(r.stderr, `${line}\n`, 'one line on stderr');
  assert.doesNotMatch(r.stdout, /worker died|restarting|\n\s+at /, 'no restart, no stack trace');
}

/** The side listeners, each with the config that puts it on `port` and the name its error line gives. */
const SIDE = [
  {
    what: 'prometheus exporter "prom"',
    config: (port: number) => ({
      'telemetry/opentelemetry': { exporters: { prometheus: [{ name: 'prom', port, listen_ip: '127.0.0.1' }] } },
    }),
  },
  {
    what: 'telemetry/metrics',
    config: (port: number) => ({ 'telemetry/metrics': { listen_address: `127.0.0.1:${port}` } }),
  },
  {
    what: 'telemetry/kong-prometheus',
    config: (port: number) => ({ 'telemetry/kong-prometheus': { listen_address: `127.0.0.1:${port}` } }),
  },
  {
    what: 'telemetry/dashboard',
    config: (port: number) => ({ 'telemetry/dashboard': { listen_address: `127.0.0.1:${port}` } }),
  },
];

describe('start-up errors', () => {
  it('run: a busy data port is one line and exit 1, not a worker crash', async (t) => {
    const port = await busyPort(t);
    const file = writeConfig({ version: 3, port, listen_ip: '127.0.0.1', workers: 2, endpoints: [] });
    assertOneLine(
      await runCli(['run', '-c', file], 30_000),
      `cannot listen on 127.0.0.1:${port}: address already in use`,
    );
  });

  for (const side of SIDE) {
    it(`run: a busy ${side.what} port is one line and exit 1`, async (t) => {
      const port = await busyPort(t);
      const file = writeConfig({
        version: 3,
        port: 0,
        listen_ip: '127.0.0.1',
        workers: 1,
        extra_config: side.config(port),
        endpoints: [],
      });
      assertOneLine(
        await runCli(['run', '-c', file], 30_000),
        `cannot listen on 127.0.0.1:${port} (${side.what}): address already in use`,
      );
    });
  }

  it('demo: a busy gateway or metrics port is one line and exit 1', async (t) => {
    const port = await busyPort(t);
    const others = ['--dashboard-port', '0', '--kong-port', '0', '--stats-port', '0'];
    assertOneLine(
      await runCli(['demo', '--port', String(port), '--metrics-port', '0', ...others]),
      `cannot listen on 127.0.0.1:${port}: address already in use`,
    );
    assertOneLine(
      await runCli(['demo', '--port', '0', '--metrics-port', String(port), ...others]),
      `cannot listen on 127.0.0.1:${port} (prometheus exporter "demo"): address already in use`,
    );
  });
});
