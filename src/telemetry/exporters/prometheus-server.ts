/**
 * One Prometheus pull exporter (`exporters.prometheus[]`): its own HTTP listener serving `/metrics`
 * from the shared store. The format follows the scraper's Accept header (OpenMetrics 1.0 or text
 * 0.0.4). Rendering is synchronous from a snapshot, so a scrape never interleaves with recording.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SideListener, type SideTarget } from '../../http/listen.js';
import type { Logger } from '../../log/logger.js';
import type { SnapshotSource, StoreGroup } from '../store/store.js';
import { negotiateFormat } from '../exposition/negotiate.js';
import { encodeOpenMetrics, OPENMETRICS_CONTENT_TYPE } from '../exposition/openmetrics.js';
import { encodePrometheusText, PROMETHEUS_TEXT_CONTENT_TYPE } from '../exposition/prometheus-text.js';
import { ExpositionResponder } from '../exposition/respond.js';

export interface PrometheusServerOptions {
  readonly name: string;
  readonly port: number;
  readonly listenIp: string;
  readonly groups: ReadonlySet<StoreGroup>;
}

export class PrometheusExporterServer {
  readonly options: PrometheusServerOptions;
  readonly #store: SnapshotSource;
  readonly #logger: Logger;
  readonly #listener: SideListener;
  readonly #responder = new ExpositionResponder();

  constructor(options: PrometheusServerOptions, store: SnapshotSource, logger: Logger) {
    this.options = options;
    this.#listener = new SideListener(`prometheus exporter "${options.name}"`, logger);
    this.#store = store;
    this.#logger = logger;
  }

  async start(): Promise<AddressInfo> {
    const { port, listenIp, name } = this.options;
    const address = await this.#listener.open(listenIp, port, (req, res, target) => this.#handle(req, res, target));
    this.#logger.info(
      { exporter: name, address: address.address, port: address.port },
      'prometheus exporter listening',
    );
    return address;
  }

  get address(): AddressInfo | undefined {
    return this.#listener.address;
  }

  /** A read that fails (throws or rejects) answers 500 through the SideListener; the next scrape reads again. */
  async #handle(req: IncomingMessage, res: ServerResponse, { path }: SideTarget): Promise<void> {
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res
        .writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
        .end('405 method not allowed\n');
      return;
    }
    const format = negotiateFormat(req.headers.accept);
    // One snapshot per scrape; with cluster workers, collecting it asks each of them (bounded wait).
    const snapshot = await this.#store.collect(this.options.groups);
    if (format === 'openmetrics')
      this.#responder.send(req, res, OPENMETRICS_CONTENT_TYPE, (hint) => encodeOpenMetrics(snapshot, hint));
    else this.#responder.send(req, res, PROMETHEUS_TEXT_CONTENT_TYPE, (hint) => encodePrometheusText(snapshot, hint));
  }

  close(): Promise<void> {
    return this.#listener.close();
  }
}
