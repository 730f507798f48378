/**
 * The config loader under random input: KrakenD's example files mutated with a seeded PRNG (types
 * swapped, keys dropped and added, strings corrupted, subtrees copied elsewhere, the JSON text cut and
 * spliced), and malformed values put exactly where they become URLs, headers, files, ports and
 * timers. The loader may only succeed or throw a ConfigError whose every issue has a path; what it
 * accepts must build a gateway (and, for the targeted cases, start one) without a crash.
 * Replay a failure with TOLLGATE_FUZZ_SEED=<seed>.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { ConfigError, loadConfigText, loadConfigValue } from '../../src/config/load.js';
import { MAX_TIMER_MS } from '../../src/config/duration.js';
import type { GatewayConfig } from '../../src/config/types.js';
import { TollgateError } from '../../src/errors/catalogue.js';
import { Gateway } from '../../src/server/gateway.js';
import { memoryLogger } from '../helpers/gateway.js';
import { title } from './cases.js';
import { prng } from './support.js';

const SEED = Number(process.env.TOLLGATE_FUZZ_SEED ?? 0x7011);
const DIR = join(import.meta.dirname, '../fixtures/krakend-examples');
const SEEDS = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => readFileSync(join(DIR, f), 'utf8'));

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const STRINGS = [
  '',
  ' ',
  '/',
  '/{id}',
  '/*',
  '0',
  '-1',
  '1e309',
  'http://',
  'http://[::1',
  'ws://x',
  '::',
  ':99999',
  ':0',
  '127.0.0.1:0',
  '1ms',
  '0s',
  '999999h',
  'a'.repeat(300),
  '\u0000',
  '\ud800',
  '"\\\n',
  '..',
  '%',
  'GET',
  'no-op',
  '__proto__',
  'constructor',
  '10.0.0.0/33',
  '1.27',
  'auto',
  'le',
  'bad header',
];
const NUMBERS = [0, -1, 1, 0.5, 3, 255, 256, 1000, 65535, 65536, 70000, 2 ** 31, 2 ** 53, 1e21, -1e308];
const KEYS = [
  'host',
  'url_pattern',
  'endpoint',
  'backend',
  'extra_config',
  'method',
  'timeout',
  'output_encoding',
  'encoding',
  'group',
  'target',
  'mapping',
  'allow',
  'deny',
  'is_collection',
  'input_headers',
  'port',
  'listen_address',
  'listen_ip',
  'exporters',
  'layers',
  'token',
  'keys',
  'headers',
  'ca_cert',
  'interval',
  '__proto__',
  'workers',
  'tls',
];
const CORRUPTIONS = ['[', ' ', '\n', '\u0000', '%', '{', '}', ':', '/', '\ud800', '"', '\\', '..', '99999'];

class Mutator {
  constructor(readonly rnd: () => number) {}

  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.rnd() * list.length)] as T;
  }

  value(depth = 0): Json {
    const r = this.rnd();
    if (r < 0.1) return null;
    if (r < 0.2) return r < 0.15;
    if (r < 0.4) return this.pick(NUMBERS);
    if (r < 0.65 || depth >= 2) return this.pick(STRINGS);
    if (r < 0.8) return Array.from({ length: Math.floor(this.rnd() * 3) }, () => this.value(depth + 1));
    return Object.fromEntries(
      Array.from({ length: Math.floor(this.rnd() * 3) }, () => [this.pick(KEYS), this.value(depth + 1)]),
    );
  }

  /** Paths of every node below the root. */
  paths(v: Json, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
    if (at.length > 0) out.push(at);
    if (Array.isArray(v)) v.forEach((x, i) => this.paths(x, [...at, i], out));
    else if (v !== null && typeof v === 'object')
      for (const k of Object.keys(v)) this.paths(v[k] as Json, [...at, k], out);
    return out;
  }

  mutate(root: Json): void {
    const all = this.paths(root);
    if (all.length === 0) return;
    const path = this.pick(all);
    let parent = root as Record<string | number, Json>;
    for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, Json>;
    const key = path[path.length - 1] as string | number;
    const cur = parent[key] as Json;
    const r = this.rnd();
    if (r < 0.3) parent[key] = this.value();
    else if (r < 0.45) {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
    } else if (r < 0.6) {
      if (cur !== null && typeof cur === 'object' && !Array.isArray(cur)) cur[this.pick(KEYS)] = this.value();
      else parent[key] = { [this.pick(KEYS)]: this.value() };
    } else if (r < 0.8 && typeof cur === 'string') {
      const at = Math.floor(this.rnd() * (cur.length + 1));
      parent[key] = cur.slice(0, at) + this.pick(CORRUPTIONS) + cur.slice(at);
    } else if (r < 0.9) {
      parent[key] =
        typeof cur === 'number'
          ? this.pick([...NUMBERS, String(cur)])
          : Array.isArray(cur) && cur.length > 0
            ? [...cur, structuredClone(cur[0] as Json)]
            : [cur];
    } else {
      let src = root as Record<string | number, Json>;
      for (const k of this.pick(all)) src = src[k] as Record<string | number, Json>;
      parent[key] = structuredClone(src as Json);
    }
  }

  /** The JSON text cut, spliced or with a byte replaced. */
  text(text: string): string {
    const at = Math.floor(this.rnd() * text.length);
    const r = this.rnd();
    if (r < 0.3) return text.slice(0, at);
    if (r < 0.7) return text.slice(0, at) + this.pick([...CORRUPTIONS, ',', ']', '//', '\ufeff']) + text.slice(at);
    return text.slice(0, at) + text.slice(at + 1 + Math.floor(this.rnd() * 20));
  }
}

/** Invariants of what the loader accepts: every listener port is a port, every timer fits Node's timers. */
function checkAccepted(c: GatewayConfig): void {
  const ports = [
    c.port,
    c.kong?.listenPort,
    c.stats?.listenPort,
    c.dashboard?.listenPort,
    ...(c.otel?.prometheus.map((p) => p.port) ?? []),
  ];
  for (const p of ports)
    if (p !== undefined) assert.ok(Number.isInteger(p) && p >= 0 && p <= 65535, `listener port ${p}`);
  const timers = [
    c.timeoutMs,
    c.stats?.collectionMs,
    c.influx?.ttlMs,
    ...c.endpoints.flatMap((e) => [
      e.timeoutMs,
      ...e.backends.flatMap((b) => [b.health?.intervalMs, b.health?.timeoutMs]),
    ]),
  ];
  for (const ms of timers) if (ms !== undefined) assert.ok(ms >= 0 && ms <= MAX_TIMER_MS, `timer of ${ms} ms`);
}

interface Tally {
  loaded: number;
  rejected: number;
  syntax: number;
}

/** Loads one candidate; returns the config when accepted. A crash fails with the seed and the input. */
function attempt(load: () => GatewayConfig, input: string, tally: Tally, iteration: number): GatewayConfig | undefined {
  try {
    const config = load();
    tally.loaded++;
    checkAccepted(config);
    new Gateway(config, { logger: memoryLogger().logger });
    return config;
  } catch (err) {
    if (err instanceof ConfigError) {
      assert.ok(err.issues.length > 0, 'a ConfigError lists its issues');
      for (const i of err.issues) {
        assert.ok(i.path !== '' && i.message !== '', `issue without path or message: ${JSON.stringify(i)}`);
        assert.ok(err.message.includes(i.path), 'the message names every path');
      }
      if (err.code === 'TG_ERR_CONFIG_SYNTAX') tally.syntax++;
      else tally.rejected++;
      return undefined;
    }
    assert.fail(
      `seed ${SEED}, iteration ${iteration}: ${(err as Error).stack ?? String(err)}\ninput: ${input.slice(0, 2000)}`,
    );
  }
}

function budget(t: TestContext, label: string, iterations: number, ms: number, run: (i: number) => void): number {
  const until = performance.now() + ms;
  let i = 0;
  for (; i < iterations && performance.now() < until; i++) run(i);
  t.diagnostic(`${label}: ${i} iterations`);
  return i;
}

describe('config fuzzing', () => {
  it(title('fuzz-config-mutations'), (t) => {
    const m = new Mutator(prng(SEED));
    const tally: Tally = { loaded: 0, rejected: 0, syntax: 0 };
    const values = budget(t, 'value mutations', 3000, 15_000, (i) => {
      const root = JSON.parse(m.pick(SEEDS)) as Json;
      const n = 1 + Math.floor(m.rnd() * 4);
      for (let k = 0; k < n; k++) m.mutate(root);
      const input = JSON.stringify(root) ?? 'undefined';
      // Half go through the text path (what `tollgate run` reads), half as values.
      attempt(
        () => (m.rnd() < 0.5 ? loadConfigText(input, 'fuzz.json') : loadConfigValue(root, 'fuzz.json')).config,
        input,
        tally,
        i,
      );
    });
    const texts = budget(t, 'text mutations', 1000, 5_000, (i) => {
      const input = m.text(m.pick(SEEDS));
      attempt(() => loadConfigText(input, m.rnd() < 0.2 ? 'fuzz.yaml' : 'fuzz.json').config, input, tally, values + i);
    });
    t.diagnostic(
      `seed ${SEED}: ${values + texts} configs, ${tally.loaded} accepted, ${tally.rejected} invalid, ${tally.syntax} syntax errors`,
    );
    assert.ok(values >= 1000 && texts >= 300, 'enough iterations ran within the time budget');
    assert.ok(tally.loaded > 100 && tally.rejected > 100 && tally.syntax > 100, 'the mutations reach every outcome');
  });

  it(title('fuzz-config-targeted'), async (t) => {
    const m = new Mutator(prng(SEED + 1));
    const tally: Tally = { loaded: 0, rejected: 0, syntax: 0 };
    const bad = [
      'http://[',
      'a b',
      'http://a:99999',
      'http://[::1',
      '\u0000',
      'x\ny',
      '',
      'host:port',
      'ws://x',
      '\ud800',
    ];
    const headerNames = ['bad header', 'X-Ok', 'x:y', 'é', 'a\nb', 'grpc-bin'];
    const headerValues = ['v', 'v\n', 'v\r\nx-injected: 1', '\u0000', 'ünicode'];
    const listen = [':70000', ':65535', '127.0.0.1:0', '[::1]:0', 'abc', ':', ':-1', '1.2.3.4:99999'];
    const durations = ['999999999h', '0s', '1ns', '0', '1.5h', '596h', '597h'];
    const started: Promise<void>[] = [];
    // Each field is malformed one time in six, so some configs are entirely valid and get started.
    const or = <T extends Json>(good: T, malformed: readonly Json[]): Json =>
      m.rnd() < 1 / 6 ? m.pick(malformed) : good;
    const iterations = budget(t, 'targeted', 600, 10_000, (i) => {
      const backend: Record<string, Json> = { url_pattern: '/x', host: [or('http://127.0.0.1:1', bad)] };
      if (m.rnd() < 0.4)
        backend.extra_config = {
          'backend/healthcheck': { active: { http_path: '/h', interval: or(0.5, NUMBERS), timeout: or(1, NUMBERS) } },
        };
      const otlp = {
        name: 'o',
        host: or('127.0.0.1', bad),
        use_http: m.rnd() < 0.5,
        headers: { [String(or('x-token', headerNames))]: or('v', headerValues) },
        ...(m.rnd() < 0.2 ? { ca_cert: m.pick(['/nonexistent', '/etc/hostname']) } : {}),
      };
      const root: Record<string, Json> = {
        version: 3,
        timeout: or('2s', durations),
        extra_config: {
          'telemetry/opentelemetry': {
            metric_reporting_period: or(30, NUMBERS),
            exporters: { prometheus: [{ name: 'p', port: or(0, [65536, -1]) }], otlp: [otlp] },
            layers: {
              global: {
                metrics_static_attributes: [
                  { key: or('env', ['le', '__name__', '___', 'a.b', '']), value: m.pick(STRINGS) },
                ],
              },
            },
          },
          'telemetry/metrics': { listen_address: or('127.0.0.1:0', listen), collection_time: or('1m', durations) },
          'telemetry/kong-prometheus': {
            listen_address: or('127.0.0.1:0', listen),
            allow: [or('10.0.0.0/8', ['::1', '10.0.0.0/33', '1.2.3.4/0'])],
          },
          'telemetry/dashboard': { listen_address: or('127.0.0.1:0', listen), token: m.pick(STRINGS) },
        },
        endpoints: [{ endpoint: '/a', timeout: or('1s', durations), backend: [backend] }],
      };
      const input = JSON.stringify(root);
      const config = attempt(() => loadConfigValue(root, 'targeted.json').config, input, tally, i);
      // Start a few of the accepted ones on free loopback ports: start() may only fail with TG_ERR_LISTEN.
      if (config !== undefined && started.length < 20) started.push(startOnce(config, input));
    });
    await Promise.all(started);
    t.diagnostic(
      `targeted: ${iterations} configs, ${tally.loaded} accepted (${started.length} started), ${tally.rejected} invalid`,
    );
    assert.ok(tally.loaded > 10 && tally.rejected > 100, 'both outcomes reached');
  });
});

async function startOnce(config: GatewayConfig, input: string): Promise<void> {
  const local = (h: string): string => (h === '' ? '127.0.0.1' : h);
  const c = {
    ...config,
    port: 0,
    listenIp: '127.0.0.1',
    kong: config.kong && { ...config.kong, listenPort: 0, listenHost: local(config.kong.listenHost) },
    stats: config.stats && { ...config.stats, listenPort: 0, listenHost: local(config.stats.listenHost) },
    dashboard: config.dashboard && {
      ...config.dashboard,
      listenPort: 0,
      listenHost: local(config.dashboard.listenHost),
    },
    otel: config.otel && {
      ...config.otel,
      prometheus: config.otel.prometheus.map((p) => ({ ...p, port: 0, listenIp: '127.0.0.1' })),
    },
  } as GatewayConfig;
  const gw = new Gateway(c, { logger: memoryLogger().logger });
  try {
    await gw.start();
  } catch (err) {
    assert.ok(
      err instanceof TollgateError && err.code === 'TG_ERR_LISTEN',
      `start() threw ${(err as Error).stack ?? String(err)}\ninput: ${input}`,
    );
  } finally {
    await gw.close(200);
  }
}
