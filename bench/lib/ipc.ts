// The tiny protocol between the driver and the Node child servers it forks
// (upstream, floor, fastify, fast-gateway): the child binds 127.0.0.1:0 and
// reports the port it got, or explains why it cannot run at all.

import type { Server } from 'node:net';
import { parseArgs } from 'node:util';
import type { TrackedChild } from './children.js';

export type ChildMessage =
  { readonly type: 'listening'; readonly port: number } | { readonly type: 'unavailable'; readonly reason: string };

function isChildMessage(value: unknown): value is ChildMessage {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    (record['type'] === 'listening' && typeof record['port'] === 'number') ||
    (record['type'] === 'unavailable' && typeof record['reason'] === 'string')
  );
}

/** Child side: tell the driver how things went. */
export function announce(message: ChildMessage): void {
  process.send?.(message);
}

/**
 * Child side: exit as soon as the driver goes away. The IPC channel closes
 * even when the driver is SIGKILLed, so this is what keeps Node children from
 * being orphaned in that case.
 */
export function exitWithParent(): void {
  process.once('disconnect', () => process.exit(0));
}

/** Child side: announces that `what` cannot run, and exits. */
function giveUp(reason: string): never {
  announce({ type: 'unavailable', reason });
  process.exit(1);
}

/** Child side: the `--upstream <origin>` a proxy forwards to (its only option); without it, gives up. */
export function upstreamOption(what: string): string {
  const { values } = parseArgs({ options: { upstream: { type: 'string' } } });
  return values.upstream ?? giveUp(`${what} needs --upstream`);
}

/** Child side: an upstream's `--payload <bytes>` (its only option, default 1024); an invalid one gives up. */
export function payloadOption(): number {
  const { values } = parseArgs({ options: { payload: { type: 'string', default: '1024' } } });
  const payloadBytes = Number(values.payload);
  return Number.isInteger(payloadBytes) && payloadBytes >= 0
    ? payloadBytes
    : giveUp(`invalid --payload ${String(values.payload)}`);
}

/** Child side: listens on 127.0.0.1:0 and announces the port it got. */
export function listenOnLoopback(server: Server, what: string): void {
  server.listen({ host: '127.0.0.1', port: 0 }, () => {
    const address = server.address();
    if (address === null || typeof address === 'string') giveUp(`${what} could not determine its port`);
    announce({ type: 'listening', port: address.port });
  });
}

/** Driver side: wait for the first protocol message, an early exit, or a timeout. */
export function awaitAnnouncement(child: TrackedChild, timeoutMs: number): Promise<ChildMessage> {
  return new Promise((resolve) => {
    const timer = setTimeout(
      () => finish({ type: 'unavailable', reason: `no port reported within ${timeoutMs} ms` }),
      timeoutMs,
    );
    const onMessage = (message: unknown): void => {
      if (isChildMessage(message)) finish(message);
    };
    function finish(message: ChildMessage): void {
      clearTimeout(timer);
      child.process.off('message', onMessage);
      resolve(message);
    }
    child.process.on('message', onMessage);
    child.exited
      .then(({ code, signal }) => {
        const detail = child.stderrTail().split('\n').slice(-3).join(' | ');
        finish({
          type: 'unavailable',
          reason: `exited early (code ${String(code)}, signal ${String(signal)})${detail ? `: ${detail}` : ''}`,
        });
      })
      .catch(() => undefined);
  });
}
