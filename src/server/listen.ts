/**
 * Opening and closing the gateway's side listeners (metrics, stats, Kong status): one place for the
 * listen error (TG_ERR_LISTEN with the address) and for a close that does not wait on keep-alive sockets.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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

/**
 * A side listener: its HTTP server with the timeouts every side listener has (a stuck client cannot
 * pin a socket: 3 s for headers as KrakenD's exporter, 10 s for the request), its address, its close.
 */
export class SideListener {
  #server: Server | undefined;

  constructor(readonly what: string) {}

  open(host: string, port: number, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<AddressInfo> {
    const server = createServer(handler);
    server.headersTimeout = 3_000;
    server.requestTimeout = 10_000;
    this.#server = server;
    return listenOn(server, host, port, this.what);
  }

  get address(): AddressInfo | undefined {
    return (this.#server?.address() as AddressInfo | null) ?? undefined;
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    await closeServer(server);
  }
}
