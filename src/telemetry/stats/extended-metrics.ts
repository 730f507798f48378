/**
 * KrakenD's `telemetry/metrics` component: the registry, its view of requests, the runtime keys, the
 * collection tick (router window counters rolled into totals and gauges, a snapshot kept for the
 * Influx push, histograms cleared) and the `/__stats` listener.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GatewayConfig } from '../../config/types.js';
import { closeServer, listenOn } from '../../server/listen.js';
import type { Logger } from '../../log/logger.js';
import { renderExpvar } from './expvar.js';
import { RuntimeStats } from './runtime-stats.js';
import { StatsRegistry, type StatCounter, type StatGauge, type StatsSnapshot } from './stats-registry.js';
import type { StatsSettings } from './stats-settings.js';
import { StatsView } from './stats-view.js';

export class ExtendedMetrics {
  readonly registry = new StatsRegistry();
  readonly view: StatsView;
  readonly settings: StatsSettings;
  readonly #runtime: RuntimeStats;
  readonly #logger: Logger;
  readonly #totals: { total: StatCounter; gauge: StatGauge; window: StatCounter }[];
  #timer: NodeJS.Timeout | undefined;
  #server: Server | undefined;
  /** The snapshot of the last collection tick (what Influx pushes). */
  latest: StatsSnapshot | undefined;

  constructor(settings: StatsSettings, config: GatewayConfig, logger: Logger) {
    this.settings = settings;
    this.#logger = logger;
    this.view = new StatsView(this.registry, settings, config);
    this.#runtime = new RuntimeStats(this.registry);
    this.#totals = (['connected', 'disconnected'] as const).map((d) => ({
      window: d === 'connected' ? this.view.connected : this.view.disconnected,
      total: this.registry.counter(`krakend.router.${d}-total`),
      gauge: this.registry.gauge(`krakend.router.${d}-gauge`),
    }));
  }

  /** One collection window ends: spec §3.2. */
  tick(now = Date.now()): StatsSnapshot {
    for (const t of this.#totals) {
      t.gauge.value = t.window.value;
      t.total.value += t.window.value;
      t.window.value = 0;
    }
    this.#runtime.collect();
    this.latest = this.registry.snapshot(now);
    this.registry.clearHistograms();
    return this.latest;
  }

  /** The `/__stats` body: live values (histograms cover the current window). */
  render(): string {
    this.#runtime.collect();
    return renderExpvar(this.registry.snapshot(), { cmdline: process.argv, memstats: this.#runtime.memstats() });
  }

  async start(): Promise<AddressInfo | undefined> {
    this.#runtime.start();
    this.#timer = setInterval(() => this.tick(), this.settings.collectionMs);
    this.#timer.unref();
    if (this.settings.endpointDisabled) return undefined;
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== '/__stats' && path !== '/__stats/') {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      const body = this.render();
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
    server.headersTimeout = 3_000;
    server.requestTimeout = 10_000;
    this.#server = server;
    const address = await listenOn(server, this.settings.listenHost, this.settings.listenPort, 'telemetry/metrics');
    this.#logger.info({ address: address.address, port: address.port }, 'stats endpoint listening');
    return address;
  }

  get address(): AddressInfo | undefined {
    return (this.#server?.address() as AddressInfo | null) ?? undefined;
  }

  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#runtime.close();
    const server = this.#server;
    this.#server = undefined;
    await closeServer(server);
  }
}
