// Starting a native reverse proxy (nginx, HAProxy) for bench/proxy.ts: a generated config in its
// own temp directory, the binary in the foreground under the run's leash, ready once GET /payload
// answers 200 through it.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnTracked } from './children.js';
import { getFreePort } from './free-port.js';
import { waitForHttp200 } from './readiness.js';
import type { StartContext, TargetStart } from './target.js';
import { toolVersion } from './tool-version.js';
import { which } from './which.js';

const START_TIMEOUT_MS = 10_000;

export interface NativeProxy {
  /** The binary on PATH, also the name of the child and of its directory in the run's temp dir. */
  readonly bin: string;
  /** The config file's name in that directory. */
  readonly configFile: string;
  /** The config for listening on `port`. */
  config(dir: string, port: number, bin: string): string;
  /** Command-line arguments that run it in the foreground with that config. */
  args(dir: string, configPath: string): string[];
}

export async function startNativeProxy(context: StartContext, proxy: NativeProxy): Promise<TargetStart> {
  const bin = which(proxy.bin);
  if (bin === undefined) return { ok: false, reason: `${proxy.bin} binary not found on PATH` };
  const dir = join(context.tempDir, proxy.bin);
  await mkdir(dir, { recursive: true });
  const port = await getFreePort();
  const configPath = join(dir, proxy.configFile);
  await writeFile(configPath, proxy.config(dir, port, bin));
  const child = spawnTracked(proxy.bin, bin, proxy.args(dir, configPath), { leashSeconds: context.leashSeconds });
  const url = `http://127.0.0.1:${port}/payload`;
  const ready = await waitForHttp200(url, START_TIMEOUT_MS, child);
  if (!ready.ok) {
    await child.stop();
    return ready;
  }
  const version = toolVersion(bin, ['-v']);
  return {
    ok: true,
    running: { url, stop: () => child.stop(), ...(version !== undefined ? { detail: version } : {}) },
  };
}
