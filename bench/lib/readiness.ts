// Readiness polling: a target counts as up only once it answers an HTTP GET
// with 200, not merely when its process exists or its port accepts — native
// daemons and the gateway bind before they are able to proxy.

import type { ExitInfo, TrackedChild } from './children.js';
import { httpGet } from './http-get.js';

export type Readiness = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const POLL_INTERVAL_MS = 100;

function describeStderr(child: TrackedChild): string {
  const tail = child.stderrTail();
  if (tail === '') return '';
  return `; stderr: ${tail.split('\n').slice(-4).join(' | ').slice(-400)}`;
}

/**
 * Polls `url` until it answers 200. When `child` is given, its exit ends the
 * wait at once (with its stderr as the reason) instead of polling a dead port
 * until the timeout.
 */
export async function waitForHttp200(url: string, timeoutMs: number, child?: TrackedChild): Promise<Readiness> {
  const deadline = Date.now() + timeoutMs;
  let exit: ExitInfo | undefined;
  child?.exited
    .then((info) => {
      exit = info;
    })
    .catch(() => undefined);
  let last = 'no response yet';
  for (;;) {
    if (exit !== undefined && child !== undefined) {
      return {
        ok: false,
        reason: `exited before becoming ready (code ${String(exit.code)}, signal ${String(exit.signal)})${describeStderr(child)}`,
      };
    }
    if (Date.now() >= deadline) break;
    try {
      const { status } = await httpGet(url, Math.min(2000, Math.max(100, deadline - Date.now())));
      if (status === 200) return { ok: true };
      last = `HTTP ${String(status)}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
  return {
    ok: false,
    reason: `GET ${url} not 200 within ${String(timeoutMs)} ms (last: ${last})${child ? describeStderr(child) : ''}`,
  };
}
