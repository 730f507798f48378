/**
 * What users install runs: the npm package (`npm pack`, its own `prepare` build) installed into an
 * empty folder starts a gateway with every namespace Tollgate implements on, and each of its
 * listeners and pushes answers. The Docker image's final stage is checked to ship the same files.
 * Regression test for the dashboard, whose page was read from src/ (absent from both), so any
 * config with `telemetry/dashboard` exited at start-up with ENOENT.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { NAMESPACE_SCHEMAS } from '../../src/config/namespaces.js';
import { freePort } from '../helpers/cli.js';
import { makeKey, sign } from '../helpers/jwt.js';
import { startOtlpReceiver } from '../helpers/otlp-receiver.js';
import { closeServer, sendJson, startUpstream } from '../helpers/upstream.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  files: string[];
  scripts: Record<string, string>;
};
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * A copy of what `npm pack` reads (sources, build settings, scripts), packed there: the package's own
 * `prepare` builds it, without rebuilding the dist/ of the working tree under other running tests.
 */
async function pack(): Promise<{ tarball: string; files: string[] }> {
  const stage = mkdtempSync(join(tmpdir(), 'tollgate-pack-'));
  for (const name of [
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'README.md',
    'bin',
    'src',
    'scripts',
  ]) {
    cpSync(join(ROOT, name), join(stage, name), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(stage, 'node_modules'), 'dir');
  const out = mkdtempSync(join(tmpdir(), 'tollgate-tgz-'));
  const { stdout } = await run(npm, ['pack', '--json', '--pack-destination', out], {
    cwd: stage,
    maxBuffer: 16 * 1024 * 1024,
  });
  rmSync(stage, { recursive: true, force: true });
  // The JSON follows whatever the build printed.
  const json = JSON.parse(stdout.slice(stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  const entry = json[0];
  assert.ok(entry !== undefined, stdout);
  return { tarball: join(out, entry.filename), files: entry.files.map((f) => f.path) };
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const r = await fetch(url, { headers });
  return { status: r.status, text: await r.text() };
}

async function waitFor(probe: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      if (await probe()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > until) throw new Error(`${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The Dockerfile's stages: the instructions under each FROM (continuation lines joined). */
function dockerStages(text: string): string[][] {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const stages: string[][] = [];
  for (const l of lines) {
    if (/^FROM\s/i.test(l)) stages.push([]);
    stages.at(-1)?.push(l);
  }
  return stages;
}

/** The sources a COPY instruction copies, for each COPY of a stage (`--from` ones flagged). */
function copies(stage: readonly string[]): { from: boolean; sources: string[] }[] {
  return stage
    .filter((l) => /^COPY\s/i.test(l))
    .map((l) => {
      const words = l.split(/\s+/).slice(1);
      const from = words.some((w) => w.startsWith('--from'));
      const args = words.filter((w) => !w.startsWith('--'));
      return {
        from,
        sources: args.slice(0, -1).map((s) =>
          s
            .replace(/^\/app\//, '')
            .replace(/^\.\//, '')
            .replace(/\/$/, ''),
        ),
      };
    });
}

describe('the package', () => {
  it('the Docker image ships what the package ships, and its build stage has what the build runs', () => {
    const stages = dockerStages(readFileSync(join(ROOT, 'examples/docker/Dockerfile'), 'utf8'));
    const final = stages.at(-1) ?? [];
    const shipped = new Set(copies(final).flatMap((c) => c.sources));
    for (const f of [...PKG.files, 'package.json', 'node_modules'])
      assert.ok(shipped.has(f), `the final stage copies ${f} (it has ${[...shipped].join(', ')})`);
    assert.ok(!shipped.has('src'), 'the image ships dist/, not src/ (what the package does)');
    // Every file `npm run build` runs must be in the stage that runs it.
    const build = stages.find((s) => s.some((l) => /^RUN\s.*npm run build/.test(l))) ?? [];
    const present = copies(build).flatMap((c) => c.sources);
    for (const script of PKG.scripts.build?.match(/scripts\/[\w.-]+/g) ?? []) {
      assert.ok(
        present.some((p) => script === p || script.startsWith(`${p}/`)),
        `the build stage copies ${script}`,
      );
    }
  });

  it('installed from its tarball, runs a gateway with every namespace on', { timeout: 120_000 }, async (t) => {
    const { tarball, files } = await pack();
    t.after(() => rmSync(join(tarball, '..'), { recursive: true, force: true }));
    for (const f of [
      'bin/tollgate.js',
      'dist/cli/main.js',
      'dist/telemetry/dashboard/assets/index.html',
      'dist/telemetry/dashboard/assets/app.js',
      'dist/telemetry/dashboard/assets/app.css',
    ]) {
      assert.ok(files.includes(f), `the package has ${f}`);
    }
    assert.ok(!files.some((f) => f.startsWith('src/')), 'the package has no src/');

    const app = mkdtempSync(join(tmpdir(), 'tollgate-install-'));
    t.after(() => rmSync(app, { recursive: true, force: true }));
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'tollgate-install-test', private: true }));
    await run(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], {
      cwd: app,
      maxBuffer: 16 * 1024 * 1024,
    });
    assert.ok(!readdirSync(join(app, 'node_modules', PKG.name)).includes('src'));

    let probes = 0;
    const up = await startUpstream(t, (req, res) => {
      if (req.url === '/health') probes++;
      sendJson(res, 200, { ok: true });
    });
    const otlp = await startOtlpReceiver(t);
    let influxWrites = 0;
    const influx = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        influxWrites++;
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => influx.listen(0, '127.0.0.1', r));
    t.after(() => closeServer(influx));
    const ports = {
      data: await freePort(),
      prom: await freePort(),
      stats: await freePort(),
      kong: await freePort(),
      dash: await freePort(),
    };
    const extra: Record<string, unknown> = {
      router: { health_path: '/__health' },
      'telemetry/opentelemetry': {
        service_name: 'package-test',
        metric_reporting_period: 1,
        trace_sample_rate: 1,
        exporters: {
          prometheus: [{ name: 'prom', port: ports.prom, listen_ip: '127.0.0.1' }],
          otlp: [{ name: 'otlp', host: '127.0.0.1', port: otlp.httpPort, use_http: true }],
        },
      },
      'telemetry/metrics': { listen_address: `127.0.0.1:${ports.stats}`, collection_time: '500ms' },
      'telemetry/influx': { address: `http://127.0.0.1:${(influx.address() as { port: number }).port}`, ttl: '500ms' },
      'telemetry/kong-prometheus': { listen_address: `127.0.0.1:${ports.kong}`, token: 'kong-token' },
      'telemetry/dashboard': { listen_address: `127.0.0.1:${ports.dash}`, token: 'dash-token' },
      'auth/api-keys': { keys: [{ key: 'key-1', consumer: 'acme' }] },
      'auth/validator': { shared_cache_duration: 60 },
      'security/cors': { allow_origins: ['https://pkg.test'] },
      'security/http': { content_type_nosniff: true },
      tollgate: {},
    };
    const schemaEndpoint = {
      endpoint: '/schema',
      method: 'POST',
      extra_config: { 'validation/json-schema': { type: 'object', required: ['a'] } },
      backend: [{ host: [up.url], url_pattern: '/a' }],
    };
    const jwtKey = await makeKey('ES256', 'pkg');
    writeFileSync(join(app, 'jwks.json'), JSON.stringify({ keys: [jwtKey.jwk] }));
    const jwtEndpoint = {
      endpoint: '/jwt',
      extra_config: {
        'auth/validator': { alg: 'ES256', jwk_local_path: join(app, 'jwks.json'), disable_jwk_security: true },
      },
      backend: [{ host: [up.url], url_pattern: '/a' }],
    };
    const backend = {
      host: [up.url],
      url_pattern: '/a',
      extra_config: {
        'backend/healthcheck': { active: { http_path: '/health', interval: 0.2 } },
        'backend/http': { return_error_code: true },
        'backend/http/client': { no_redirect: false },
      },
    };
    const config = {
      version: 3,
      port: ports.data,
      listen_ip: '127.0.0.1',
      workers: 2,
      extra_config: extra,
      endpoints: [
        { endpoint: '/a', extra_config: { 'auth/api-keys': {} }, backend: [backend] },
        jwtEndpoint,
        schemaEndpoint,
      ],
    };
    const used = new Set([
      ...Object.keys(extra),
      ...config.endpoints.flatMap((e) => Object.keys(e.extra_config)),
      ...Object.keys(backend.extra_config),
    ]);
    for (const ns of NAMESPACE_SCHEMAS) assert.ok(used.has(ns.name), `the config turns on ${ns.name}`);
    const cfg = join(app, 'krakend.json');
    writeFileSync(cfg, JSON.stringify(config));

    mkdirSync(join(app, 'run'), { recursive: true });
    const child = execFile(join(app, 'node_modules/.bin/tollgate'), ['run', '-c', cfg], {
      cwd: join(app, 'run'),
      maxBuffer: 64 * 1024 * 1024,
    });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    t.after(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const gw = `http://127.0.0.1:${ports.data}`;
    await waitFor(
      () => output.includes('cluster primary running') || child.exitCode !== null,
      'the gateway started',
      30_000,
    );
    assert.equal(child.exitCode, null, output);

    assert.equal((await get(`${gw}/a`, { authorization: 'Bearer key-1' })).status, 200, 'data listener');
    assert.equal((await get(`${gw}/a`)).status, 401, 'auth/api-keys');
    assert.equal((await get(`${gw}/jwt`)).status, 401, 'auth/validator');
    const jwt = await sign(jwtKey, { sub: 'pkg' });
    assert.equal((await get(`${gw}/jwt`, { authorization: `Bearer ${jwt}` })).status, 200, 'auth/validator');
    assert.equal((await get(`${gw}/__health`)).status, 200, 'router health');
    const preflight = await fetch(`${gw}/a`, {
      method: 'OPTIONS',
      headers: { origin: 'https://pkg.test', 'access-control-request-method': 'GET' },
    });
    assert.equal(preflight.status, 204, 'security/cors');
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://pkg.test', 'security/cors');
    assert.equal(preflight.headers.get('x-content-type-options'), null, 'CORS answers before security/http');
    const health = await fetch(`${gw}/__health`);
    assert.equal(health.headers.get('x-content-type-options'), 'nosniff', 'security/http');
    const post = (body: string): Promise<Response> => fetch(`${gw}/schema`, { method: 'POST', body });
    assert.equal((await post('{"b": 1}')).status, 400, 'validation/json-schema');
    assert.equal((await post('{"a": 1}')).status, 200, 'validation/json-schema');
    const prom = await get(`http://127.0.0.1:${ports.prom}/metrics`);
    assert.equal(prom.status, 200, 'prometheus exporter');
    assert.match(prom.text, /target_info/);
    const kong = await get(`http://127.0.0.1:${ports.kong}/metrics`, { authorization: 'Bearer kong-token' });
    assert.equal(kong.status, 200, 'kong status listener');
    assert.match(kong.text, /kong_/);
    const stats = await get(`http://127.0.0.1:${ports.stats}/__stats`);
    assert.equal(stats.status, 200, '/__stats');
    assert.doesNotThrow(() => JSON.parse(stats.text) as unknown);
    const dash = `http://127.0.0.1:${ports.dash}`;
    for (const path of [
      '/',
      '/assets/app.js',
      '/assets/app.css',
      '/assets/uplot.js',
      '/assets/uplot.css',
      '/api/state',
    ]) {
      const r = await get(`${dash}${path}`, { authorization: 'Bearer dash-token' });
      assert.equal(r.status, 200, `dashboard ${path}`);
      assert.ok(r.text.length > 0, `dashboard ${path} has a body`);
    }
    await waitFor(() => otlp.count('metrics') > 0 && otlp.count('traces') > 0, 'OTLP metrics and traces arrived');
    await waitFor(() => influxWrites > 0, 'an Influx write arrived');
    await waitFor(() => probes > 0, 'the active health check probed');

    child.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    assert.doesNotMatch(output, /"level":"(error|fatal)"/, 'no error logged');
  });
});
