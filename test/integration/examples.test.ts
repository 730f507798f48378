/**
 * The deploy examples (examples/) as far as they can be checked without docker or a network: the
 * Prometheus config passes promtool, every JSON/YAML file parses, every Tollgate config passes
 * `tollgate check`, and the pieces agree with each other — the paths docker-compose mounts and the
 * Dockerfile copies exist, Prometheus scrapes the services and ports the compose config listens on,
 * Grafana loads the dashboards from where they are mounted, the collector receives on the port
 * Tollgate pushes to.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { skipUnlessJudge } from '../helpers/judges.js';
import { findBinary } from '../helpers/prometheus.js';

const ROOT = resolve(import.meta.dirname, '../..');
const EXAMPLES = join(ROOT, 'examples');
const COMPOSE_DIR = join(EXAMPLES, 'docker-compose');
const PROMETHEUS_YML = join(EXAMPLES, 'prometheus/prometheus.yml');

type Json = Record<string, unknown>;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function record(v: unknown, what: string): Json {
  assert.ok(isRecord(v), `${what} is not an object`);
  return v;
}

function list(v: unknown, what: string): unknown[] {
  assert.ok(Array.isArray(v), `${what} is not a list`);
  return v;
}

function readJson(file: string): Json {
  return record(JSON.parse(readFileSync(file, 'utf8')), file);
}

function readYaml(file: string): Json {
  return record(parseYaml(readFileSync(file, 'utf8')), file);
}

function compose(): Json {
  return readYaml(join(COMPOSE_DIR, 'docker-compose.yml'));
}

function service(name: string): Json {
  return record(record(compose()['services'], 'services')[name], `service ${name}`);
}

/** Short-syntax bind mounts `host:container[:mode]` of a service, host paths resolved against the compose file. */
function mounts(svc: Json): { host: string; container: string }[] {
  return list(svc['volumes'] ?? [], 'volumes').map((v) => {
    assert.equal(typeof v, 'string', 'volumes use the short syntax');
    const [host = '', container = ''] = String(v).split(':');
    return { host: resolve(COMPOSE_DIR, host), container };
  });
}

/** The host path a container path of a service comes from (through its longest mount prefix). */
function hostPathOf(svc: Json, containerPath: string): string | undefined {
  const m = mounts(svc)
    .filter((x) => containerPath === x.container || containerPath.startsWith(`${x.container}/`))
    .sort((a, b) => b.container.length - a.container.length)[0];
  return m === undefined ? undefined : join(m.host, posix.relative(m.container, containerPath));
}

/** host:port pairs Prometheus scrapes: static targets and the file-SD target files. */
function scrapeTargets(): string[] {
  const cfg = readYaml(PROMETHEUS_YML);
  const out: string[] = [];
  for (const sc of list(cfg['scrape_configs'], 'scrape_configs').map((s) => record(s, 'scrape_config'))) {
    for (const st of list(sc['static_configs'] ?? [], 'static_configs'))
      out.push(...(list(record(st, 'static_config')['targets'], 'targets') as string[]));
    for (const fsd of list(sc['file_sd_configs'] ?? [], 'file_sd_configs')) {
      for (const pattern of list(record(fsd, 'file_sd_config')['files'], 'files') as string[]) {
        // Only `dir/*.json` globs here; Prometheus resolves them against the config file's directory.
        const dir = join(EXAMPLES, 'prometheus', posix.dirname(pattern));
        const suffix = posix.basename(pattern).replace(/^\*/, '');
        const matched = readdirSync(dir).filter((n) => n.endsWith(suffix));
        assert.ok(matched.length > 0, `file_sd pattern ${pattern} matches no file`);
        for (const f of matched)
          for (const group of list(JSON.parse(readFileSync(join(dir, f), 'utf8')), f))
            out.push(...(list(record(group, f)['targets'], 'targets') as string[]));
      }
    }
  }
  return out;
}

/** The ports a Tollgate config listens on, with the address each listens on. */
function listeners(cfg: Json): { what: string; ip: string; port: number }[] {
  const extra = record(cfg['extra_config'] ?? {}, 'extra_config');
  const out = [{ what: 'data listener', ip: String(cfg['listen_ip'] ?? ''), port: Number(cfg['port'] ?? 8080) }];
  const otel = extra['telemetry/opentelemetry'];
  if (isRecord(otel) && isRecord(otel['exporters'])) {
    for (const e of list(otel['exporters']['prometheus'] ?? [], 'prometheus').map((x) => record(x, 'exporter')))
      out.push({
        what: `prometheus exporter ${String(e['name'])}`,
        ip: String(e['listen_ip'] ?? e['host'] ?? ''),
        port: Number(e['port'] ?? 9090),
      });
  }
  const kong = extra['telemetry/kong-prometheus'];
  if (isRecord(kong)) {
    const [ip = '', port = '8100'] = String(kong['listen_address'] ?? '127.0.0.1:8100').split(':');
    out.push({ what: 'kong status listener', ip, port: Number(port) });
  }
  return out;
}

interface DockerInstruction {
  readonly op: string;
  readonly args: string;
}

function dockerfile(): DockerInstruction[] {
  const text = readFileSync(join(EXAMPLES, 'docker/Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const sp = l.indexOf(' ');
      return { op: l.slice(0, sp).toUpperCase(), args: l.slice(sp + 1).trim() };
    });
}

function promtoolCheckConfig(bin: string, file: string): Promise<{ code: number | null; output: string }> {
  return new Promise((res) => {
    execFile(bin, ['check', 'config', file], { timeout: 15_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
      res({ code, output: stdout + stderr });
    });
  });
}

describe('examples/', () => {
  it('every JSON and YAML file parses', () => {
    const all = files(EXAMPLES);
    const parsed = all.filter((f) => /\.(json|ya?ml)$/.test(f));
    for (const f of parsed) {
      assert.doesNotThrow(
        () =>
          f.endsWith('.json')
            ? JSON.parse(readFileSync(f, 'utf8'))
            : parseYaml(readFileSync(f, 'utf8'), { strict: true, uniqueKeys: true }),
        relative(ROOT, f),
      );
    }
    assert.ok(parsed.length >= 8, `only ${parsed.length} JSON/YAML files under examples/`);
  });

  it('prometheus.yml passes promtool check config, with its file-SD targets found', async (t) => {
    if (skipUnlessJudge(t, 'promtool')) return;
    const bin = findBinary('promtool') ?? '';
    const r = await promtoolCheckConfig(bin, PROMETHEUS_YML);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /SUCCESS/);
    // promtool only warns (exit 0) when a file_sd pattern matches nothing.
    assert.doesNotMatch(r.output, /WARNING/, r.output);
  });

  it('every Tollgate config passes `tollgate check` without warnings', async () => {
    const configs = files(EXAMPLES).filter((f) => f.endsWith('krakend.json'));
    assert.deepEqual(configs.map((f) => relative(EXAMPLES, f)).sort(), [
      'docker-compose/krakend.json',
      'otel-collector/krakend.json',
    ]);
    for (const f of configs) {
      const r = await runCli(['check', '-c', f]);
      assert.equal(r.code, 0, `${relative(ROOT, f)}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /configuration OK/);
      assert.doesNotMatch(r.stderr, /warning/i, `${relative(ROOT, f)}: ${r.stderr}`);
    }
  });

  it('docker-compose.yml has its services, and everything it mounts or builds from exists', () => {
    const services = record(compose()['services'], 'services');
    for (const name of ['tollgate', 'upstream', 'prometheus', 'grafana'])
      assert.ok(name in services, `service ${name}`);
    for (const [name, svc] of Object.entries(services)) {
      for (const m of mounts(record(svc, name)))
        assert.ok(existsSync(m.host), `${name}: mounted ${relative(ROOT, m.host)} does not exist`);
    }
    const build = record(service('tollgate')['build'], 'tollgate.build');
    const context = resolve(COMPOSE_DIR, String(build['context']));
    assert.equal(context, ROOT, 'the image is built from the repository root');
    assert.ok(existsSync(join(context, String(build['dockerfile']))), 'dockerfile');
  });

  it('the Dockerfile copies files that exist and runs the mounted config as a non-root user', () => {
    const ins = dockerfile();
    const from = ins.filter((i) => i.op === 'FROM').map((i) => i.args.split(/\s+/)[0]);
    assert.ok(from.length > 0 && from.every((f) => f === 'node:20-slim'), `FROM ${from.join(', ')}`);
    const runs = ins.filter((i) => i.op === 'RUN').map((i) => i.args);
    assert.ok(
      runs.some((r) => /\bnpm ci\b/.test(r)) && runs.some((r) => /\bnpm run build\b/.test(r)),
      'npm ci and npm run build',
    );
    for (const copy of ins.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))) {
      const parts = copy.args.split(/\s+/);
      for (const src of parts.slice(0, -1))
        assert.ok(existsSync(join(ROOT, src)), `COPY ${src}: not in the build context`);
    }
    // Every script npm runs in the build must exist in package.json.
    const scripts = record(readJson(join(ROOT, 'package.json'))['scripts'], 'scripts');
    for (const r of runs)
      for (const m of r.matchAll(/npm run (\S+)/g))
        assert.ok(m[1] !== undefined && m[1] in scripts, `npm run ${m[1] ?? ''}`);
    const users = ins.filter((i) => i.op === 'USER').map((i) => i.args);
    assert.ok(users.length > 0 && !['root', '0'].includes(users.at(-1) ?? 'root'), `USER ${users.join(', ')}`);
    const cmd = ins.filter((i) => i.op === 'CMD').at(-1);
    assert.deepEqual(JSON.parse(cmd?.args ?? 'null'), [
      'node',
      'bin/tollgate.js',
      'run',
      '-c',
      '/etc/tollgate/krakend.json',
    ]);
    // The compose config is what lands at that path, and the image exposes every port it listens on.
    assert.equal(hostPathOf(service('tollgate'), '/etc/tollgate/krakend.json'), join(COMPOSE_DIR, 'krakend.json'));
    const exposed = new Set(
      ins.filter((i) => i.op === 'EXPOSE').flatMap((i) => i.args.split(/\s+/).map((p) => Number(p.split('/')[0]))),
    );
    for (const l of listeners(readJson(join(COMPOSE_DIR, 'krakend.json'))))
      assert.ok(exposed.has(l.port), `EXPOSE ${l.port} (${l.what})`);
  });

  it('the compose config listens on 0.0.0.0 and Prometheus scrapes exactly its exporters', () => {
    const ls = listeners(readJson(join(COMPOSE_DIR, 'krakend.json')));
    for (const l of ls) assert.equal(l.ip, '0.0.0.0', `${l.what} must be reachable from the other containers`);
    const exporterPorts = ls
      .filter((l) => l.what !== 'data listener')
      .map((l) => l.port)
      .sort();
    const targets = scrapeTargets();
    for (const tg of targets) assert.ok(tg.split(':')[0] === 'tollgate', `${tg}: not the tollgate service`);
    assert.deepEqual(
      targets.map((tg) => Number(tg.split(':')[1])).sort(),
      exporterPorts,
      `targets ${targets.join(', ')}`,
    );
    const prom = service('prometheus');
    const cmd = list(prom['command'], 'prometheus.command').map(String);
    const configPath =
      cmd.find((c) => c.startsWith('--config.file='))?.slice('--config.file='.length) ??
      '/etc/prometheus/prometheus.yml';
    assert.equal(hostPathOf(prom, configPath), PROMETHEUS_YML, 'Prometheus runs examples/prometheus/prometheus.yml');
  });

  it('Grafana provisioning points at the compose Prometheus and at the mounted dashboards', () => {
    const grafana = service('grafana');
    const provisioning = hostPathOf(grafana, '/etc/grafana/provisioning');
    assert.equal(provisioning, join(COMPOSE_DIR, 'grafana/provisioning'));
    const ds = list(
      readYaml(join(COMPOSE_DIR, 'grafana/provisioning/datasources/prometheus.yml'))['datasources'],
      'datasources',
    ).map((d) => record(d, 'datasource'));
    assert.deepEqual(
      ds.map((d) => [d['type'], d['url']]),
      [['prometheus', 'http://prometheus:9090']],
    );
    const providers = list(
      readYaml(join(COMPOSE_DIR, 'grafana/provisioning/dashboards/dashboards.yml'))['providers'],
      'providers',
    ).map((p) => record(p, 'provider'));
    assert.equal(providers.length, 1);
    const path = String(record(providers[0]?.['options'], 'options')['path']);
    assert.equal(
      hostPathOf(grafana, path),
      join(ROOT, 'dashboards'),
      'the provider reads the mounted dashboards/ folder',
    );
    for (const f of ['tollgate-krakend.json', 'tollgate-kong.json'])
      assert.ok(existsSync(join(ROOT, 'dashboards', f)), f);
    const home = String(
      record(grafana['environment'], 'grafana.environment')['GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH'],
    );
    const homeOnHost = hostPathOf(grafana, home);
    assert.ok(homeOnHost !== undefined && existsSync(homeOnHost), `home dashboard ${home}`);
  });

  it('the collector receives OTLP where Tollgate pushes it, and every pipeline component is defined', () => {
    const col = readYaml(join(EXAMPLES, 'otel-collector/otel-collector.yaml'));
    const pipelines = record(record(col['service'], 'service')['pipelines'], 'pipelines');
    assert.deepEqual(Object.keys(pipelines).sort(), ['metrics', 'traces']);
    for (const [name, p] of Object.entries(pipelines)) {
      for (const kind of ['receivers', 'processors', 'exporters']) {
        const defined = record(col[kind], kind);
        for (const c of list(record(p, name)[kind] ?? [], `${name}.${kind}`))
          assert.ok(String(c) in defined, `pipeline ${name}: ${kind.slice(0, -1)} ${String(c)} is not defined`);
      }
    }
    const tg = readJson(join(EXAMPLES, 'otel-collector/krakend.json'));
    const otel = record(
      record(tg['extra_config'], 'extra_config')['telemetry/opentelemetry'],
      'telemetry/opentelemetry',
    );
    const otlp = list(record(otel['exporters'], 'exporters')['otlp'], 'otlp').map((e) => record(e, 'otlp exporter'));
    assert.equal(otlp.length, 1);
    const protocol = otlp[0]?.['use_http'] === true ? 'http' : 'grpc';
    const receiver = record(
      record(record(record(col['receivers'], 'receivers')['otlp'], 'otlp')['protocols'], 'protocols')[protocol],
      protocol,
    );
    assert.equal(
      Number(String(receiver['endpoint']).split(':').at(-1)),
      Number(otlp[0]?.['port']),
      `Tollgate pushes OTLP/${protocol} to the port the collector listens on`,
    );
  });
});
