/**
 * Opening and closing the gateway's side listeners (metrics, stats, Kong status, dashboard): one place
 * for the listen error (TG_ERR_LISTEN, one line naming the address), for a close that does not wait on
 * keep-alive sockets, and for the guard every side listener has. A side listener is untrusted input
 * on a process that must not die of it (in a cluster, the primary that supervises the data plane):
 * the request target is parsed here once, without anything that throws, and a handler that throws
 * or rejects answers 500 and costs a rate-limited log line.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TollgateError } from '../errors/catalogue.js';
import { RateLimitedLog, type Logger } from '../log/logger.js';

/** Why a listen failed, as a person reads it (Node's message repeats the code and the address). */
const LISTEN_REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'address not available',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'unknown host',
  EINVAL: 'invalid address',
};

function hostPort(host: string, port: number): string {
  const h = host === '' ? '*' : host.includes(':') ? `[${host}]` : host;
  return `${h}:${port}`;
}

/**
 * The TG_ERR_LISTEN error of a listener that could not open: one line,
 * `cannot listen on 127.0.0.1:8080 (what): address already in use`, with Node's error as its cause.
 */
export function listenError(host: string, port: number, err: NodeJS.ErrnoException, what?: string): TollgateError {
  const reason = (err.code !== undefined ? LISTEN_REASONS[err.code] : undefined) ?? err.message;
  const name = what === undefined ? '' : ` (${what})`;
  return new TollgateError('TG_ERR_LISTEN', `cannot listen on ${hostPort(host, port)}${name}: ${reason}`, {
    cause: err,
  });
}

/** Listens on `host:port` ('' = every interface); rejects with TG_ERR_LISTEN naming `what`. */
export function listenOn(server: Server, host: string, port: number, what?: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(listenError(host, port, err, what));
    server.once('error', onError);
    server.listen(port, host === '' ? undefined : host, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

export async function closeServer(server: Server | undefined): Promise<void> {
  if (server === undefined) return;
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}

/** A side listener's request target, split without decoding (nothing here can throw). */
export interface SideTarget {
  /** The path as sent (percent-escapes kept). */
  readonly path: string;
  /** The query; URLSearchParams decodes leniently (a bad escape stays as it is). */
  readonly query: URLSearchParams;
}

/**
 * The origin-form target (RFC 9112 §3.2.1) of a side-listener request, or undefined for any other
 * form (`*`, absolute-form, authority-form), which no side listener serves.
 */
export function parseSideTarget(url: string | undefined): SideTarget | undefined {
  if (url === undefined || url.charCodeAt(0) !== 47 /* / */) return undefined;
  const q = url.indexOf('?');
  return q === -1
    ? { path: url, query: new URLSearchParams() }
    : { path: url.slice(0, q), query: new URLSearchParams(url.slice(q + 1)) };
}

/** A side listener's handler: may throw or reject, which answers 500 (see SideListener). */
export type SideHandler = (req: IncomingMessage, res: ServerResponse, target: SideTarget) => void | Promise<void>;

/** A plain-text answer, for the statuses the guard itself sends. */
function plain(res: ServerResponse, status: number, text: string): void {
  res
    .writeHead(status, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'x-content-type-options': 'nosniff',
    })
    .end(text);
}

/**
 * A side listener: its HTTP server with the timeouts every side listener has (a stuck client cannot
 * pin a socket: 3 s for headers as KrakenD's exporter, 10 s for the request), the guard around its
 * handler, its address, its close.
 */
export class SideListener {
  #server: Server | undefined;
  readonly #logger: Logger;
  readonly #errors = new RateLimitedLog();

  constructor(
    readonly what: string,
    logger: Logger,
  ) {
    this.#logger = logger;
  }

  open(host: string, port: number, handler: SideHandler): Promise<AddressInfo> {
    const server = createServer((req, res) => this.#guarded(handler, req, res));
    server.headersTimeout = 3_000;
    server.requestTimeout = 10_000;
    this.#server = server;
    return listenOn(server, host, port, this.what).then((address) => {
      // After the listen, an error of the server (an accept that fails: EMFILE) is a log line, not a crash.
      server.on('error', (err) =>
        this.#errors.maybe('server', (suppressed) =>
          this.#logger.error({ err, listener: this.what, suppressed }, 'side listener error'),
        ),
      );
      return address;
    });
  }

  #guarded(handler: SideHandler, req: IncomingMessage, res: ServerResponse): void {
    const target = parseSideTarget(req.url);
    if (target === undefined) {
      plain(res, 400, '400 bad request: the request target must be an absolute path\n');
      return;
    }
    try {
      const done = handler(req, res, target);
      if (done !== undefined) done.catch((err: unknown) => this.#failed(err, res));
    } catch (err) {
      this.#failed(err, res);
    }
  }

  /** A handler failed (a snapshot read that threw, a bug): 500 for this request, one log line per interval. */
  #failed(err: unknown, res: ServerResponse): void {
    this.#errors.maybe('request', (suppressed) =>
      this.#logger.error({ err, listener: this.what, suppressed }, 'side listener request failed'),
    );
    if (res.headersSent) res.destroy();
    else plain(res, 500, '500 internal server error\n');
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
