/**
 * Connections that hold the data listener: a client that connects and says nothing, one that drips its
 * headers a byte at a time, an idle keep-alive connection — each is closed after its configured
 * timeout. Out of file descriptors, the listener refuses what it cannot hold and serves again once
 * they are free (no SIGHUP). Keep-alive clients sending without pause through reloads and stops see
 * no reset.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { Pool } from 'undici';
import { freePort, writeConfig } from '../helpers/cli.js';
import { startGateway } from '../helpers/gateway.js';
import { sendJson, startUpstream } from '../helpers/upstream.js';
import { title } from './cases.js';
import { eventually, rawRequest } from './support.js';

const ROOT = join(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'src/cli/main.ts');
const GET = 'GET /__health HTTP/1.1\r\nHost: gw\r\n\r\n';

interface Watched {
  readonly socket: Socket;
  received(): string;
  /** ms from the connect to the server's close. */
  readonly closed: Promise<number>;
}

async function watch(port: number): Promise<Watched> {
  const started = performance.now();
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<number>((r) => socket.once('close', () => r(performance.now() - started)));
  await new Promise<void>((r, j) => socket.once('connect', r).once('error', j));
  return { socket, received: () => text, closed };
}

/** Resolves with the value, or with 'open' if `ms` passes first. */
function within<T>(p: Promise<T>, ms: number): Promise<T | 'open'> {
  return Promise.race([p, new Promise<'open'>((r) => setTimeout(() => r('open'), ms).unref())]);
}

/** `tollgate run` (from the sources) under an open-file limit, until the test ends. */
function runUnderLimit(t: TestContext, file: string, nofile: number): { output: () => string } {
  const child = spawn(
    'sh',
    [
      '-c',
      `ulimit -n ${nofile} && exec "$0" --import tsx "$1" run -c "$2" --log-level info`,
      process.execPath,
      MAIN,
      file,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return { output: () => out };
}

async function healthy(port: number, ms: number): Promise<boolean> {
  return eventually(
    async () =>
      /^HTTP\/1\.1 200 /.test(
        (await rawRequest(port, GET.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'), 500)).text,
      ),
    ms,
  );
}

describe('connections', () => {
  it(title('conn-silent'), async (t) => {
    const gw = await startGateway(t, { read_header_timeout: '300ms', endpoints: [] });
    const c = await watch(gw.port);
    const ms = await within(c.closed, 3_000);
    assert.notEqual(ms, 'open', 'a connection that sends nothing is closed');
    assert.ok((ms as number) >= 250 && (ms as number) < 1_500, `closed after ${String(ms)} ms`);
    assert.match(c.received(), /^HTTP\/1\.1 408 /);
    t.diagnostic(`silent connection closed after ${(ms as number).toFixed(0)} ms`);
  });

  it(title('conn-drip-headers'), async (t) => {
    const gw = await startGateway(t, { read_header_timeout: '300ms', endpoints: [] });
    const c = await watch(gw.port);
    const bytes = `GET /__health HTTP/1.1\r\nHost: gw\r\nX-Slow: ${'a'.repeat(200)}`;
    let i = 0;
    const drip = setInterval(() => {
      if (!c.socket.destroyed) c.socket.write(bytes.charAt(i++ % bytes.length));
    }, 20);
    t.after(() => clearInterval(drip));
    const ms = await within(c.closed, 3_000);
    clearInterval(drip);
    assert.notEqual(ms, 'open', 'a connection dripping its headers is closed');
    assert.ok((ms as number) >= 250 && (ms as number) < 1_500, `closed after ${String(ms)} ms`);
    assert.match(c.received(), /^HTTP\/1\.1 408 /);
  });

  it(title('conn-idle-keepalive'), async (t) => {
    const gw = await startGateway(t, { idle_timeout: '300ms', endpoints: [] });
    const c = await watch(gw.port);
    c.socket.write(GET);
    assert.ok(await eventually(() => /\r\n\r\n[^]*\}$/.test(c.received())), 'answered');
    const ms = await within(c.closed, 3_000);
    assert.notEqual(ms, 'open', 'an idle keep-alive connection is closed');
    assert.ok((ms as number) >= 250 && (ms as number) < 1_500, `closed after ${String(ms)} ms`);
  });

  it(title('conn-emfile-recovers'), { skip: process.platform !== 'linux' && 'needs /proc' }, async (t) => {
    const port = await freePort();
    const file = writeConfig({ version: 3, port, listen_ip: '127.0.0.1', workers: 1, endpoints: [] });
    const gw = runUnderLimit(t, file, 100);
    assert.ok(await healthy(port, 20_000), `tollgate did not come up:\n${gw.output().slice(-2000)}`);
    // More connections than descriptors, held for a while, then closed by the client.
    const held: Socket[] = [];
    for (let i = 0; i < 200; i++) held.push(connect(port, '127.0.0.1').on('error', () => undefined));
    await new Promise((r) => setTimeout(r, 2_000));
    for (const s of held) s.destroy();
    // Before the fix, every later connection waited in the primary for ever (CLOSE-WAIT).
    assert.ok(await healthy(port, 5_000), `the listener did not recover:\n${gw.output().slice(-2000)}`);
    assert.match(gw.output(), /accept failed: too many open files/);
  });

  it(title('drain-keepalive-continuous'), async (t) => {
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, { ok: true }));
    const outcomes = new Map<string, number>();
    for (let round = 0; round < 3; round++) {
      const gw = await startGateway(t, {
        endpoints: [{ endpoint: '/a', backend: [{ host: [up.url], url_pattern: '/x' }] }],
      });
      const pool = new Pool(gw.url, { connections: 16 });
      let stop = false;
      const lane = async (): Promise<void> => {
        while (!stop) {
          try {
            const r = await pool.request({ path: '/a', method: 'GET' });
            await r.body.dump();
            outcomes.set(String(r.statusCode), (outcomes.get(String(r.statusCode)) ?? 0) + 1);
          } catch (err) {
            const code = (err as { code?: string }).code ?? 'error';
            outcomes.set(code, (outcomes.get(code) ?? 0) + 1);
            // Refused once the listener is gone: this round is over. Any other failure also ends the
            // lane, so a client failing at once cannot spin and starve the event loop.
            return;
          }
        }
      };
      const lanes = Array.from({ length: 16 }, lane);
      await new Promise((r) => setTimeout(r, 300));
      await gw.gateway.close(5_000);
      stop = true;
      await Promise.all(lanes);
      await pool.destroy();
    }
    t.diagnostic(JSON.stringify(Object.fromEntries(outcomes)));
    const failed = [...outcomes].filter(([k]) => k !== '200' && k !== 'ECONNREFUSED');
    assert.deepEqual(failed, [], 'no request on an open connection failed');
  });

  it(title('drain-reload-keepalive'), async (t) => {
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, { ok: true }));
    const port = await freePort();
    const config = {
      version: 3,
      port,
      listen_ip: '127.0.0.1',
      workers: 1,
      endpoints: [{ endpoint: '/a', backend: [{ host: [up.url], url_pattern: '/x' }] }],
    };
    const file = writeConfig(config);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', MAIN, 'run', '-c', file, '--log-level', 'info', '--drain-timeout', '3000'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const reloads = (): number => out.split('configuration reloaded').length - 1;
    t.after(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    assert.ok(await healthy(port, 20_000), `tollgate did not come up:\n${out}`);
    // The worker serves before the primary has finished starting, and a SIGHUP before that is ignored.
    assert.ok(await eventually(() => out.includes('cluster primary running'), 20_000), out);
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 16 });
    t.after(() => pool.destroy());
    const outcomes = new Map<string, number>();
    let stop = false;
    const lane = async (): Promise<void> => {
      while (!stop) {
        try {
          const r = await pool.request({ path: '/a', method: 'GET' });
          await r.body.dump();
          outcomes.set(String(r.statusCode), (outcomes.get(String(r.statusCode)) ?? 0) + 1);
        } catch (err) {
          const code = (err as { code?: string }).code ?? 'error';
          outcomes.set(code, (outcomes.get(code) ?? 0) + 1);
        }
        // A millisecond between requests: each connection is idle, briefly, all the time (the moment a
        // drain may close it), and the one-worker cluster keeps some CPU for the new workers' start.
        await new Promise((r) => setTimeout(r, 1));
      }
    };
    const lanes = Array.from({ length: 16 }, lane);
    for (let i = 0; i < 3; i++) {
      // A change each time, so every reload starts a new generation of workers.
      writeFileSync(file, JSON.stringify({ ...config, name: `reload-${i}` }));
      child.kill('SIGHUP');
      // The new worker serves, the old one drains (its idle grace included) and exits.
      assert.ok(
        await eventually(() => reloads() === i + 1, 30_000),
        `reload ${i + 1} did not complete:\n${out.slice(-2000)}`,
      );
    }
    stop = true;
    await Promise.all(lanes);
    t.diagnostic(JSON.stringify(Object.fromEntries(outcomes)));
    assert.deepEqual([...outcomes.keys()], ['200'], `every request answered 200:\n${out.slice(-2000)}`);
    assert.ok((outcomes.get('200') ?? 0) > 100, 'requests were sent throughout');
  });
});
