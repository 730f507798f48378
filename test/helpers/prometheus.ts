/**
 * A real Prometheus server as an outside judge of our /metrics exposition.
 *
 * The test starts the Debian `prometheus` binary (2.42.0 on the reference machine) as a child process,
 * points it at one or more scrape targets, waits for real scrapes and then asks Prometheus itself, over
 * its HTTP API, what it ingested. If our exposition is malformed, Prometheus marks the target down and
 * `targets()[i].lastError` carries the parser's message — a verdict we did not write ourselves.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { TestContext } from 'node:test';

// ---------------------------------------------------------------------------------------------------------
// Locating binaries
// ---------------------------------------------------------------------------------------------------------

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds an executable: `$<NAME>_BIN` (e.g. PROMETHEUS_BIN, PROMTOOL_BIN) first so a developer can point
 * at a newer upstream build, then /usr/bin (the Debian package), then every PATH entry.
 */
export function findBinary(name: string): string | undefined {
  const override = process.env[`${name.toUpperCase()}_BIN`];
  if (override !== undefined && override !== '' && isExecutable(override)) return override;
  const candidates = [
    join('/usr/bin', name),
    ...(process.env['PATH'] ?? '')
      .split(delimiter)
      .filter((d) => d !== '')
      .map((d) => join(d, name)),
  ];
  return candidates.find(isExecutable);
}

/** Both binaries of the `prometheus` package, or undefined when either is missing. */
export function findPrometheus(): { prometheus: string; promtool: string } | undefined {
  const prometheus = findBinary('prometheus');
  const promtool = findBinary('promtool');
  return prometheus !== undefined && promtool !== undefined ? { prometheus, promtool } : undefined;
}

let cachedVersion: string | undefined;

/**
 * The server version, e.g. "2.42.0+ds" (Debian appends "+ds"). Tests use it to explain version-specific
 * behaviour (2.x stores `le` exactly as exposed; 3.x normalises it to float form). Throws if missing.
 */
export function prometheusVersion(): string {
  if (cachedVersion !== undefined) return cachedVersion;
  const bin = findBinary('prometheus');
  if (bin === undefined) throw new Error('prometheus binary not found (apt-get install prometheus)');
  // `--version` prints "prometheus, version 2.42.0+ds (branch: …)" to stdout.
  const out = execFileSync(bin, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const m = /version\s+(\S+)/.exec(out);
  if (m?.[1] === undefined) throw new Error(`cannot parse prometheus --version output: ${out}`);
  cachedVersion = m[1];
  return cachedVersion;
}

// ---------------------------------------------------------------------------------------------------------
// Types of the HTTP API answers we use
// ---------------------------------------------------------------------------------------------------------

export interface PromTargetSpec {
  /** Becomes `job_name` and therefore the `job` label; one scrape_config per target. */
  readonly job: string;
  /** host:port */
  readonly target: string;
  /** Static target labels (must not contain `job`: waitForScrapes relies on job == job_name). */
  readonly labels?: Record<string, string>;
  /** Default /metrics. */
  readonly metricsPath?: string;
  /** http (default) or https. */
  readonly scheme?: string;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly authorizationBearer?: string;
  /** For https targets with the test's own CA (see certs.ts). */
  readonly tls?: { readonly caFile?: string; readonly insecureSkipVerify?: boolean; readonly serverName?: string };
  /** Escape hatch: merged verbatim into this scrape_config (e.g. { honor_labels: true }). */
  readonly extraScrapeConfig?: Record<string, unknown>;
}

export interface StartPrometheusOptions {
  readonly targets: readonly PromTargetSpec[];
  /** Global scrape and evaluation interval; default 1000. scrape_timeout is set to the same value. */
  readonly scrapeIntervalMs?: number;
  /** Adds --enable-feature=exemplar-storage so /api/v1/query_exemplars answers. */
  readonly exemplars?: boolean;
  /** More --enable-feature values, e.g. 'native-histograms'. */
  readonly features?: readonly string[];
  /** Extra command-line flags, appended last. */
  readonly extraFlags?: readonly string[];
  /** How long to wait for /-/ready; default 20000. */
  readonly readyTimeoutMs?: number;
}

export interface PromSample {
  readonly metric: Readonly<Record<string, string>>;
  /** Evaluation timestamp in seconds. */
  readonly time: number;
  /** Parsed value; NaN, +Inf and -Inf are mapped to their JS counterparts. */
  readonly value: number;
  /** The value exactly as the API returned it (Prometheus renders floats as strings). */
  readonly rawValue: string;
}

export type PromVector = PromSample[];

export interface PromSeries {
  readonly metric: Readonly<Record<string, string>>;
  readonly values: readonly { readonly time: number; readonly value: number; readonly rawValue: string }[];
}

export type PromMatrix = PromSeries[];

/** One entry of `data.activeTargets` from /api/v1/targets (the fields Prometheus 2.x returns). */
export interface PromActiveTarget {
  readonly discoveredLabels: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly scrapePool: string;
  readonly scrapeUrl: string;
  readonly globalUrl: string;
  /** Empty string when the last scrape succeeded; otherwise the scrape or parse error. */
  readonly lastError: string;
  /** RFC 3339; "0001-01-01T00:00:00Z" before the first scrape. */
  readonly lastScrape: string;
  readonly lastScrapeDuration: number;
  readonly health: 'up' | 'down' | 'unknown';
  readonly scrapeInterval: string;
  readonly scrapeTimeout: string;
}

export interface PromExemplar {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: string;
  /** Seconds (float). */
  readonly timestamp: number;
}

export interface PromExemplarSeries {
  readonly seriesLabels: Readonly<Record<string, string>>;
  readonly exemplars: readonly PromExemplar[];
}

export interface WaitForScrapesOptions {
  /** Default true: fail unless the latest scrape was successful (`up == 1`). */
  readonly requireUp?: boolean;
}

export interface PromServer {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly version: string;
  /** Directory holding prometheus.yml and the TSDB (removed after the test). */
  readonly dir: string;
  /** The generated configuration (JSON is valid YAML, so this is exactly what Prometheus read). */
  readonly config: unknown;
  /** Instant query; a scalar result becomes a one-element vector with empty labels. */
  query(expr: string, time?: number): Promise<PromVector>;
  queryRange(expr: string, startSec: number, endSec: number, stepSec: number): Promise<PromMatrix>;
  /** Waits for n more committed scrapes of `job` than existed when called; returns the target afterwards. */
  waitForScrapes(job: string, n?: number, timeoutMs?: number, opts?: WaitForScrapesOptions): Promise<PromActiveTarget>;
  targets(): Promise<PromActiveTarget[]>;
  queryExemplars(expr: string, startSec: number, endSec: number): Promise<PromExemplarSeries[]>;
  /** What Prometheus wrote to stderr so far (its log), for failure messages. */
  log(): string;
}

// ---------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------

/** Prometheus renders sample values as Go floats in strings: "1", "0.5", "NaN", "+Inf", "-Inf". */
export function parsePromFloat(s: string): number {
  switch (s) {
    case 'NaN':
      return Number.NaN;
    case '+Inf':
    case 'Inf':
      return Number.POSITIVE_INFINITY;
    case '-Inf':
      return Number.NEGATIVE_INFINITY;
    default:
      return Number(s);
  }
}

function goDuration(ms: number): string {
  // Prometheus durations accept "500ms" and "2s"; always using ms keeps it exact.
  return `${Math.max(1, Math.round(ms))}ms`;
}

async function freePort(): Promise<number> {
  // Bind :0, read the port, close. Racy in theory; startPrometheus retries on "address already in use".
  const s = createServer();
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, '127.0.0.1', resolve);
  });
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface ApiEnvelope {
  status: 'success' | 'error';
  data?: unknown;
  errorType?: string;
  error?: string;
  warnings?: string[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function apiGet(base: string, path: string, params: Record<string, string> = {}): Promise<unknown> {
  const u = new URL(path, base);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  const res = await fetch(u, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let body: ApiEnvelope;
  try {
    body = JSON.parse(text) as ApiEnvelope;
  } catch {
    throw new Error(`prometheus ${u.pathname}: HTTP ${res.status}, not JSON: ${text.slice(0, 500)}`);
  }
  if (body.status !== 'success') {
    // 400 bad_data for PromQL syntax errors, 422 execution, 503 unavailable (e.g. exemplar storage off).
    throw new Error(
      `prometheus ${u.pathname} ${JSON.stringify(params)}: ${body.errorType ?? 'error'}: ${body.error ?? text}`,
    );
  }
  return body.data;
}

function toSample(metric: unknown, pair: unknown): PromSample {
  const [t, v] = Array.isArray(pair) ? (pair as [number, string]) : [Number.NaN, 'NaN'];
  return {
    metric: (isRecord(metric) ? metric : {}) as Record<string, string>,
    time: t,
    value: parsePromFloat(v),
    rawValue: v,
  };
}

function stripProxyEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  // Targets are loopback; a proxy inherited from the environment must never see our scrapes.
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (!/^(https?|no|all)_proxy$/i.test(k)) out[k] = v;
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// startPrometheus
// ---------------------------------------------------------------------------------------------------------

export function buildPrometheusConfig(opts: StartPrometheusOptions): Record<string, unknown> {
  const interval = goDuration(opts.scrapeIntervalMs ?? 1000);
  return {
    global: {
      scrape_interval: interval,
      // scrape_timeout must not exceed scrape_interval; the 10 s default would reject sub-second intervals.
      scrape_timeout: interval,
      evaluation_interval: interval,
    },
    scrape_configs: opts.targets.map((tg) => {
      if (tg.labels !== undefined && 'job' in tg.labels)
        throw new Error(`target ${tg.job}: do not override the job label`);
      const sc: Record<string, unknown> = {
        job_name: tg.job,
        metrics_path: tg.metricsPath ?? '/metrics',
        scheme: tg.scheme ?? 'http',
        static_configs: [{ targets: [tg.target], ...(tg.labels === undefined ? {} : { labels: tg.labels }) }],
      };
      if (tg.authorizationBearer !== undefined)
        sc['authorization'] = { type: 'Bearer', credentials: tg.authorizationBearer };
      if (tg.tls !== undefined) {
        sc['tls_config'] = {
          ...(tg.tls.caFile === undefined ? {} : { ca_file: tg.tls.caFile }),
          ...(tg.tls.insecureSkipVerify === undefined ? {} : { insecure_skip_verify: tg.tls.insecureSkipVerify }),
          ...(tg.tls.serverName === undefined ? {} : { server_name: tg.tls.serverName }),
        };
      }
      return { ...sc, ...tg.extraScrapeConfig };
    }),
  };
}

const LOG_LIMIT = 64 * 1024;

export async function startPrometheus(t: TestContext, opts: StartPrometheusOptions): Promise<PromServer> {
  const bins = findPrometheus();
  if (bins === undefined)
    throw new Error(
      'prometheus/promtool not found (apt-get install prometheus); tests should check judgesAvailable() and t.skip()',
    );
  const version = prometheusVersion();
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-prom-'));
  const config = buildPrometheusConfig(opts);
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, JSON.stringify(config, null, 2));

  let child: ChildProcess | undefined;
  let log = '';
  // Registered before spawning so a failed start still cleans up the directory.
  t.after(async () => {
    if (child !== undefined) await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  });

  const features = [...(opts.exemplars === true ? ['exemplar-storage'] : []), ...(opts.features ?? [])];
  let url: string;
  let reloadFlag = true;
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const args = [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // Without it Prometheus derives the external URL from os.Hostname(); pin it to what we listen on.
      `--web.external-url=${url}/`,
      // Console templates/libraries default to /etc/prometheus/*; an empty dir keeps the run self-contained.
      `--web.console.templates=${dir}`,
      `--web.console.libraries=${dir}`,
      // Nothing should outlive the test; a short retention also keeps head compaction out of the picture.
      '--storage.tsdb.retention.time=1h',
      // Samples older than 5 min never matter in a test; a short lookback makes stale series vanish sooner.
      '--query.lookback-delta=1m',
      // The first scrape comes ~5 s after start whatever we do: in 2.x the discovery manager forwards
      // even static targets on a hard-coded 5 s ticker. The scrape manager then applies them on a second
      // ticker, this hidden flag (default 5s); shortening it keeps the worst case near 5 s instead of 10 s.
      ...(reloadFlag ? ['--scrape.discovery-reload-interval=100ms'] : []),
      ...(features.length > 0 ? [`--enable-feature=${features.join(',')}`] : []),
      ...(opts.extraFlags ?? []),
    ];
    // No alertmanagers, remote_write or service discovery are configured, so the only network
    // traffic is the loopback scrape and our API calls.
    const c = spawn(bins.prometheus, args, {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: stripProxyEnv(process.env),
    });
    child = c;
    log = '';
    c.stderr?.setEncoding('utf8');
    c.stderr?.on('data', (d: string) => {
      log += d;
      if (log.length > LOG_LIMIT) log = log.slice(-LOG_LIMIT);
    });
    const ready = await waitReady(url, c, opts.readyTimeoutMs ?? 20_000, () => log);
    if (ready === 'ready') break;
    await stopChild(c);
    if (ready === 'port-in-use' && attempt < 3) continue;
    // Builds that lack the hidden flag refuse to start ("unknown long flag"); retry without it.
    if (reloadFlag && /unknown long flag '--scrape\.discovery-reload-interval'/.test(log)) {
      reloadFlag = false;
      continue;
    }
    throw new Error(
      `prometheus ${version} did not become ready (${ready}); args: ${args.join(' ')}\n--- stderr ---\n${log}`,
    );
  }

  const base = url;
  const server: PromServer = {
    url: base,
    version,
    dir,
    config,
    log: () => log,

    async query(expr, time) {
      const data = await apiGet(base, '/api/v1/query', {
        query: expr,
        ...(time === undefined ? {} : { time: String(time) }),
      });
      if (!isRecord(data)) throw new Error(`unexpected query answer: ${JSON.stringify(data)}`);
      const { resultType, result } = data;
      if (resultType === 'vector' && Array.isArray(result))
        return result.map((r: unknown) => (isRecord(r) ? toSample(r['metric'], r['value']) : toSample({}, undefined)));
      if (resultType === 'scalar' || resultType === 'string') return [toSample({}, result)];
      throw new Error(`query ${expr} returned a ${String(resultType)}; use queryRange for range vectors`);
    },

    async queryRange(expr, startSec, endSec, stepSec) {
      const data = await apiGet(base, '/api/v1/query_range', {
        query: expr,
        start: String(startSec),
        end: String(endSec),
        step: String(stepSec),
      });
      if (!isRecord(data) || !Array.isArray(data['result']))
        throw new Error(`unexpected query_range answer: ${JSON.stringify(data)}`);
      return data['result'].map((r: unknown): PromSeries => {
        const rec = isRecord(r) ? r : {};
        const values = Array.isArray(rec['values']) ? (rec['values'] as unknown[]) : [];
        return {
          metric: (isRecord(rec['metric']) ? rec['metric'] : {}) as Record<string, string>,
          values: values.map((p) => {
            const s = toSample({}, p);
            return { time: s.time, value: s.value, rawValue: s.rawValue };
          }),
        };
      });
    },

    async targets() {
      const data = await apiGet(base, '/api/v1/targets', { state: 'active' });
      if (!isRecord(data) || !Array.isArray(data['activeTargets']))
        throw new Error(`unexpected targets answer: ${JSON.stringify(data)}`);
      return data['activeTargets'] as PromActiveTarget[];
    },

    async queryExemplars(expr, startSec, endSec) {
      const data = await apiGet(base, '/api/v1/query_exemplars', {
        query: expr,
        start: String(startSec),
        end: String(endSec),
      });
      if (!Array.isArray(data)) throw new Error(`unexpected query_exemplars answer: ${JSON.stringify(data)}`);
      return data.map((s: unknown): PromExemplarSeries => {
        const rec = isRecord(s) ? s : {};
        const exemplars = Array.isArray(rec['exemplars']) ? (rec['exemplars'] as unknown[]) : [];
        return {
          seriesLabels: (isRecord(rec['seriesLabels']) ? rec['seriesLabels'] : {}) as Record<string, string>,
          exemplars: exemplars.map((e) => {
            const er = isRecord(e) ? e : {};
            return {
              labels: (isRecord(er['labels']) ? er['labels'] : {}) as Record<string, string>,
              value: String(er['value']),
              timestamp: Number(er['timestamp']),
            };
          }),
        };
      });
    },

    async waitForScrapes(job, n = 1, timeoutMs = 15_000, wopts = {}) {
      // Count committed `up` samples rather than watching targets' lastScrape: the target's lastScrape is
      // updated before the scrape's appender commits, so a query right after a lastScrape change could
      // still miss that scrape's samples. `up` is written in the same commit as the scraped samples.
      const sel = `up{job=${JSON.stringify(job)}}`;
      const count = async (): Promise<number> => (await server.query(`count_over_time(${sel}[1h])`))[0]?.value ?? 0;
      const requireUp = wopts.requireUp ?? true;
      const start = await count();
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const seen = (await count()) - start;
        if (seen >= n) {
          const up = (await server.query(sel))[0]?.value;
          const target = (await server.targets()).find((x) => x.scrapePool === job);
          if (target === undefined) throw new Error(`no active target for job ${job}`);
          if (!requireUp || up === 1) return target;
          throw new Error(`job ${job}: scrape failed (up=${String(up)}): ${target.lastError}`);
        }
        if (Date.now() > deadline) {
          const target = (await server.targets()).find((x) => x.scrapePool === job);
          throw new Error(
            `job ${job}: saw ${seen}/${n} scrapes within ${timeoutMs} ms; target: ${JSON.stringify(target)}\n--- prometheus stderr (tail) ---\n${log.slice(-4000)}`,
          );
        }
        await sleep(100);
      }
    },
  };
  return server;
}

type ReadyResult = 'ready' | 'timeout' | 'port-in-use' | `exited (${string})`;

async function waitReady(url: string, child: ChildProcess, timeoutMs: number, log: () => string): Promise<ReadyResult> {
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `code ${String(code)}, signal ${String(signal)}`));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited !== undefined) return /address already in use/.test(log()) ? 'port-in-use' : `exited (${exited})`;
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      // 503 "Service Unavailable" until the TSDB is open and the rule/scrape managers are running.
      if (res.status === 200) return 'ready';
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  return 'timeout';
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  // Prometheus shuts down gracefully (closes the TSDB) on SIGTERM; normally well under a second.
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
