// The scraper of bench/scrape-stall.ts, run as its own process (lib/stall-scraper.ts starts it) so
// that receiving a few hundred KB 20 times a second never runs on the event loop that times the
// probe. `--targets name=url,name=url --hz 20`: on "start" it GETs every target `hz` times a second
// (as Prometheus asks), on "stop" it replies with every scrape's latency and [start, end] interval.

import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Client } from 'undici';
import { sleep } from './driver.js';
import { announce, exitWithParent } from './ipc.js';
import type { ScrapeTargetResult, ScraperReply } from './stall-scraper.js';

/** What Prometheus 2.x/3.x sends (scrape_protocols default minus protobuf), so the exporter renders what it would render for Prometheus. */
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';

function runScraper(): void {
  exitWithParent();
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { targets: { type: 'string' }, hz: { type: 'string' } },
  });
  const periodMs = 1000 / Number(values.hz ?? '20');
  const targets = (values.targets ?? '').split(',').map((spec) => {
    const [name = spec, url = spec] = spec.split('=');
    const u = new URL(url);
    return { name, path: u.pathname, client: new Client(u.origin, { keepAliveTimeout: 60_000, pipelining: 1 }) };
  });
  let running = false;
  let loops: Promise<ScrapeTargetResult>[] = [];

  const loop = async (target: (typeof targets)[number]): Promise<ScrapeTargetResult> => {
    const latenciesMs: number[] = [];
    const intervals: [number, number][] = [];
    let errors = 0;
    let lastError: string | undefined;
    let lastBodyBytes = 0;
    const t0 = performance.now();
    for (let k = 0; running; k++) {
      const wait = t0 + k * periodMs - performance.now();
      if (wait > 0) await sleep(wait);
      if (!running) break;
      const start = performance.now();
      try {
        const res = await target.client.request({
          path: target.path,
          method: 'GET',
          headers: { accept: PROMETHEUS_ACCEPT },
          headersTimeout: 5000,
          bodyTimeout: 5000,
        });
        const body = Buffer.from(await res.body.arrayBuffer());
        if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
        lastBodyBytes = body.length;
      } catch (error) {
        errors++;
        lastError = error instanceof Error ? error.message : String(error);
      }
      const end = performance.now();
      latenciesMs.push(end - start);
      intervals.push([performance.timeOrigin + start, performance.timeOrigin + end]);
    }
    return { name: target.name, latenciesMs, intervals, errors, lastError, lastBodyBytes };
  };

  process.on('message', (message: { type?: string }) => {
    if (message.type === 'start' && !running) {
      running = true;
      loops = targets.map(loop);
    } else if (message.type === 'stop') {
      running = false;
      Promise.all(loops)
        .then((results) => process.send?.({ type: 'scrapes', targets: results } satisfies ScraperReply))
        .catch(() => undefined);
    }
  });
  // "Ready": the ipc.ts protocol wants a port; the scraper has none.
  announce({ type: 'listening', port: 0 });
}

runScraper();
