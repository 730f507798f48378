// Picks a free loopback TCP port for servers that cannot report the port
// they bound themselves (nginx, HAProxy, Tollgate all take it from config).
// There is an unavoidable window between closing this probe socket and the
// target binding the port; on a loopback-only benchmark host that race is
// harmless in practice, and a collision surfaces as a failed readiness check.

import { createServer } from 'node:net';

export function getFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not determine a free port'));
        return;
      }
      const { port } = address;
      server.close((error) => (error ? reject(error) : resolve(port)));
    });
  });
}
