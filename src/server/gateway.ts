/**
 * The gateway: compiles the frozen config into routes once (compile-routes.ts), builds telemetry
 * from them, and serves them on the data listener, each request through the stages of
 * stages/request-stages.ts. Lifecycle: `start()` opens the listener, `close()` drains (stop
 * accepting, let in-flight requests finish up to a deadline) and closes the pools.
 */
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { GatewayConfig } from '../config/types.js';
import { ApiKeyAuth } from '../auth/api-keys.js';
import type { TollgateError } from '../errors/catalogue.js';
import type { Logger } from '../log/logger.js';
import { RateLimitedLog } from '../log/logger.js';
import { PoolRegistry } from '../backends/pools.js';
import { listenError } from '../http/listen.js';
import { causeCode } from '../proxy/upstream-error.js';
import { Router } from '../routing/router.js';
import { VERSION } from '../version.js';
import { ClientConnections } from '../telemetry/client-connection.js';
import { CompletionLatch } from '../telemetry/completion.js';
import { RequestRecord } from '../telemetry/record.js';
import { Telemetry } from '../telemetry/telemetry.js';
import { traceInjector } from '../telemetry/tracing/trace-injector.js';
import { jwtWiring, type JwtWiring } from './compile-jwt.js';
import { compileRoutes, type GatewayRoute } from './compile-routes.js';
import { CountedResponse } from './counted-response.js';
import { DescriptorGuard } from './descriptor-guard.js';
import { ListenerDrain } from './drain.js';
import { listenerTimeouts } from './listener-timeouts.js';
import { rejectMalformed } from './reject-malformed.js';
import { Builtins } from './stages/builtins.js';
import { serviceStages } from './stages/service-stages.js';
import { RequestStages } from './stages/request-stages.js';
import { tlsServerOptions } from './tls.js';

export interface GatewayOptions {
  readonly logger: Logger;
  /** A cluster worker: its metrics are served by the primary (see server/cluster). */
  readonly worker?: boolean;
}

export class Gateway {
  readonly config: GatewayConfig;
  readonly #logger: Logger;
  readonly #pools = new PoolRegistry();
  /** One compiled route per endpoint (server/compile-routes.ts), in `endpoints` order. */
  readonly #routes: readonly GatewayRoute[];
  /** `auth/validator`: the JWK key sources every route shares, and the logger of its refusals. */
  readonly #jwt: JwtWiring;
  readonly #stages: RequestStages;
  readonly #failures = new RateLimitedLog();
  readonly #telemetry: Telemetry;
  /** Records go to telemetry once their response and their proxy are both done. */
  readonly #completion = new CompletionLatch((rec) => this.#telemetry.record(rec));
  /** Address, TLS facts and byte counts of the client connections, for the records. */
  readonly #connections = new ClientConnections();
  /** The data listener's stop, once it listens. */
  #drain: ListenerDrain | undefined;
  #inFlight = 0;
  #draining = false;

  constructor(config: GatewayConfig, options: GatewayOptions) {
    this.config = config;
    this.#logger = options.logger;
    const injector = traceInjector(config.otel);
    this.#jwt = jwtWiring(`Tollgate/${VERSION}`, this.#logger);
    const service = serviceStages(config, this.#logger);
    this.#routes = compileRoutes(config, {
      jwt: this.#jwt,
      pools: this.#pools,
      userAgent: `Tollgate/${VERSION}`,
      injector,
      handler: {
        completion: this.#completion,
        onBackendError: (endpoint, backend, err) => this.#logBackendError(endpoint, backend, err),
        presetHeaders: service.cors !== undefined || service.httpSecure !== undefined,
      },
    });
    this.#telemetry = new Telemetry(config, this.#routes, {
      logger: this.#logger,
      version: VERSION,
      injector,
      worker: options.worker === true,
    });
    this.#stages = new RequestStages({
      builtins: new Builtins(config, this.#logger),
      router: new Router(this.#routes),
      routerSettings: config.router,
      apiKeys: config.apiKeys === undefined ? undefined : new ApiKeyAuth(config.apiKeys),
      ...service,
    });
  }

  /** Opens the data listener; resolves with its address (port 0 in the config picks a free port). */
  async start(): Promise<AddressInfo> {
    const onRequest = (req: IncomingMessage, res: CountedResponse): void => this.#onRequest(req, res);
    // Node's own Host check answers a bare 400 without the error body; the check is a stage (stages/request-line.ts).
    // Responses count the bytes they write (counted-response.ts).
    const options = {
      ...listenerTimeouts(this.config.serverTimeouts),
      requireHostHeader: false,
      ServerResponse: CountedResponse,
    };
    const server =
      this.config.tls === undefined
        ? createHttpServer(options, onRequest)
        : createHttpsServer({ ...tlsServerOptions(this.config.tls), ...options }, onRequest);
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => rejectMalformed(err, socket));
    // A gateway is no forward proxy (Go's server and nginx answer CONNECT with 400 too); without this
    // listener Node drops the connection without an answer.
    server.on('connect', (_req: IncomingMessage, socket: Socket) =>
      rejectMalformed(Object.assign(new Error('CONNECT'), { code: 'TG_CONNECT' }), socket),
    );
    this.#telemetry.attach(server, () => this.#inFlight);
    new DescriptorGuard(server, this.#logger);
    this.#drain = new ListenerDrain(server, () => this.#telemetry.connections.active);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(listenError(this.config.listenIp, this.config.port, err)));
      const host = this.config.listenIp === '' ? undefined : this.config.listenIp;
      server.listen(this.config.port, host, () => resolve());
    });
    for (const route of this.#routes) for (const b of route.backends) b.health?.start();
    // KrakenD downloads the JWK sets of validators with `cache` in the background (krakend-jose jwk.go:76).
    this.#jwt.validators.start().catch((err: unknown) => {
      this.#logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'JWK warm-up failed');
    });
    try {
      await this.#telemetry.start();
    } catch (err) {
      server.close();
      throw err;
    }
    const address = server.address() as AddressInfo;
    this.#logger.info(
      {
        address: address.address,
        port: address.port,
        tls: this.config.tls !== undefined,
        endpoints: this.config.endpoints.length,
        pid: process.pid,
      },
      'gateway listening',
    );
    return address;
  }

  /** The telemetry of this gateway (metric store, exporters), for tests and the CLI. */
  get telemetry(): Telemetry {
    return this.#telemetry;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Opens the request's record and its completion, then hands it to the stages (stages/request-stages.ts). */
  #onRequest(req: IncomingMessage, res: CountedResponse): void {
    this.#inFlight++;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rec = new RequestRecord(req.method ?? 'GET', q === -1 ? url : url.slice(0, q), performance.now());
    // Held here, not read from `req` at the end: Node nulls `req.socket` once the request stream is destroyed.
    const socket = req.socket;
    const connection = this.#connections.of(socket);
    rec.connection = connection;
    this.#telemetry.begin(rec, req, res);
    res.once('close', () => {
      this.#inFlight--;
      rec.end = performance.now();
      rec.status = res.statusCode;
      // No head went out: the client left before the answer (completion.ts settles the status).
      rec.aborted = !res.headersSent;
      rec.bytesOut = res.bodyBytes;
      rec.wireOut = res.wireBytes;
      rec.responseHeaders = res.headHeaders;
      rec.wireIn = this.#connections.bytesRead(socket, connection);
      this.#completion.responseClosed(rec);
    });
    if (this.#draining) res.setHeader('connection', 'close');
    this.#stages.run(req, res, rec, q === -1 ? '' : url.slice(q + 1));
  }

  #logBackendError(endpoint: string, backend: string, err: TollgateError): void {
    if (err.code === 'TG_ERR_CLIENT_ABORTED') return;
    const cause = causeCode(err);
    this.#failures.maybe(`${endpoint}\u0000${backend}\u0000${err.code}\u0000${cause}`, (suppressed) => {
      this.#logger.warn(
        { endpoint, backend, code: err.code, cause, detail: err.message, suppressed },
        'backend request failed',
      );
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
    for (const route of this.#routes) for (const b of route.backends) b.health?.close();
    if (clean) await this.#pools.close();
    else await this.#pools.destroy();
    // Telemetry flushes (OTLP) get what is left of the deadline, and at least a second.
    await this.#telemetry.close(Math.max(1_000, until - Date.now()));
    this.#drain = undefined;
    this.#logger.info({ clean }, 'gateway stopped');
  }
}
