/**
 * What the telemetry views need of a client connection, copied from its socket while the request is
 * live: Node sets `req.socket` to null once the request stream is destroyed (undici does that to a
 * no-op request body it has sent on), so a view that read the socket at the end lost the request
 * (no spans, no Kong bandwidth). The record carries these plain values instead.
 */
import type { Socket } from 'node:net';

interface TlsFacts {
  getProtocol?: () => string | null;
  getCipher?: () => { standardName?: string } | undefined;
}

/** One per client connection, shared by the records of the requests it carries (keep-alive). */
export class ClientConnection {
  /** The socket's `bytesRead` when its previous request was settled. */
  read = 0;

  constructor(
    readonly address: string,
    /** Node's `TLSv1.3` form; undefined on plain HTTP. */
    readonly tlsVersion: string | undefined,
    /** The IANA cipher suite name (`TLS_AES_128_GCM_SHA256`); undefined on plain HTTP. */
    readonly tlsCipher: string | undefined,
  ) {}
}

/** The connections of one listener, found by socket (weakly: a closed socket takes its entry along). */
export class ClientConnections {
  readonly #bySocket = new WeakMap<Socket, ClientConnection>();

  /** The connection a request arrived on; its facts are read once, at its first request. */
  of(socket: Socket): ClientConnection {
    let c = this.#bySocket.get(socket);
    if (c === undefined) {
      const tls = socket as Socket & TlsFacts;
      const version = tls.getProtocol?.() ?? undefined;
      c = new ClientConnection(
        socket.remoteAddress ?? '',
        version,
        version === undefined ? undefined : tls.getCipher?.()?.standardName,
      );
      this.#bySocket.set(socket, c);
    }
    return c;
  }

  /**
   * When a request's response is done: the bytes its connection read since the previous request on
   * it (head and body, nginx's `$request_length`). The socket may be destroyed by now; its count stays
   * readable. Pipelined requests arrive in one read, so the first of them gets their bytes: Node does
   * not expose the size of a request head. The bytes written are counted by the response itself
   * (server/counted-response.ts), exactly, pipelined or not.
   */
  bytesRead(socket: Socket, connection: ClientConnection): number {
    const read = socket.bytesRead;
    const delta = read > connection.read ? read - connection.read : 0;
    connection.read = read;
    return delta;
  }
}
