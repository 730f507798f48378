// Targets implemented by the bench's own Node child scripts: the undici
// floor, fastify + @fastify/http-proxy and fast-gateway. They share one
// start-up path: fork, wait for the reported port, wait for GET /payload 200.

import { startNodeServer } from './node-child.js';
import { waitForHttp200 } from './readiness.js';
import type { StartContext, TargetSpec, TargetStart } from './target.js';

const START_TIMEOUT_MS = 15_000;

async function startProxyScript(name: string, script: string, context: StartContext): Promise<TargetStart> {
  const started = await startNodeServer(name, script, ['--upstream', context.upstreamOrigin], START_TIMEOUT_MS);
  if (!started.ok) return started;
  const url = `http://127.0.0.1:${started.port}/payload`;
  const ready = await waitForHttp200(url, START_TIMEOUT_MS, started.child);
  if (!ready.ok) {
    await started.child.stop();
    return ready;
  }
  return { ok: true, running: { url, stop: () => started.child.stop() } };
}

export const floorTarget: TargetSpec = {
  name: 'floor',
  description: 'node:http + one undici.Pool (keep-alive), hop-by-hop stripping only: the reference',
  start: (context) => startProxyScript('floor', './floor-proxy.ts', context),
};

export const fastifyTarget: TargetSpec = {
  name: 'fastify',
  description: 'fastify + @fastify/http-proxy (reply-from/undici): a typical Node gateway stack',
  start: (context) => startProxyScript('fastify', './fastify-proxy.ts', context),
};

export const fastGatewayTarget: TargetSpec = {
  name: 'fast-gateway',
  description: 'fast-gateway (restana) when importable',
  start: (context) => startProxyScript('fast-gateway', './fast-gateway-proxy.ts', context),
};
