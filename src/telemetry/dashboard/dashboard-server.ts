/**
 * The live dashboard listener (`telemetry/dashboard`, loopback by default): one page with its assets
 * (uPlot from npm, no CDN), `GET api/state` and `GET api/events` (server-sent events, one state per
 * second). A state is computed once a second from the same metric source as /metrics, whoever is
 * watching; with a `token`, every request needs it (Bearer header, or a cookie set by `/?token=`).
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { timingSafeEqual } from 'node:crypto';
import { RateLimitedLog, type Logger } from '../../log/logger.js';
import { SideListener, type SideTarget } from '../../http/listen.js';
import type { Snapshot } from '../store/store.js';
import { DashboardModel, type DashboardState } from './dashboard-model.js';
import type { DashboardSettings } from '../../config/namespaces/dashboard.js';
import type { SlowRequest } from './slow-log.js';

/** Where the dashboard reads: the `dashboard` families and the slowest recent requests. */
export interface DashboardSource {
  readDashboard(): Promise<{ readonly snapshot: Snapshot; readonly slow: readonly SlowRequest[] }>;
}

const COOKIE = 'tollgate_dashboard';
const TICK_MS = 1_000;
/** At most this many open event streams (each costs a socket and a write per second). */
const MAX_STREAMS = 32;

interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

/**
 * The page and its assets. They sit next to this module, in src/ and (copied by the build,
 * scripts/copy-assets.mjs) in dist/, so the installed package and the image serve them without src/.
 */
function loadAssets(): Map<string, Asset> {
  const own = (name: string): Buffer => readFileSync(new URL(`./assets/${name}`, import.meta.url));
  const require = createRequire(import.meta.url);
  const uplot = (file: string): Buffer => readFileSync(require.resolve(`uplot/dist/${file}`));
  return new Map<string, Asset>([
    ['/', { type: 'text/html; charset=utf-8', body: own('index.html') }],
    ['/assets/app.js', { type: 'text/javascript; charset=utf-8', body: own('app.js') }],
    ['/assets/app.css', { type: 'text/css; charset=utf-8', body: own('app.css') }],
    ['/assets/uplot.js', { type: 'text/javascript; charset=utf-8', body: uplot('uPlot.iife.min.js') }],
    ['/assets/uplot.css', { type: 'text/css; charset=utf-8', body: uplot('uPlot.min.css') }],
  ]);
}

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
} as const;

export class DashboardServer {
  readonly #settings: DashboardSettings;
  readonly #source: DashboardSource;
  readonly #logger: Logger;
  #assets = new Map<string, Asset>();
  readonly #model = new DashboardModel();
  readonly #streams = new Set<ServerResponse>();
  readonly #errors = new RateLimitedLog();
  readonly #listener: SideListener;
  #timer: NodeJS.Timeout | undefined;
  #state: DashboardState | undefined;
  #ticking: Promise<void> | undefined;

  constructor(settings: DashboardSettings, source: DashboardSource, logger: Logger) {
    this.#settings = settings;
    this.#source = source;
    this.#logger = logger;
    this.#listener = new SideListener('telemetry/dashboard', logger);
  }

  async start(): Promise<AddressInfo> {
    this.#assets = loadAssets();
    const address = await this.#listener.open(
      this.#settings.listenHost,
      this.#settings.listenPort,
      (req, res, target) => this.#handle(req, res, target),
    );
    await this.tick();
    this.#timer = setInterval(() => {
      this.tick().catch(() => undefined);
    }, TICK_MS);
    this.#timer.unref();
    this.#logger.info(
      { address: address.address, port: address.port, token: this.#settings.token !== undefined },
      'dashboard listening',
    );
    return address;
  }

  get address(): AddressInfo | undefined {
    return this.#listener.address;
  }

  /**
   * One new state from the source, sent to every open stream. Never rejects: a read that fails (throws
   * or rejects) is a rate-limited log line, the last state stays, and the next tick reads again.
   */
  tick(): Promise<void> {
    this.#ticking ??= this.#update().finally(() => (this.#ticking = undefined));
    return this.#ticking;
  }

  async #update(): Promise<void> {
    try {
      const { snapshot, slow } = await this.#source.readDashboard();
      this.#state = this.#model.update(snapshot, slow);
      const frame = `data: ${JSON.stringify(this.#state)}\n\n`;
      for (const res of this.#streams) {
        // A client that stopped reading is dropped rather than buffered for.
        if (res.writableLength > 1024 * 1024) res.destroy();
        else res.write(frame);
      }
    } catch (err) {
      this.#errors.maybe('update', (suppressed) => this.#logger.warn({ err, suppressed }, 'dashboard update failed'));
    }
  }

  #authorized(req: IncomingMessage): boolean {
    const token = this.#settings.token;
    if (token === undefined) return true;
    // The bearer is compared as sent; the cookie holds the token URI-encoded (see the 303 below).
    const bearer =
      req.headers.authorization?.startsWith('Bearer ') === true ? req.headers.authorization.slice(7) : undefined;
    const cookie = /(?:^|;\s*)tollgate_dashboard=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    return [bearer, cookie === undefined ? undefined : decodeOrUndefined(cookie)].some(
      (given) => given !== undefined && safeEqual(given, token),
    );
  }

  #handle(req: IncomingMessage, res: ServerResponse, { path, query }: SideTarget): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', ...SECURITY_HEADERS }).end();
      return;
    }
    const offered = query.get('token');
    if (
      path === '/' &&
      offered !== null &&
      this.#settings.token !== undefined &&
      safeEqual(offered, this.#settings.token)
    ) {
      // The token moves into a cookie so it leaves the address bar (and any copied link).
      res
        .writeHead(303, {
          location: '/',
          'set-cookie': `${COOKIE}=${encodeURIComponent(offered)}; HttpOnly; SameSite=Strict; Path=/`,
          ...SECURITY_HEADERS,
        })
        .end();
      return;
    }
    if (!this.#authorized(req)) {
      res
        .writeHead(401, {
          'content-type': 'text/plain; charset=utf-8',
          'www-authenticate': 'Bearer',
          ...SECURITY_HEADERS,
        })
        .end('401 unauthorized: open /?token=<token> or send Authorization: Bearer <token>\n');
      return;
    }
    if (path === '/api/state') return this.#json(res, this.#state ?? null);
    if (path === '/api/events') return this.#stream(req, res);
    const asset = this.#assets.get(path === '/index.html' ? '/' : path);
    if (asset === undefined) {
      res
        .writeHead(404, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS })
        .end('404 page not found\n');
      return;
    }
    res.writeHead(200, {
      'content-type': asset.type,
      'content-length': asset.body.length,
      'cache-control': 'no-cache',
      ...SECURITY_HEADERS,
    });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  }

  #json(res: ServerResponse, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
      ...SECURITY_HEADERS,
    });
    res.end(text);
  }

  #stream(req: IncomingMessage, res: ServerResponse): void {
    if (this.#streams.size >= MAX_STREAMS) {
      res
        .writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '5', ...SECURITY_HEADERS })
        .end('too many dashboard streams\n');
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      ...SECURITY_HEADERS,
    });
    res.write('retry: 2000\n\n');
    if (this.#state !== undefined) res.write(`data: ${JSON.stringify(this.#state)}\n\n`);
    this.#streams.add(res);
    req.socket.setTimeout(0);
    res.on('close', () => this.#streams.delete(res));
  }

  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    for (const res of this.#streams) res.end();
    this.#streams.clear();
    await this.#listener.close();
  }
}

/** A malformed escape (`%E0%A4%A`) is no token rather than an exception. */
function decodeOrUndefined(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
