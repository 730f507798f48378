/**
 * `tollgate migrate` through the real binary: output on stdout or -o, `tollgate check` on what it
 * wrote, the not-carried-over lines on stderr, exit codes 0/1/2 — and a migrated Kong file served by a
 * real gateway in front of a real upstream, answering with Kong's service, route and consumer labels.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { find, parseSamples, value } from '../helpers/exposition.js';
import { runCli, writeConfig } from '../helpers/cli.js';
import { startGateway } from '../helpers/gateway.js';
import { sendJson, startUpstream } from '../helpers/upstream.js';

type Obj = Record<string, unknown>;
const KONG_FIXTURE = join(import.meta.dirname, '../fixtures/migrate/kong.yaml');
const OPENCENSUS_FIXTURE = join(import.meta.dirname, '../fixtures/migrate/opencensus-prometheus.json');

const lines = (stderr: string): string[] => stderr.split('\n').filter((l) => l !== '');

describe('tollgate migrate', () => {
  it('--from opencensus: the migrated config on stdout, one warning line per dropped field, and check accepts it', async () => {
    const r = await runCli(['migrate', '--from', 'opencensus', OPENCENSUS_FIXTURE]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Obj;
    assert.deepEqual((out.extra_config as Obj)['telemetry/opentelemetry'], {
      metric_reporting_period: 0,
      exporters: { prometheus: [{ name: 'krakend', port: 9091 }] },
    });
    assert.equal((out.extra_config as Obj)['telemetry/opencensus'], undefined);
    const err = lines(r.stderr);
    for (const tag of ['tag_host', 'tag_path', 'tag_method', 'tag_statuscode']) {
      assert.ok(
        err.some((l) =>
          l.startsWith(`warning: extra_config["telemetry/opencensus"].exporters.prometheus.${tag}: dropped`),
        ),
        r.stderr,
      );
    }
    assert.ok(
      err.some((l) => l.startsWith('warning: extra_config["telemetry/opencensus"].sample_rate: dropped')),
      r.stderr,
    );
    assert.match(
      err.at(-1) ?? '',
      /opencensus-prometheus\.json: migrated from opencensus to \(stdout\): 1 endpoint, \d+ warnings$/,
    );
    const check = await runCli(['check', '-c', writeConfig(r.stdout)]);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /configuration OK \(1 endpoints?\)/);
  });

  it('--from opencensus -o OUT: a YAML KrakenD file with the legacy namespace, written to OUT', async () => {
    const input = writeConfig(
      [
        'version: 3',
        'host: ["http://127.0.0.1:9"]',
        'endpoints:',
        '  - endpoint: /a',
        '    extra_config:',
        '      github_com/devopsfaith/krakend-opencensus: { path_aggregation: lastparam }',
        '    backend: [{ url_pattern: /a }]',
        'extra_config:',
        '  github_com/devopsfaith/krakend-opencensus:',
        '    sample_rate: 10',
        '    exporters:',
        '      jaeger: { endpoint: "http://jaeger:14268/api/traces", service_name: gw }',
        '',
      ].join('\n'),
      'krakend.yaml',
    );
    const output = join(dirname(input), 'out.json');
    const r = await runCli(['migrate', '--from', 'opencensus', input, '-o', output]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    const out = JSON.parse(readFileSync(output, 'utf8')) as Obj;
    assert.deepEqual(out.extra_config, {
      'telemetry/opentelemetry': {
        service_name: 'gw',
        trace_sample_rate: 0.1,
        exporters: { otlp: [{ name: 'jaeger', host: 'jaeger', port: 4317, disable_metrics: true }] },
      },
    });
    assert.equal(((out.endpoints as Obj[])[0] as Obj).extra_config, undefined);
    assert.match(
      r.stderr,
      /^warning: endpoints\[0\]\.extra_config\["github_com\/devopsfaith\/krakend-opencensus"\]: removed: "path_aggregation": "lastparam" has no equivalent/m,
    );
    assert.match(r.stderr, /migrated from opencensus to .*out\.json: 1 endpoint, /);
    const check = await runCli(['check', '-c', output]);
    assert.equal(check.code, 0, check.stderr);
  });

  it('--from kong: the YAML fixture to -o OUT, check passes, every loss on its own stderr line', async () => {
    const output = join(dirname(writeConfig('')), 'tollgate.json');
    const r = await runCli(['migrate', '--from', 'kong', KONG_FIXTURE, '-o', output]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(readFileSync(output, 'utf8')) as Obj;
    assert.equal((out.endpoints as Obj[]).length, 11);
    const err = lines(r.stderr);
    assert.equal(err.length, 13, r.stderr);
    assert.ok(
      err.slice(0, -1).every((l) => /^warning: [\w[\]."/-]+: /.test(l)),
      r.stderr,
    );
    assert.ok(
      err.includes(
        'warning: services[1].plugins[0]: "rate-limiting" (service "orders-svc"): not carried over: Tollgate has no equivalent plugin',
      ),
      r.stderr,
    );
    assert.ok(
      err.some((l) =>
        l.startsWith(
          'warning: services[0].routes[1].paths[1]: "~/admin/users/\\d+$": a regex path is not carried over',
        ),
      ),
      r.stderr,
    );
    assert.match(err.at(-1) ?? '', /kong\.yaml: migrated from kong to .*tollgate\.json: 11 endpoints, 12 warnings$/);
    const check = await runCli(['check', '-c', output]);
    assert.equal(check.code, 0, check.stderr);
    assert.equal(check.stderr, '', 'the migrated file has nothing Tollgate ignores');
  });

  it('--from kong reads JSON by its content whatever the file is called', async () => {
    const input = writeConfig(
      {
        _format_version: '3.0',
        services: [{ name: 's', url: 'http://127.0.0.1:9', routes: [{ name: 'r', paths: ['/r'], methods: ['GET'] }] }],
      },
      'kong.declarative',
    );
    const r = await runCli(['migrate', '--from', 'kong', input]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { endpoints: Obj[] };
    assert.deepEqual(
      out.endpoints.map((e) => [e.method, e.endpoint, (e.extra_config as Obj)['telemetry/kong-prometheus']]),
      [['GET', '/r', { service: 's', route: 'r' }]],
    );
  });

  it("--from kong: the migrated gateway keeps Kong's service, route and consumer labels (real upstream, real scrape)", async (t) => {
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, { ok: true }));
    const kong = [
      '_format_version: "3.0"',
      'services:',
      '  - name: users-svc',
      '    url: http://users-upstream/api/v1',
      '    routes:',
      '      - name: users',
      '        paths: [/users]',
      '        methods: [GET]',
      'upstreams:',
      '  - name: users-upstream',
      '    targets:',
      `      - target: 127.0.0.1:${up.port}`,
      'consumers:',
      '  - username: acme',
      '    keyauth_credentials: [{ key: acme-key }]',
      'plugins:',
      '  - name: key-auth',
      '  - name: prometheus',
      '    config: { per_consumer: true, status_code_metrics: true, upstream_health_metrics: true }',
      '',
    ].join('\n');
    const r = await runCli(['migrate', '--from', 'kong', writeConfig(kong, 'kong.yml')]);
    assert.equal(r.code, 0, r.stderr);
    const config = JSON.parse(r.stdout) as Obj;
    delete config.port;
    ((config.extra_config as Obj)['telemetry/kong-prometheus'] as Obj).listen_address = '127.0.0.1:0';
    const gw = await startGateway(t, config);
    const denied = await request(`${gw.url}/users`);
    await denied.body.dump();
    assert.equal(denied.statusCode, 401);
    const ok = await request(`${gw.url}/users?page=2`, { headers: { apikey: 'acme-key' } });
    await ok.body.dump();
    assert.equal(ok.statusCode, 200);
    assert.equal(
      up.seen.at(-1)?.url,
      '/api/v1?page=2',
      'strip_path: the route prefix is replaced by the service path; the query string passes',
    );
    assert.equal(up.seen.at(-1)?.headers.apikey, 'acme-key', 'hide_credentials defaults to false in Kong');
    const scrape = await request(`http://127.0.0.1:${gw.gateway.telemetry.kongStatus?.address?.port}/metrics`);
    const samples = parseSamples(await scrape.body.text());
    assert.equal(
      value(samples, 'kong_http_requests_total', {
        service: 'users-svc',
        route: 'users',
        code: '200',
        source: 'service',
        consumer: 'acme',
      }),
      1,
    );
    assert.equal(
      value(samples, 'kong_http_requests_total', {
        service: 'users-svc',
        route: 'users',
        code: '401',
        source: 'kong',
        consumer: '',
      }),
      1,
    );
    assert.deepEqual(
      find(samples, 'kong_upstream_target_health', { state: 'healthchecks_off' }).map((s) => [
        s.labels.upstream,
        s.labels.target,
        s.value,
      ]),
      [['users-upstream', `127.0.0.1:${up.port}`, 1]],
    );
  });

  it('exit 1 when the input cannot be read, parsed or migrated — naming the problem and its path, writing nothing', async () => {
    const missing = await runCli(['migrate', '--from', 'kong', '/nonexistent/kong.yml']);
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /^\/nonexistent\/kong\.yml: cannot migrate from kong \(1 problem\) \[TG_ERR_CONFIG_READ\]\n {2}\(file\): cannot read \/nonexistent\/kong\.yml/,
    );
    const broken = await runCli(['migrate', '--from', 'opencensus', writeConfig('{ "version": 3, }')]);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /\[TG_ERR_CONFIG_SYNTAX\]\n {2}line 1, column \d+: /);
    const input = writeConfig(
      {
        _format_version: '3.0',
        services: [{ name: 'a', routes: [{ paths: ['/a'] }] }],
        routes: [{ service: 'ghost', paths: ['/b'] }],
      },
      'kong.json',
    );
    const output = join(dirname(input), 'out.json');
    const invalid = await runCli(['migrate', '--from', 'kong', input, '-o', output]);
    assert.equal(invalid.code, 1);
    assert.equal(
      invalid.stderr,
      `${input}: cannot migrate from kong (2 problems)\n  services[0]: needs "url" or "host"\n  routes[0].service: refers to an unknown service "ghost"\n`,
    );
    assert.equal(existsSync(output), false);
    const nothing = await runCli(['migrate', '--from', 'opencensus', writeConfig({ version: 3 })]);
    assert.equal(nothing.code, 1);
    assert.match(nothing.stderr, /extra_config: has no "telemetry\/opencensus" .*nothing to migrate/);
    assert.equal(nothing.stdout, '');
  });

  it('exit 2 for usage errors', async () => {
    for (const args of [
      ['migrate', KONG_FIXTURE],
      ['migrate', '--from', 'nginx', KONG_FIXTURE],
      ['migrate', '--from', 'kong'],
      ['migrate', '--from', 'kong', KONG_FIXTURE, '--bogus'],
    ]) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^error: /);
      assert.equal(r.stdout, '');
    }
    const help = await runCli(['migrate', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--from <format>/);
  });
});
