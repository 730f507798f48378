// Starts one of the bench's own Node servers (bench/lib/*-server.ts,
// *-proxy.ts) as a separate process and waits for it to report its port.
// Separate processes keep every server off the driver's event loop and off
// each other's, so each one is measured on its own thread.

import { fileURLToPath } from 'node:url';
import { spawnTracked, type TrackedChild } from './children.js';
import { awaitAnnouncement } from './ipc.js';

export type NodeServerStart =
  | { readonly ok: true; readonly child: TrackedChild; readonly port: number }
  | { readonly ok: false; readonly reason: string };

export async function startNodeServer(
  name: string,
  script: string,
  args: readonly string[],
  startTimeoutMs: number,
): Promise<NodeServerStart> {
  const scriptPath = fileURLToPath(new URL(script, import.meta.url));
  // `--import tsx` so the child can run TypeScript directly, like the driver.
  const child = spawnTracked(name, process.execPath, ['--import', 'tsx', scriptPath, ...args], { ipc: true });
  const message = await awaitAnnouncement(child, startTimeoutMs);
  if (message.type === 'listening') return { ok: true, child, port: message.port };
  await child.stop(500);
  return { ok: false, reason: message.reason };
}
