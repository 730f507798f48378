// Starts the built Tollgate CLI (bin/tollgate.js run) with any KrakenD v3
// config, exactly as lib/tollgate.ts does for the proxy benchmark's fixed
// one-endpoint config: a temp JSON file, NODE_ENV=production, --log-level
// warn, ready once GET /__health answers 200. Failures are values. It can be
// pinned to a CPU with taskset.

import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { spawnTracked, type TrackedChild } from './children.js';
import { waitForHttp200 } from './readiness.js';

const START_TIMEOUT_MS = 15_000;

export type TollgateStart =
  | { readonly ok: true; readonly child: TrackedChild; readonly origin: string; readonly configFile: string }
  | { readonly ok: false; readonly reason: string };

export interface TollgateLaunch {
  /** Name for logs and the config file (`<name>.json` in tempDir). */
  readonly name: string;
  /** The KrakenD v3 config; its `port` must be free. */
  readonly config: { readonly port: number } & Record<string, unknown>;
  /** Absolute path of bin/tollgate.js. */
  readonly bin: string;
  readonly tempDir: string;
  readonly leashSeconds: number;
  /** CPU list for `taskset -c` (e.g. "1"), pinning the gateway to its own core; needs taskset. */
  readonly taskset?: { readonly bin: string; readonly cpus: string } | undefined;
}

export async function startTollgateWithConfig(launch: TollgateLaunch): Promise<TollgateStart> {
  const { bin, name } = launch;
  const checkout = dirname(dirname(bin));
  if (!existsSync(bin)) return { ok: false, reason: `${bin} not found` };
  if (!existsSync(join(checkout, 'dist', 'cli', 'main.js')))
    return { ok: false, reason: 'dist/cli/main.js not found (run `npm run build` first)' };

  const configFile = join(launch.tempDir, `${name}.json`);
  await writeFile(configFile, `${JSON.stringify(launch.config, null, 2)}\n`);
  const argv = [bin, 'run', '-c', configFile, '--log-level', 'warn'];
  const [command, args] =
    launch.taskset === undefined
      ? [process.execPath, argv]
      : [launch.taskset.bin, ['-c', launch.taskset.cpus, process.execPath, ...argv]];
  const child = spawnTracked(name, command, args, {
    cwd: checkout,
    env: { ...process.env, NODE_ENV: 'production' },
    leashSeconds: launch.leashSeconds,
  });
  const origin = `http://127.0.0.1:${launch.config.port}`;
  const ready = await waitForHttp200(`${origin}/__health`, START_TIMEOUT_MS, child);
  if (!ready.ok) {
    await child.stop();
    return { ok: false, reason: `${name} failed to start: ${ready.reason}` };
  }
  return { ok: true, child, origin, configFile };
}
