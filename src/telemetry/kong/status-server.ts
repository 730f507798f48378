/**
 * Kong's Status API `/metrics` for the Kong families: text format only (Kong offers no OpenMetrics),
 * `Content-Type: text/plain; charset=UTF-8`, optionally limited to client networks (`allow`, CIDR)
 * and a bearer `token`. Loopback by default.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BlockList, isIPv6, type AddressInfo } from 'node:net';
import { SideListener, type SideTarget } from '../../http/listen.js';
import type { Logger } from '../../log/logger.js';
import { encodePrometheusText } from '../exposition/prometheus-text.js';
import { ExpositionResponder } from '../exposition/respond.js';
import type { SnapshotSource } from '../store/store.js';
import type { KongSettings } from '../../config/namespaces/kong.js';

const GROUPS = new Set(['kong']);

function json(res: ServerResponse, status: number, message: string): void {
  const body = JSON.stringify({ message });
  res
    .writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) })
    .end(body);
}

export class KongStatusServer {
  readonly #settings: KongSettings;
  readonly #store: SnapshotSource;
  readonly #logger: Logger;
  readonly #allow: BlockList | undefined;
  readonly #listener: SideListener;
  readonly #responder = new ExpositionResponder();

  constructor(settings: KongSettings, store: SnapshotSource, logger: Logger) {
    this.#settings = settings;
    this.#store = store;
    this.#logger = logger;
    this.#listener = new SideListener('telemetry/kong-prometheus', logger);
    if (settings.allow.length > 0) {
      const list = new BlockList();
      for (const cidr of settings.allow) {
        const [addr = '', prefix] = cidr.split('/');
        const type = isIPv6(addr) ? 'ipv6' : 'ipv4';
        if (prefix === undefined) list.addAddress(addr, type);
        else list.addSubnet(addr, Number(prefix), type);
      }
      this.#allow = list;
    }
  }

  #permitted(req: IncomingMessage): 'ok' | 'forbidden' | 'unauthorized' {
    if (this.#allow !== undefined) {
      let ip = req.socket.remoteAddress ?? '';
      if (ip.startsWith('::ffff:')) ip = ip.slice(7);
      // A socket already gone has no address (and BlockList.check throws on ''): nothing to allow.
      if (ip === '' || !this.#allow.check(ip, isIPv6(ip) ? 'ipv6' : 'ipv4')) return 'forbidden';
    }
    if (this.#settings.token !== undefined) {
      const given = Buffer.from(req.headers.authorization ?? '');
      const want = Buffer.from(`Bearer ${this.#settings.token}`);
      if (given.length !== want.length || !timingSafeEqual(given, want)) return 'unauthorized';
    }
    return 'ok';
  }

  /** A read that fails (throws or rejects) answers 500 through the SideListener; the next scrape reads again. */
  async #handle(req: IncomingMessage, res: ServerResponse, { path }: SideTarget): Promise<void> {
    const verdict = this.#permitted(req);
    if (verdict === 'forbidden') return json(res, 403, 'Forbidden');
    if (verdict === 'unauthorized') return json(res, 401, 'Unauthorized');
    if (path !== '/metrics' && path !== '/metrics/') return json(res, 404, 'Not found');
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, 'Method not allowed');
    const snapshot = await this.#store.collect(GROUPS);
    this.#responder.send(req, res, 'text/plain; charset=UTF-8', (hint) => encodePrometheusText(snapshot, hint));
  }

  async start(): Promise<AddressInfo> {
    const address = await this.#listener.open(
      this.#settings.listenHost,
      this.#settings.listenPort,
      (req, res, target) => this.#handle(req, res, target),
    );
    this.#logger.info({ address: address.address, port: address.port }, 'kong status listener listening');
    return address;
  }

  get address(): AddressInfo | undefined {
    return this.#listener.address;
  }

  close(): Promise<void> {
    return this.#listener.close();
  }
}
