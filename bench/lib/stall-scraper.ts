// Driver side of the scrape-stall scraper (lib/stall-scraper-child.ts): starts it, optionally pins
// it to a CPU, and starts and stops its scraping over IPC.

import { startNodeServer } from './node-child.js';
import { nodePidOf } from './otlp-bench-util.js';

export interface ScrapeTargetResult {
  readonly name: string;
  readonly latenciesMs: number[];
  /** [start, end] epoch ms of every scrape, to line slow probes up with scrapes. */
  readonly intervals: [number, number][];
  readonly errors: number;
  readonly lastError?: string | undefined;
  readonly lastBodyBytes: number;
}

export type ScraperReply = { readonly type: 'scrapes'; readonly targets: ScrapeTargetResult[] };

export interface Scraper {
  start(): void;
  stop(): Promise<ScrapeTargetResult[]>;
}

export async function startScraper(
  targets: readonly string[],
  hz: number,
  pin: ((pid: number) => void) | undefined,
): Promise<Scraper> {
  const started = await startNodeServer(
    'scraper',
    './stall-scraper-child.ts',
    ['--targets', targets.join(','), '--hz', String(hz)],
    15_000,
  );
  if (!started.ok) throw new Error(`scraper failed to start: ${started.reason}`);
  const { child } = started;
  const scraperPid = child.process.pid;
  if (pin !== undefined && scraperPid !== undefined) pin(nodePidOf(scraperPid) ?? scraperPid);
  return {
    start: () => child.process.send?.({ type: 'start' }),
    stop: () =>
      new Promise((resolvePromise, reject) => {
        const timer = setTimeout(() => finish(new Error('scraper: no results within 15 s')), 15_000);
        const onMessage = (message: unknown): void => {
          if (typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'scrapes')
            finish(undefined, (message as ScraperReply).targets);
        };
        function finish(error: Error | undefined, value?: ScrapeTargetResult[]): void {
          clearTimeout(timer);
          child.process.off('message', onMessage);
          if (error !== undefined || value === undefined) reject(error ?? new Error('scraper: no results'));
          else resolvePromise(value);
        }
        child.process.on('message', onMessage);
        child.process.send?.({ type: 'stop' });
      }),
  };
}
