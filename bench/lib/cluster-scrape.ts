// /metrics scrapes for bench/cluster.ts: one timed scrape, one a second during a load run, and a
// batch back to back with the CPU time the primary and its workers spent on it.

import { performance } from 'node:perf_hooks';
import { isShuttingDown } from './cleanup.js';
import { sleep } from './driver.js';
import { ticksToMs } from './foreign-load.js';
import { cpuTicks, getText, nodeChildren, sampleLineCount } from './otlp-bench-util.js';
import { maxOf, quantile } from './stats.js';

/** A scrape batch stops after this long even if it has not done --scrapes scrapes (a wedged primary). */
export const SCRAPE_BATCH_MAX_MS = 30_000;
const SCRAPE_TIMEOUT_MS = 5_000;

const ticksOf = (pids: readonly number[]): number => pids.reduce((sum, p) => sum + (cpuTicks(p) ?? 0), 0);

/** /metrics fetched once: latency (fresh loopback connection included), body size and sample count. */
export async function scrapeOnce(url: string): Promise<{ ms: number; bytes: number; samples: number; text: string }> {
  const t0 = performance.now();
  const { status, text } = await getText(url, SCRAPE_TIMEOUT_MS);
  const ms = performance.now() - t0;
  if (status !== 200) throw new Error(`GET ${url}: HTTP ${status}`);
  const samples = sampleLineCount(text);
  return { ms, bytes: Buffer.byteLength(text), samples, text };
}

/** One scrape per second until `done()`; failures are counted, never thrown. */
export async function scrapeEverySecond(
  url: string,
  done: () => boolean,
): Promise<{ latenciesMs: number[]; failures: number }> {
  const latenciesMs: number[] = [];
  let failures = 0;
  let next = performance.now() + 1000;
  while (!done()) {
    if (performance.now() < next) {
      await sleep(50);
      continue;
    }
    next += 1000;
    try {
      latenciesMs.push((await scrapeOnce(url)).ms);
    } catch {
      failures++;
    }
  }
  return { latenciesMs, failures };
}

export interface ScrapeBatch {
  readonly scrapes: number;
  readonly failures: number;
  readonly latenciesMs: readonly number[];
  readonly medianMs: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly wallMs: number;
  readonly primaryCpuMsPerScrape: number;
  readonly workersCpuMsPerScrape: number;
  readonly bodyBytes: number;
  readonly samples: number;
}

/** `count` scrapes back to back (bounded in time), with the primary's and workers' CPU time around them. */
export async function scrapeBatch(primaryPid: number, url: string, count: number): Promise<ScrapeBatch> {
  const workers = nodeChildren(primaryPid);
  const primary0 = cpuTicks(primaryPid) ?? 0;
  const workers0 = ticksOf(workers);
  const t0 = performance.now();
  const latenciesMs: number[] = [];
  let failures = 0;
  let last = { bytes: 0, samples: 0 };
  for (let i = 0; i < count && performance.now() - t0 < SCRAPE_BATCH_MAX_MS && !isShuttingDown(); i++) {
    try {
      const s = await scrapeOnce(url);
      latenciesMs.push(s.ms);
      last = s;
    } catch {
      failures++;
    }
  }
  const wallMs = performance.now() - t0;
  const primaryTicks = (cpuTicks(primaryPid) ?? 0) - primary0;
  const workerTicks = ticksOf(workers) - workers0;
  const n = Math.max(1, latenciesMs.length);
  return {
    scrapes: latenciesMs.length,
    failures,
    latenciesMs,
    medianMs: quantile(latenciesMs, 0.5),
    p99Ms: quantile(latenciesMs, 0.99),
    maxMs: maxOf(latenciesMs),
    wallMs,
    primaryCpuMsPerScrape: ticksToMs(primaryTicks) / n,
    workersCpuMsPerScrape: ticksToMs(workerTicks) / n,
    bodyBytes: last.bytes,
    samples: last.samples,
  };
}
