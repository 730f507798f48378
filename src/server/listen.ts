/**
 * Opening and closing the gateway's side listeners (metrics, stats, Kong status): one place for the
 * listen error (TG_ERR_LISTEN with the address) and for a close that does not wait on keep-alive sockets.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TollgateError } from '../errors/catalogue.js';

/** Listens on `host:port` ('' = every interface); rejects with TG_ERR_LISTEN naming `what`. */
export function listenOn(server: Server, host: string, port: number, what: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new TollgateError('TG_ERR_LISTEN', `${what} cannot listen on ${host || '*'}:${port}: ${err.message}`, { cause: err })));
    server.listen(port, host === '' ? undefined : host, () => resolve(server.address() as AddressInfo));
  });
}

export async function closeServer(server: Server | undefined): Promise<void> {
  if (server === undefined) return;
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}
