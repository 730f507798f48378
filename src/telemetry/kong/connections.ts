/**
 * Connection accounting of the data listener, the numbers nginx's stub_status gives Kong
 * (`kong_nginx_connections_total`): accepted and handled connections, active ones, requests being
 * written (in flight) and idle keep-alive ones waiting. `reading` (request headers still arriving)
 * is not observable without per-socket parsing state and is reported as 0.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export class ConnectionStats {
  accepted = 0;
  active = 0;
  requests = 0;
  /** Requests being served now, read from the gateway at scrape time. */
  inFlightSource: () => number = () => 0;

  get inFlight(): number {
    return this.inFlightSource();
  }

  attach(server: Server): void {
    server.on('connection', (socket: Socket) => {
      this.accepted++;
      this.active++;
      socket.once('close', () => this.active--);
    });
  }
}
