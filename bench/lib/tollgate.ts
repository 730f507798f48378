// Tollgate, the gateway under test, run exactly as a user would: the built
// CLI (bin/tollgate.js -> dist/cli/main.js) with a generated KrakenD v3
// config that maps GET /payload straight through to the upstream. The
// gateway may not be built (or even written) yet, so every failure mode is
// turned into an "unavailable" reason rather than an exception.

import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { spawnTracked } from './children.js';
import { getFreePort } from './free-port.js';
import { waitForHttp200 } from './readiness.js';
import type { StartContext, TargetSpec, TargetStart } from './target.js';

const START_TIMEOUT_MS = 15_000;

/** The KrakenD v3 config for the benchmark route; `no-op` = pass bytes through untouched. */
export function tollgateConfig(port: number, upstreamPort: number): object {
  return {
    version: 3,
    port,
    timeout: '3s',
    endpoints: [
      {
        endpoint: '/payload',
        method: 'GET',
        output_encoding: 'no-op',
        backend: [{ host: [`http://127.0.0.1:${upstreamPort}`], url_pattern: '/payload' }],
      },
    ],
  };
}

export const tollgateTarget: TargetSpec = {
  name: 'tollgate',
  description: 'Tollgate (bin/tollgate.js run) with a one-endpoint no-op config: the system under test',
  async start(context: StartContext): Promise<TargetStart> {
    const bin = context.tollgateBin;
    // The launcher only imports ../dist/cli/main.js; checking for it up front
    // gives a clearer reason than the launcher's own error would.
    const checkout = dirname(dirname(bin));
    if (!existsSync(bin)) return { ok: false, reason: `${bin} not found` };
    if (!existsSync(join(checkout, 'dist', 'cli', 'main.js'))) {
      return { ok: false, reason: 'dist/cli/main.js not found (run `npm run build` first)' };
    }

    const port = await getFreePort();
    const config = join(context.tempDir, 'tollgate.json');
    await writeFile(config, `${JSON.stringify(tollgateConfig(port, context.upstreamPort), null, 2)}\n`);

    const child = spawnTracked('tollgate', process.execPath, [bin, 'run', '-c', config, '--log-level', 'warn'], {
      // Run from the checkout root, as `npm start` would.
      cwd: checkout,
      // Production mode: some libraries (and possibly the gateway) do extra work in development.
      env: { ...process.env, NODE_ENV: 'production' },
      leashSeconds: context.leashSeconds,
    });
    const ready = await waitForHttp200(`http://127.0.0.1:${port}/__health`, START_TIMEOUT_MS, child);
    if (!ready.ok) {
      await child.stop();
      return { ok: false, reason: `tollgate failed to start: ${ready.reason}` };
    }
    return { ok: true, running: { url: `http://127.0.0.1:${port}/payload`, stop: () => child.stop() } };
  },
};
