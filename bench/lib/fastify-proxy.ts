// Child process: fastify + @fastify/http-proxy, the de-facto reference
// "Node API gateway" stack (it proxies through @fastify/reply-from, which is
// undici underneath). Shows where a full framework lands relative to the floor.
// Imports are dynamic so a missing package becomes an "unavailable" row
// instead of a crash.

import { announce, exitWithParent, upstreamOption } from './ipc.js';

exitWithParent();

const upstream = upstreamOption('fastify proxy');

try {
  const [{ default: Fastify }, { default: httpProxy }] = await Promise.all([
    import('fastify'),
    import('@fastify/http-proxy'),
  ]);
  const app = Fastify({ logger: false });
  await app.register(httpProxy, { upstream, prefix: '/payload', rewritePrefix: '/payload' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('could not determine port');
  announce({ type: 'listening', port: address.port });
} catch (error) {
  announce({
    type: 'unavailable',
    reason: `fastify/@fastify/http-proxy: ${error instanceof Error ? error.message : String(error)}`,
  });
  process.exit(1);
}
