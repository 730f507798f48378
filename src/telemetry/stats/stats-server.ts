/**
 * The `/__stats` listener of `telemetry/metrics`: Go expvar JSON of the live values of a stats source
 * (this process's registry, or the sum over cluster workers).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SideListener } from '../../http/listen.js';
import type { Logger } from '../../log/logger.js';
import { renderExpvar } from './expvar.js';
import type { StatsSnapshot } from './stats-registry.js';
import type { StatsSettings } from '../../config/namespaces/metrics.js';

/** Where `/__stats` and the Influx push read from. */
export interface StatsSource {
  /** Live values (histograms cover the current window) and expvar's `cmdline`/`memstats`. */
  live(): Promise<{ readonly stats: StatsSnapshot; readonly extra: Readonly<Record<string, unknown>> }>;
  /** The snapshot of the last collection tick (what Influx pushes). */
  latest(): Promise<StatsSnapshot | undefined>;
  /**
   * Ends the current collection window now (the final push on shutdown). Only a source that keeps
   * its own window has one: a cluster's workers end theirs before their final report.
   */
  endWindow?(): Promise<void>;
}

export class StatsServer {
  readonly #settings: StatsSettings;
  readonly #source: StatsSource;
  readonly #logger: Logger;
  readonly #listener: SideListener;

  constructor(settings: StatsSettings, source: StatsSource, logger: Logger) {
    this.#settings = settings;
    this.#source = source;
    this.#logger = logger;
    this.#listener = new SideListener('telemetry/metrics', logger);
  }

  async start(): Promise<AddressInfo> {
    const address = await this.#listener.open(
      this.#settings.listenHost,
      this.#settings.listenPort,
      (req, res, { path }) => this.#handle(req, res, path),
    );
    this.#logger.info({ address: address.address, port: address.port }, 'stats endpoint listening');
    return address;
  }

  /** A read that fails (throws or rejects) answers 500 through the SideListener; the next request reads again. */
  async #handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path !== '/__stats' && path !== '/__stats/') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const { stats, extra } = await this.#source.live();
    const body = renderExpvar(stats, extra);
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  get address(): AddressInfo | undefined {
    return this.#listener.address;
  }

  close(): Promise<void> {
    return this.#listener.close();
  }
}
