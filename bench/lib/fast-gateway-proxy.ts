// Child process: fast-gateway (restana-based Node gateway), run when the
// package is importable. It is an optional dependency the repo does not
// declare (it currently fails to install), so it is imported through a
// non-literal specifier and every value it returns is checked at runtime:
// nothing here may assume its API shape. The driver's correctness probe
// catches a misconfigured route before any load is applied.

import type { Server } from 'node:http';
import { announce, exitWithParent, upstreamOption } from './ipc.js';

exitWithParent();

const upstream = upstreamOption('fast-gateway proxy');

interface RestanaService {
  start(port: number, host?: string): Promise<unknown>;
  getServer(): Server;
}

interface GatewayRoute {
  readonly prefix: string;
  readonly prefixRewrite: string;
  readonly pathRegex: string;
  readonly target: string;
}
type GatewayFactory = (config: { readonly routes: readonly GatewayRoute[] }) => unknown;

function isGatewayFactory(value: unknown): value is GatewayFactory {
  return typeof value === 'function';
}

function isRestanaService(value: unknown): value is RestanaService {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record['start'] === 'function' && typeof record['getServer'] === 'function';
}

const specifier: string = 'fast-gateway';
let factory: unknown;
try {
  const mod: unknown = await import(specifier);
  factory = typeof mod === 'object' && mod !== null && 'default' in mod ? mod.default : mod;
} catch (error) {
  announce({
    type: 'unavailable',
    reason: `fast-gateway not importable (${error instanceof Error && 'code' in error ? String(error.code) : 'error'}); it is not currently installable`,
  });
  process.exit(0);
}

try {
  if (!isGatewayFactory(factory)) throw new Error('fast-gateway did not export a factory function');
  // pathRegex '' + identical prefixRewrite: forward exactly /payload unchanged.
  const service: unknown = factory({
    routes: [{ prefix: '/payload', prefixRewrite: '/payload', pathRegex: '', target: upstream }],
  });
  if (!isRestanaService(service)) throw new Error('fast-gateway returned an unexpected service object');
  await service.start(0, '127.0.0.1');
  const address = service.getServer().address();
  if (address === null || typeof address === 'string') throw new Error('could not determine port');
  announce({ type: 'listening', port: address.port });
} catch (error) {
  announce({ type: 'unavailable', reason: `fast-gateway: ${error instanceof Error ? error.message : String(error)}` });
  process.exit(1);
}
