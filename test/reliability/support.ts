/**
 * Shared pieces of the reliability suite: backends that misbehave at the TCP level (node:net, so they
 * can send what no HTTP library would), a raw client, metric scrapes and leak probes.
 */
import { strict as assert } from 'node:assert';
import { connect, createServer, Socket, type Server } from 'node:net';
import type { TestContext } from 'node:test';
import { queryObjects } from 'node:v8';
import { request } from 'undici';
import { parseSamples, type Sample } from '../helpers/exposition.js';
import type { RunningGateway } from '../helpers/gateway.js';
import { BackendRecord, RequestRecord } from '../../src/telemetry/record.js';

export interface RawUpstream {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /** Connections accepted so far. */
  accepted: number;
  /** Requests seen (header blocks), over all connections. */
  requests: number;
  /** Connections still open. */
  readonly open: Set<Socket>;
  /** Open connections that have carried at least one request (the rest are idle spares). */
  readonly busy: Set<Socket>;
}

/**
 * A TCP server that calls `onRequest(socket, n)` for the n-th request (1-based) of each connection;
 * requests are told apart by their blank line, enough for the body-less requests sent here.
 */
export async function startRawUpstream(
  t: TestContext,
  onRequest: (socket: Socket, n: number) => void,
): Promise<RawUpstream> {
  const open = new Set<Socket>();
  const busy = new Set<Socket>();
  const up = { accepted: 0, requests: 0, open, busy } as RawUpstream;
  const server = createServer((socket) => {
    up.accepted++;
    open.add(socket);
    socket.on('close', () => {
      open.delete(socket);
      busy.delete(socket);
    });
    socket.on('error', () => undefined);
    let buffered = '';
    let n = 0;
    socket.on('data', (d: Buffer) => {
      buffered += d.toString('latin1');
      let end: number;
      while ((end = buffered.indexOf('\r\n\r\n')) !== -1) {
        buffered = buffered.slice(end + 4);
        up.requests++;
        busy.add(socket);
        onRequest(socket, ++n);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  t.after(() => {
    for (const s of open) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return Object.assign(up, { url: `http://127.0.0.1:${port}`, port, server });
}

/** A TCP server that accepts and then never says anything (a dead collector, a stuck InfluxDB). */
export async function startBlackHole(t: TestContext): Promise<RawUpstream> {
  return startRawUpstream(t, () => undefined);
}

export interface RawAnswer {
  /** Everything the server sent, as latin1. */
  readonly text: string;
  /** The server closed the connection (rather than the wait running out). */
  readonly closed: boolean;
  readonly ms: number;
}

/** Writes raw bytes and collects the answer until the server closes or `waitMs` passes. */
export function rawRequest(port: number, bytes: string, waitMs = 1_000): Promise<RawAnswer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(bytes, 'latin1'));
    let text = '';
    const done = (closed: boolean): void => {
      clearTimeout(timer);
      s.destroy();
      resolve({ text, closed, ms: performance.now() - started });
    };
    const timer = setTimeout(() => done(false), waitMs);
    s.on('data', (d: Buffer) => (text += d.toString('latin1')));
    s.on('close', () => done(true));
    s.on('error', () => undefined);
  });
}

/** The exposition of a gateway's first Prometheus exporter. */
export async function scrapeText(gw: RunningGateway): Promise<string> {
  const port = gw.gateway.telemetry.exporters[0]?.address?.port;
  assert.ok(port !== undefined, 'the prometheus exporter listens');
  // `reset`: no keep-alive socket outlives the scrape, so handle counts only see the gateway's own.
  const r = await request(`http://127.0.0.1:${port}/metrics`, { reset: true });
  assert.equal(r.statusCode, 200);
  return r.body.text();
}

export async function scrape(gw: RunningGateway): Promise<Sample[]> {
  return parseSamples(await scrapeText(gw));
}

/** Sum of the samples of `name` whose labels include `match` (0 when none). */
export function total(samples: readonly Sample[], name: string, match: Record<string, string>): number {
  return samples
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}

/** Polls `probe` until it returns true, for at most `ms`; returns whether it did. */
export async function eventually(probe: () => boolean | Promise<boolean>, ms = 2_000): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Request records (and with `backends`, backend records) still alive after a full garbage collection:
 * v8.queryObjects collects first. A finished request must leave none behind. Each call costs a full
 * GC (~250 ms here), so callers wait for the requests to finish first instead of polling this.
 */
export function liveRecords(backends = false): number {
  return (
    queryObjects(RequestRecord, { format: 'count' }) + (backends ? queryObjects(BackendRecord, { format: 'count' }) : 0)
  );
}

/** Heap used right after the full collection queryObjects runs. */
export function heapAfterGc(): number {
  queryObjects(RequestRecord, { format: 'count' });
  return process.memoryUsage().heapUsed;
}

/** Active handles by type (process.getActiveResourcesInfo), e.g. `Timeout`, `TCPSocketWrap`. */
export function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) counts.set(r, (counts.get(r) ?? 0) + 1);
  return counts;
}

/** Open sockets as `local->remote` port pairs, for a failure message that says which one leaked. */
export function openSockets(): string[] {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles
    .filter((h): h is Socket => h instanceof Socket)
    .map((s) => `${s.localPort ?? '?'}->${s.remotePort ?? '?'}${s.destroyed ? ' (destroyed)' : ''}`);
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** A seeded PRNG (mulberry32), so a fuzz failure can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
