/**
 * A real InfluxDB 1.x (Debian's influxd) for tests: its own temp data dir, loopback only, auth on,
 * an admin user and the `krakend` database created through its HTTP API. It can be stopped and
 * started again on the same port and data (to test a push target that goes away).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { request } from 'undici';
import { freePort } from './cli.js';

export const INFLUXD = ['/usr/bin/influxd', '/usr/sbin/influxd'].find((p) => existsSync(p));

export interface InfluxSeries {
  readonly name: string;
  readonly tags?: Record<string, string>;
  readonly columns: string[];
  readonly values: unknown[][];
}

export interface InfluxServer {
  readonly url: string;
  readonly user: string;
  readonly password: string;
  query(q: string, db?: string): Promise<InfluxSeries[]>;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startInflux(t: TestContext): Promise<InfluxServer> {
  if (INFLUXD === undefined) throw new Error('influxd is not installed (Debian package influxdb)');
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-influx-'));
  const [port, rpc] = [await freePort(), await freePort()];
  const conf = join(dir, 'influxdb.conf');
  writeFileSync(
    conf,
    [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${rpc}"`,
      '[meta]',
      `  dir = "${dir}/meta"`,
      '[data]',
      `  dir = "${dir}/data"`,
      `  wal-dir = "${dir}/wal"`,
      '  query-log-enabled = false',
      '[http]',
      '  enabled = true',
      `  bind-address = "127.0.0.1:${port}"`,
      '  auth-enabled = true',
      '  log-enabled = false',
      '[monitor]',
      '  store-enabled = false',
      '[continuous_queries]',
      '  enabled = false',
      '[subscriber]',
      '  enabled = false',
      '',
    ].join('\n'),
  );
  const url = `http://127.0.0.1:${port}`;
  const user = 'admin';
  const password = 'Sup3r-secret';
  let child: ChildProcess | undefined;
  let stderr = '';

  const start = async (): Promise<void> => {
    child = spawn(INFLUXD, ['-config', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const until = Date.now() + 20_000;
    for (;;) {
      try {
        const r = await request(`${url}/ping`);
        await r.body.dump();
        if (r.statusCode === 204) return;
      } catch {
        // not up yet
      }
      if (Date.now() > until || child.exitCode !== null) throw new Error(`influxd did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const stop = async (): Promise<void> => {
    const c = child;
    if (c === undefined || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (c.exitCode === null) c.kill('SIGKILL');
  };
  const raw = async (q: string, db: string | undefined, auth: boolean): Promise<unknown> => {
    const params = new URLSearchParams({ q, epoch: 's' });
    if (db !== undefined) params.set('db', db);
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (auth) headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    const r = await request(`${url}/query`, { method: 'POST', body: params.toString(), headers });
    const body = (await r.body.json()) as { error?: string; results?: { error?: string; series?: InfluxSeries[] }[] };
    if (r.statusCode >= 300 || body.error !== undefined)
      throw new Error(`influx ${q}: ${r.statusCode} ${body.error ?? ''}`);
    return body;
  };

  await start();
  t.after(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await raw(`CREATE USER "${user}" WITH PASSWORD '${password}' WITH ALL PRIVILEGES`, undefined, false);
  await raw('CREATE DATABASE "krakend"', undefined, true);
  return {
    url,
    user,
    password,
    async query(q: string, db = 'krakend'): Promise<InfluxSeries[]> {
      const body = (await raw(q, db, true)) as { results?: { error?: string; series?: InfluxSeries[] }[] };
      const first = body.results?.[0];
      if (first?.error !== undefined) throw new Error(`influx ${q}: ${first.error}`);
      return first?.series ?? [];
    },
    stop,
    start,
  };
}
