/**
 * The gateway: composes the route table, backend pools and endpoint handlers once from a frozen
 * config, then serves them on the data listener. Lifecycle: `start()` opens the listener, `close()`
 * drains (stop accepting, let in-flight requests finish up to a deadline) and closes the pools.
 */
import { createServer as createHttpServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { EndpointConfig, GatewayConfig } from '../config/types.js';
import { ApiKeyAuth } from '../auth/api-keys.js';
import { HealthChecker } from '../backends/health.js';
import { TollgateError } from '../errors/catalogue.js';
import type { Logger } from '../log/logger.js';
import { RateLimitedLog } from '../log/logger.js';
import { PoolRegistry } from '../backends/pools.js';
import { BackendCall } from '../proxy/backend-call.js';
import type { EndpointHandler, HandlerDeps } from '../proxy/endpoint-handler.js';
import { MergeHandler } from '../proxy/merge-handler.js';
import { NoopHandler } from '../proxy/noop-handler.js';
import { causeCode } from '../proxy/upstream-error.js';
import { parseEndpointPattern, type EndpointPattern } from '../routing/pattern.js';
import { Router, trailingSlashAlternative } from '../routing/router.js';
import { VERSION } from '../version.js';
import { performance } from 'node:perf_hooks';
import { ClientConnections } from '../telemetry/client-connection.js';
import { RequestRecord } from '../telemetry/record.js';
import { Telemetry } from '../telemetry/telemetry.js';
import { builtinFor } from './builtins.js';
import { DescriptorGuard } from './descriptor-guard.js';
import { ListenerDrain } from './drain.js';
import { listenError } from './listen.js';
import { listenerTimeouts } from './listener-timeouts.js';
import { requestLineError } from './request-line.js';
import { sendError } from './respond.js';
import { tlsServerOptions } from './tls.js';

export interface GatewayOptions {
  readonly logger: Logger;
  /** A cluster worker: its metrics are served by the primary (see server/cluster). */
  readonly worker?: boolean;
}

const NOT_FOUND = new TollgateError('TG_ERR_ROUTE_NOT_FOUND');

export class Gateway {
  readonly config: GatewayConfig;
  readonly #logger: Logger;
  readonly #pools = new PoolRegistry();
  readonly #router: Router;
  readonly #handlers: EndpointHandler[];
  readonly #failures = new RateLimitedLog();
  readonly #apiKeys: ApiKeyAuth | undefined;
  readonly #health: (HealthChecker | undefined)[][];
  readonly #telemetry: Telemetry;
  readonly #record = (rec: RequestRecord): void => this.#telemetry.record(rec);
  /** Address, TLS facts and byte counts of the client connections, for the records. */
  readonly #connections = new ClientConnections();
  /** The data listener's stop, once it listens. */
  #drain: ListenerDrain | undefined;
  #inFlight = 0;
  #draining = false;

  constructor(config: GatewayConfig, options: GatewayOptions) {
    this.config = config;
    this.#logger = options.logger;
    this.#apiKeys = config.apiKeys === undefined ? undefined : new ApiKeyAuth(config.apiKeys);
    const deps: HandlerDeps = {
      userAgent: `Tollgate/${VERSION}`,
      onBackendError: (endpoint, backend, err) => this.#logBackendError(endpoint, backend, err),
    };
    const calls = config.endpoints.map((ep) => ep.backends.map((b) => new BackendCall(ep, b, this.#pools, deps.userAgent)));
    this.#handlers = config.endpoints.map((ep, i) => {
      const own = calls[i] as BackendCall[];
      return ep.outputEncoding === 'no-op' && own.length === 1
        ? new NoopHandler(ep, own[0] as BackendCall, deps)
        : new MergeHandler(ep, own, deps, config.maxBufferedBody);
    });
    const targets = calls.map((list) => list.map((c) => c.balancer.targets));
    // Health checkers (backend/healthcheck), one per backend, shared with its round-robin.
    this.#health = calls.map((list) =>
      list.map((c) => {
        const settings = c.config.health;
        if (settings === undefined) return undefined;
        const checker = new HealthChecker(settings, c.balancer.targets);
        c.balancer.health = checker;
        return checker;
      }),
    );
    this.#telemetry = new Telemetry(config, targets, { logger: this.#logger, version: VERSION, health: this.#health, worker: options.worker === true });
    calls.forEach((list, e) => list.forEach((c, b) => (c.injector = this.#telemetry.injector(e, b))));
    this.#router = new Router(config.endpoints.map((ep) => ({ id: ep.index, method: ep.method, pattern: parseEndpointPattern(ep.path) as EndpointPattern })));
  }

  /** Opens the data listener; resolves with its address (port 0 in the config picks a free port). */
  async start(): Promise<AddressInfo> {
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => this.#onRequest(req, res);
    // Node's own Host check answers a bare 400 without the error body; the check is done in #onRequest.
    const options = { ...listenerTimeouts(this.config.serverTimeouts), requireHostHeader: false };
    const server = this.config.tls === undefined ? createHttpServer(options, onRequest) : createHttpsServer({ ...tlsServerOptions(this.config.tls), ...options }, onRequest);
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => rejectMalformed(err, socket));
    // A gateway is no forward proxy (Go's server and nginx answer CONNECT with 400 too); without this
    // listener Node drops the connection without an answer.
    server.on('connect', (_req: IncomingMessage, socket: Socket) => rejectMalformed(Object.assign(new Error('CONNECT'), { code: 'TG_CONNECT' }), socket));
    this.#telemetry.attach(server, () => this.#inFlight);
    new DescriptorGuard(server, this.#logger);
    this.#drain = new ListenerDrain(server, () => this.#telemetry.connections.active);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(listenError(this.config.listenIp, this.config.port, err)));
      const host = this.config.listenIp === '' ? undefined : this.config.listenIp;
      server.listen(this.config.port, host, () => resolve());
    });
    for (const list of this.#health) for (const h of list) h?.start();
    try {
      await this.#telemetry.start();
    } catch (err) {
      server.close();
      throw err;
    }
    const address = server.address() as AddressInfo;
    this.#logger.info({ address: address.address, port: address.port, tls: this.config.tls !== undefined, endpoints: this.config.endpoints.length, pid: process.pid }, 'gateway listening');
    return address;
  }

  /** The telemetry of this gateway (metric store, exporters), for tests and the CLI. */
  get telemetry(): Telemetry {
    return this.#telemetry;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.#inFlight++;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const rawQuery = q === -1 ? '' : url.slice(q + 1);
    const rec = new RequestRecord(req.method ?? 'GET', path, performance.now());
    // Held here, not read from `req` at the end: Node nulls `req.socket` once the request stream is destroyed.
    const socket = req.socket;
    const connection = this.#connections.of(socket);
    rec.connection = connection;
    this.#telemetry.begin(rec, req, res);
    res.once('close', () => {
      this.#inFlight--;
      rec.end = performance.now();
      rec.status = res.statusCode;
      this.#connections.settle(socket, connection, rec);
      const cl = res.getHeader('content-length');
      rec.bytesOut = cl !== undefined ? Number(cl) : (rec.backends?.[0]?.readBytes ?? 0);
      if (rec.proxyStart !== 0 && rec.proxyEnd === 0) rec.pending = this.#record;
      else this.#telemetry.record(rec);
    });
    if (this.#draining) res.setHeader('connection', 'close');
    if (path.charCodeAt(0) !== 47) {
      sendError(res, new TollgateError('TG_ERR_BAD_REQUEST', 'the request target must be an absolute path'));
      return;
    }
    const refused = requestLineError(req);
    if (refused !== undefined) {
      res.setHeader('connection', 'close');
      sendError(res, refused);
      return;
    }
    if (path.startsWith('/__') || path === this.config.healthPath) {
      const builtin = builtinFor(this.config, path, this.#logger);
      if (builtin !== undefined) {
        builtin(req, res, path, rawQuery);
        return;
      }
    }
    const method = req.method ?? 'GET';
    const found = this.#router.find(method, path);
    if (found.kind === 'found') {
      const params = decodeParams(found.params);
      if (typeof params === 'string') sendError(res, new TollgateError('TG_ERR_BAD_REQUEST', params));
      else {
        rec.route = found.id;
        const auth = (this.config.endpoints[found.id] as EndpointConfig).auth;
        if (auth !== undefined) {
          const result = this.#apiKeys?.check(req, rawQuery, auth) ?? { ok: false as const, status: 401 as const };
          if (!result.ok) {
            sendError(res, new TollgateError(result.status === 401 ? 'TG_ERR_UNAUTHORIZED' : 'TG_ERR_FORBIDDEN', result.message), result.challenge === undefined ? undefined : { 'www-authenticate': result.challenge });
            return;
          }
          rec.consumer = result.consumer;
        }
        (this.#handlers[found.id] as EndpointHandler).handle(req, res, params, rawQuery, rec);
      }
      return;
    }
    if (found.kind === 'method-not-allowed') {
      sendError(res, new TollgateError('TG_ERR_METHOD_NOT_ALLOWED'), { allow: found.allow });
      return;
    }
    const alt = trailingSlashAlternative(this.#router, method, path);
    if (alt !== undefined) {
      res.writeHead(method === 'GET' || method === 'HEAD' ? 301 : 307, { location: alt + (q === -1 ? '' : url.slice(q)) });
      res.end();
      return;
    }
    sendError(res, NOT_FOUND);
  }

  #logBackendError(endpoint: string, backend: string, err: TollgateError): void {
    if (err.code === 'TG_ERR_CLIENT_ABORTED') return;
    const cause = causeCode(err);
    this.#failures.maybe(`${endpoint}\u0000${backend}\u0000${err.code}\u0000${cause}`, (suppressed) => {
      this.#logger.warn({ endpoint, backend, code: err.code, cause, detail: err.message, suppressed }, 'backend request failed');
    });
  }

  /**
   * Graceful stop: refuse new connections, close idle keep-alive sockets (not one just accepted, whose
   * request may be on its way: server/drain.ts), wait for in-flight requests up to `deadlineMs`, then
   * cut what is left and close the pools.
   */
  async close(deadlineMs = 10_000): Promise<void> {
    const drain = this.#drain;
    if (drain === undefined) return;
    this.#draining = true;
    const until = Date.now() + deadlineMs;
    const clean = await drain.run(deadlineMs, () => this.#inFlight);
    for (const list of this.#health) for (const h of list) h?.close();
    if (clean) await this.#pools.close();
    else await this.#pools.destroy();
    // Telemetry flushes (OTLP) get what is left of the deadline, and at least a second.
    await this.#telemetry.close(Math.max(1_000, until - Date.now()));
    this.#drain = undefined;
    this.#logger.info({ clean }, 'gateway stopped');
  }
}

/**
 * The decoded path parameters, or why they are refused. A parameter that is a dot segment (`.`, `..`,
 * also as `%2e%2e`) cannot be sent on safely: re-encoded or not, the backend's URL resolution (RFC 3986
 * §5.2.4, and WHATWG URL for `%2e`) removes it with the segment before it, so `/items/{id}/detail`
 * would reach `/detail`.
 */
function decodeParams(raw: readonly string[]): string[] | string {
  const out: string[] = new Array<string>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i] as string;
    let d = v;
    if (v.indexOf('%') !== -1) {
      try {
        d = decodeURIComponent(v);
      } catch {
        return 'the path has an invalid percent-encoding';
      }
    }
    if (d === '.' || d === '..') return 'a path parameter cannot be a dot segment';
    out[i] = d;
  }
  return out;
}

/** A well-formed `HTTP/x.y` that llhttp refuses (`HTTP/1.2`, `HTTP/3.0`): 505, as Go and nginx answer. */
const VERSION_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ [^ \r\n]+ HTTP\/\d\.\d\r\n/;

function unsupportedVersion(err: NodeJS.ErrnoException): boolean {
  const raw = (err as { rawPacket?: unknown }).rawPacket;
  return err.code === 'HPE_INVALID_VERSION' && Buffer.isBuffer(raw) && VERSION_LINE.test(raw.toString('latin1', 0, Math.min(raw.length, 8192)));
}

/**
 * Malformed requests that never reach a handler (bad request line or version, header overflow, headers
 * or request not read in time, CONNECT) get a 4xx or 505, then the socket is destroyed once the answer
 * is written: the listener is half-open (allowHalfOpen), so a client that keeps sending, or a dripping
 * one, would otherwise hold the socket after the answer for as long as it likes.
 */
function rejectMalformed(err: NodeJS.ErrnoException, socket: Socket): void {
  // As Node's own handler: no error answer into a response that has begun (a request timeout while
  // the handler streams one).
  const started = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage?.headersSent === true;
  if (err.code === 'ECONNRESET' || !socket.writable || started) {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : unsupportedVersion(err) ? 505 : 400;
  const code = status === 431 ? 'TG_ERR_HEADERS_TOO_LARGE' : status === 505 ? 'TG_ERR_HTTP_VERSION' : 'TG_ERR_BAD_REQUEST';
  const body = JSON.stringify({ error: STATUS_CODES[status], code });
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  socket.once('finish', () => socket.destroy());
}
