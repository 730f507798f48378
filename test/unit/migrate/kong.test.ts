/**
 * `migrate --from kong` as a pure conversion: a Kong 3.x declarative file (test/fixtures/migrate/kong.yaml,
 * in the shape of Kong's docs) checked field by field, then the corner cases one at a time. Every output
 * is loaded by the real config loader, and the labels read back with the Kong view's own parsers.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadConfigValue } from '../../../src/config/load.js';
import { migrateKong } from '../../../src/migrate/kong.js';
import { urlPattern } from '../../../src/migrate/kong-routes.js';
import { MigrationInputError, type MigrationNote } from '../../../src/migrate/report.js';

type Obj = Record<string, unknown>;
const FIXTURE = parse(readFileSync(join(import.meta.dirname, '../../fixtures/migrate/kong.yaml'), 'utf8')) as Obj;

function noteAt(notes: readonly MigrationNote[], path: string): string {
  const found = notes.filter((n) => n.path === path);
  assert.equal(found.length, 1, `one note at ${path}, got: ${JSON.stringify(notes)}`);
  return (found[0] as MigrationNote).message;
}

const endpoints = (config: Obj): Obj[] => config.endpoints as Obj[];

const brief = (ep: Obj): string => `${String(ep.method)} ${String(ep.endpoint)}`;
const backendOf = (ep: Obj): Obj => (ep.backend as Obj[])[0] as Obj;
const extraOf = (ep: Obj): Obj => ep.extra_config as Obj;

function kong(extra: Obj): Obj {
  return { _format_version: '3.0', ...extra };
}

function inputIssues(input: unknown): string[] {
  try {
    migrateKong(input);
  } catch (err) {
    assert.ok(err instanceof MigrationInputError, String(err));
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail('expected the input to be rejected');
}

describe('migrate --from kong', () => {
  it('turns the fixture into endpoints with Kong service and route labels, field by field', () => {
    const { config } = migrateKong(FIXTURE);
    assert.equal(config.version, 3);
    assert.equal(config.port, 8000, "Kong's proxy port");
    const eps = endpoints(config);
    assert.deepEqual(eps.map(brief), [
      'GET /users',
      'POST /users',
      'DELETE /admin/users',
      'GET /orders',
      ...['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'].map((m) => `${m} /status`),
    ]);
    const users = eps[0] as Obj;
    assert.deepEqual(users, {
      endpoint: '/users',
      method: 'GET',
      timeout: '5s',
      output_encoding: 'no-op',
      input_headers: ['*'],
      input_query_strings: ['*'],
      backend: [
        {
          host: ['http://10.0.0.5:8080', 'http://10.0.0.6:8080'],
          url_pattern: '/api/v1',
          encoding: 'no-op',
          extra_config: {
            'backend/healthcheck': {
              upstream: 'users-upstream',
              active: {
                http_path: '/health',
                interval: 5,
                timeout: 2,
                healthy: { successes: 2 },
                unhealthy: { http_failures: 3, tcp_failures: 2, timeouts: 2 },
              },
              passive: { unhealthy: { http_failures: 5, tcp_failures: 2, timeouts: 3 } },
            },
          },
        },
      ],
      extra_config: { 'telemetry/kong-prometheus': { service: 'users-svc', route: 'users' }, 'auth/api-keys': {} },
    });
    const admin = eps[2] as Obj;
    assert.equal(
      backendOf(admin).url_pattern,
      '/api/v1/admin/users',
      'strip_path: false appends the request path to the service path',
    );
    assert.deepEqual(extraOf(admin)['telemetry/kong-prometheus'], { service: 'users-svc', route: 'users-admin' });
    const orders = eps[3] as Obj;
    assert.deepEqual(backendOf(orders), { host: ['http://10.0.0.7:8080'], url_pattern: '/orders', encoding: 'no-op' });
    assert.equal(orders.timeout, '60s', "Kong's default read_timeout");
    assert.deepEqual(
      extraOf(orders),
      { 'telemetry/kong-prometheus': { service: 'orders-svc', route: 'orders' } },
      'key-auth is scoped to users-svc only',
    );
    assert.deepEqual(extraOf(eps[4] as Obj)['telemetry/kong-prometheus'], { service: 'orders-svc', route: 'status' });
    const extra = config.extra_config as Obj;
    assert.deepEqual(extra['telemetry/kong-prometheus'], {
      per_consumer: true,
      status_code_metrics: true,
      latency_metrics: true,
      bandwidth_metrics: true,
      upstream_health_metrics: true,
    });
    assert.deepEqual(extra['auth/api-keys'], {
      keys: [
        { key: 'acme-secret-key', consumer: 'acme' },
        { key: 'globex-secret-key', consumer: 'globex' },
      ],
      identifier: 'apikey',
      strategy: 'header',
    });
  });

  it('produces a configuration the gateway loads, with the labels the Kong view will use', () => {
    const { config, warnings } = loadConfigValue(migrateKong(FIXTURE).config, 'out.json');
    assert.deepEqual(warnings, []);
    const users = config.endpoints[0];
    assert.deepEqual(users?.kong, { route: 'users', service: 'users-svc' });
    assert.equal(users?.backends[0]?.health?.upstream, 'users-upstream');
    assert.equal(users?.backends[0]?.health?.intervalMs, 5000);
    assert.equal(users?.backends[0]?.encoding, 'no-op');
    assert.equal(users?.timeoutMs, 5000);
    assert.ok(users?.auth !== undefined, 'the key-auth route requires a key');
    assert.equal(config.endpoints[3]?.auth, undefined);
    assert.deepEqual(
      [...(config.apiKeys?.keys.values() ?? [])].map((c) => c.name),
      ['acme', 'globex'],
    );
    assert.equal(config.kong?.perConsumer, true);
    assert.equal(config.kong?.upstreamHealthMetrics, true);
  });

  it('notes, one line each, what the fixture loses', () => {
    const { notes } = migrateKong(FIXTURE);
    assert.match(noteAt(notes, 'services[0].retries'), /does not retry/);
    assert.match(
      noteAt(notes, 'services[0].routes[0].paths[0]'),
      /"\/users" is matched exactly: Kong also matched every path below it \("\/users\/…"\)/,
    );
    assert.match(noteAt(notes, 'services[0].routes[1].hosts'), /matches endpoints by path and method only/);
    assert.match(noteAt(notes, 'services[0].routes[1].paths[1]'), /a regex path is not carried over/);
    assert.match(
      noteAt(notes, 'services[0].plugins[0].config.hide_credentials'),
      /^true: not carried over: the key is passed on to the backend/,
    );
    assert.match(
      noteAt(notes, 'services[0].plugins[0].config.key_in_query'),
      /reads the key from one place, the "apikey" header/,
    );
    assert.match(noteAt(notes, 'services[1].plugins[0]'), /"rate-limiting" \(service "orders-svc"\): not carried over/);
    assert.match(noteAt(notes, 'services[2].url'), /^grpc: the service and its routes are not carried over/);
    assert.match(noteAt(notes, 'upstreams[0].targets[2].weight'), /disabled in Kong, so it is left out/);
    assert.equal(
      notes.filter((n) => n.path.startsWith('services[2].routes')).length,
      0,
      'the routes of a skipped service add nothing',
    );
    assert.equal(notes.length, 12, JSON.stringify(notes, null, 1));
  });

  it('reads services by url (https → 443) or by protocol/host/port/path (Kong defaults http and 80)', () => {
    const { config } = migrateKong(
      kong({
        services: [
          { name: 'a', url: 'https://api.example.com', routes: [{ name: 'ra', paths: ['/a'], methods: ['GET'] }] },
          { host: 'b.internal', routes: [{ name: 'rb', paths: ['/b'], methods: ['GET'] }] },
          {
            name: 'c',
            protocol: 'https',
            host: '::1',
            port: 8443,
            path: '/v2/',
            routes: [{ name: 'rc', paths: ['/c'], methods: ['get'] }],
          },
        ],
      }),
    );
    const eps = endpoints(config);
    assert.deepEqual(
      eps.map((e) => [brief(e), backendOf(e).host, backendOf(e).url_pattern]),
      [
        ['GET /a', ['https://api.example.com:443'], '/'],
        ['GET /b', ['http://b.internal:80'], '/'],
        ['GET /c', ['https://[::1]:8443'], '/v2/'],
      ],
    );
    assert.deepEqual(
      extraOf(eps[1] as Obj)['telemetry/kong-prometheus'],
      { service: 'b.internal', route: 'rb' },
      'an unnamed service is labelled by its host, as Kong does',
    );
    loadConfigValue(config, 'out.json');
  });

  it('joins service and route paths as Kong (path_handling v0) does', () => {
    assert.equal(urlPattern(undefined, '/users', true), '/');
    assert.equal(urlPattern('/api', '/users', true), '/api');
    assert.equal(urlPattern(undefined, '/users', false), '/users');
    assert.equal(urlPattern('/api/', '/users', false), '/api/users');
    assert.equal(urlPattern('/', '/users/', false), '/users/');
  });

  it('skips routes and paths Tollgate cannot serve, and a second route on the same method and path', () => {
    const { config, notes } = migrateKong(
      kong({
        services: [
          {
            name: 's',
            url: 'http://s:8080',
            routes: [
              { name: 'one', paths: ['/same', '/__health', '/50%25', '/{x}'], methods: ['GET', 'BREW'] },
              {
                name: 'two',
                paths: ['/same'],
                methods: ['GET', 'POST'],
                headers: { 'x-v': ['2'] },
                preserve_host: true,
                regex_priority: 0,
              },
              { name: 'nopath', hosts: ['a.example.com'] },
              { name: 'ws', protocols: ['ws'], paths: ['/ws'] },
              { paths: ['/anon'], methods: ['GET'], protocols: ['https'] },
            ],
          },
        ],
        routes: [{ name: 'orphan', paths: ['/orphan'] }],
      }),
    );
    assert.deepEqual(endpoints(config).map(brief), ['GET /same', 'POST /same', 'GET /anon']);
    assert.match(noteAt(notes, 'services[0].routes[0].paths[1]'), /reserved for Tollgate's own endpoints/);
    assert.match(noteAt(notes, 'services[0].routes[0].paths[2]'), /cannot hold \*, \?, &, %, \{ or \}/);
    assert.match(noteAt(notes, 'services[0].routes[0].paths[3]'), /cannot hold/);
    assert.match(noteAt(notes, 'services[0].routes[0].methods[1]'), /"BREW": not carried over/);
    assert.ok(
      notes.some(
        (n) =>
          n.path === 'services[0].routes[1].paths[0]' &&
          /GET \/same is already served by services\[0\]\.routes\[0\]\.paths\[0\]/.test(n.message),
      ),
    );
    assert.match(noteAt(notes, 'services[0].routes[1].headers'), /by path and method only/);
    assert.match(noteAt(notes, 'services[0].routes[1].preserve_host'), /X-Forwarded-Host/);
    assert.equal(
      notes.filter((n) => n.path === 'services[0].routes[1].regex_priority').length,
      0,
      "Kong's default is not a loss",
    );
    assert.match(noteAt(notes, 'services[0].routes[2]'), /has no paths/);
    assert.match(noteAt(notes, 'services[0].routes[3].protocols'), /the route is not carried over/);
    assert.match(noteAt(notes, 'services[0].routes[4].protocols'), /one listener/);
    assert.match(noteAt(notes, 'services[0].routes[4]'), /has no name or id/);
    assert.deepEqual(extraOf(endpoints(config)[2] as Obj)['telemetry/kong-prometheus'], { service: 's' });
    assert.match(noteAt(notes, 'routes[0]'), /has no service/);
    loadConfigValue(config, 'out.json');
  });

  it('prometheus: scoped or differing instances become one root setting, the union of their flags', () => {
    const { config, notes } = migrateKong(
      kong({
        services: [
          {
            name: 's',
            url: 'http://s',
            routes: [{ name: 'r', paths: ['/r'], methods: ['GET'] }],
            plugins: [{ name: 'prometheus', config: { status_code_metrics: true, ai_metrics: true } }],
          },
        ],
        plugins: [
          { name: 'prometheus', route: 'r', config: { latency_metrics: true } },
          { name: 'prometheus', enabled: false, config: { bandwidth_metrics: true } },
          { name: 'prometheus', consumer: 'acme', config: { per_consumer: true } },
        ],
        consumers: [{ username: 'acme' }],
      }),
    );
    assert.deepEqual((config.extra_config as Obj)['telemetry/kong-prometheus'], {
      per_consumer: false,
      status_code_metrics: true,
      latency_metrics: true,
      bandwidth_metrics: false,
      upstream_health_metrics: false,
    });
    assert.match(
      noteAt(notes, 'services[0].plugins[0]'),
      /scoped to service "s": Tollgate records the Kong metrics of every endpoint/,
    );
    assert.match(noteAt(notes, 'services[0].plugins[0].config'), /latency_metrics differ between instances/);
    assert.match(noteAt(notes, 'services[0].plugins[0].config.ai_metrics'), /no such metrics/);
    assert.match(noteAt(notes, 'plugins[1].enabled'), /disabled "prometheus" instance/);
    assert.match(noteAt(notes, 'plugins[2].consumer'), /scoped to consumer "acme"/);
  });

  it('key-auth: query-string keys, Authorization, consumers without username, credentials without a key', () => {
    const { config, notes } = migrateKong(
      kong({
        services: [{ name: 's', url: 'http://s', routes: [{ name: 'r', paths: ['/r'], methods: ['GET'] }] }],
        plugins: [
          { name: 'key-auth', config: { key_names: ['token', 'apikey'], key_in_header: false, anonymous: 'guest' } },
        ],
        consumers: [
          { username: 'acme', keyauth_credentials: [{ key: 'k1', ttl: 3600 }, {}] },
          { custom_id: 'legacy-42', keyauth_credentials: [{ key: 'k2' }] },
          {
            username: 'dup',
            keyauth_credentials: [{ key: 'k1' }],
            basicauth_credentials: [{ username: 'x', password: 'y' }],
          },
          { username: 'top' },
        ],
        keyauth_credentials: [
          { consumer: { username: 'top' }, key: 'k3' },
          { consumer: 'top', key: 'k4' },
        ],
      }),
    );
    assert.deepEqual((config.extra_config as Obj)['auth/api-keys'], {
      keys: [
        { key: 'k1', consumer: 'acme' },
        { key: 'k2', consumer: 'legacy-42' },
        { key: 'k3', consumer: 'top' },
        { key: 'k4', consumer: 'top' },
      ],
      identifier: 'token',
      strategy: 'query_string',
    });
    assert.deepEqual(
      extraOf(endpoints(config)[0] as Obj)['auth/api-keys'],
      {},
      'a global key-auth covers every endpoint',
    );
    assert.match(noteAt(notes, 'plugins[0].config.key_names'), /only "token" is read/);
    assert.match(noteAt(notes, 'plugins[0].config.anonymous'), /without a valid key get 401/);
    assert.match(noteAt(notes, 'consumers[0].keyauth_credentials[0].ttl'), /do not expire/);
    assert.match(noteAt(notes, 'consumers[0].keyauth_credentials[1]'), /has no key/);
    assert.match(noteAt(notes, 'consumers[1]'), /Kong's consumer label is "" for it; Tollgate labels it "legacy-42"/);
    assert.match(noteAt(notes, 'consumers[2].keyauth_credentials[0].key'), /used twice/);
    assert.match(noteAt(notes, 'consumers[2].basicauth_credentials'), /by API key only/);
  });

  it('key-auth read from Authorization: noted, as Tollgate wants a Bearer token', () => {
    const { config, notes } = migrateKong(
      kong({
        services: [
          {
            name: 's',
            url: 'http://s',
            routes: [
              {
                name: 'r',
                paths: ['/r'],
                methods: ['GET'],
                plugins: [{ name: 'key-auth', config: { key_names: ['Authorization'], key_in_query: false } }],
              },
            ],
          },
        ],
      }),
    );
    assert.deepEqual((config.extra_config as Obj)['auth/api-keys'], {
      keys: [],
      identifier: 'Authorization',
      strategy: 'header',
    });
    assert.match(noteAt(notes, 'services[0].routes[0].plugins[0].config.key_names'), /Bearer <key>/);
    assert.match(noteAt(notes, 'services[0].routes[0].plugins[0]'), /every endpoint it covers answers 401/);
  });

  it('upstreams: top-level targets, Kong default target port, weights and health-check differences noted', () => {
    const { config, notes } = migrateKong(
      kong({
        services: [
          { name: 'a', host: 'pool', protocol: 'https', routes: [{ name: 'ra', paths: ['/a'], methods: ['GET'] }] },
          { name: 'b', host: 'pool', routes: [{ name: 'rb', paths: ['/b'], methods: ['GET'] }] },
          { name: 'c', host: 'empty', routes: [{ name: 'rc', paths: ['/c'], methods: ['GET'] }] },
        ],
        upstreams: [
          {
            name: 'pool',
            algorithm: 'least-connections',
            healthchecks: {
              threshold: 50,
              active: {
                type: 'tcp',
                concurrency: 5,
                healthy: { interval: 0, successes: 1 },
                unhealthy: { interval: 3, tcp_failures: 1, http_statuses: [500, 503] },
              },
              passive: { type: 'tcp', healthy: { successes: 4, http_statuses: [200] } },
            },
          },
          { name: 'empty', targets: [{ target: 'x:1', weight: 0 }] },
        ],
        targets: [
          { upstream: 'pool', target: 'h1', weight: 10 },
          { upstream: { name: 'pool' }, target: '[fd00::1]:9000', weight: 20 },
        ],
      }),
    );
    const eps = endpoints(config);
    assert.deepEqual(eps.map(brief), ['GET /a', 'GET /b']);
    assert.deepEqual(backendOf(eps[0] as Obj).host, ['https://h1:8000', 'https://[fd00::1]:9000']);
    assert.deepEqual(backendOf(eps[1] as Obj).host, ['http://h1:8000', 'http://[fd00::1]:9000']);
    assert.deepEqual((backendOf(eps[0] as Obj).extra_config as Obj)['backend/healthcheck'], {
      upstream: 'pool',
      active: { interval: 3, healthy: { successes: 1 }, unhealthy: { tcp_failures: 1, http_statuses: [500, 503] } },
      passive: { healthy: { successes: 4, http_statuses: [200] } },
    });
    assert.match(noteAt(notes, 'upstreams[0].algorithm'), /round-robin/);
    assert.match(noteAt(notes, 'upstreams[0].targets'), /weights not carried over/);
    assert.match(noteAt(notes, 'upstreams[0].healthchecks.threshold'), /503 only when no target is healthy/);
    assert.match(noteAt(notes, 'upstreams[0].healthchecks.active.type'), /HTTP\(S\) GET requests only/);
    assert.match(noteAt(notes, 'upstreams[0].healthchecks.active.concurrency'), /not carried over/);
    assert.match(
      noteAt(notes, 'upstreams[0].healthchecks.active.healthy.interval'),
      /Kong probed only unhealthy targets/,
    );
    assert.match(noteAt(notes, 'upstreams[0].healthchecks.passive.type'), /HTTP outcomes/);
    assert.match(noteAt(notes, 'services[2]'), /upstream "empty" has no enabled target/);
    const loaded = loadConfigValue(config, 'out.json').config;
    assert.equal(loaded.endpoints[0]?.backends[0]?.health?.intervalMs, 3000);
    assert.deepEqual([...(loaded.endpoints[0]?.backends[0]?.health?.active.unhealthyStatuses ?? [])], [500, 503]);
  });

  it('notes top-level entities and plugins Tollgate has no equivalent for', () => {
    const { notes } = migrateKong(
      kong({
        certificates: [{ cert: 'x', key: 'y' }],
        vaults: [],
        plugins: [{ name: 'cors', config: { origins: ['*'] } }],
      }),
    );
    assert.match(noteAt(notes, 'certificates'), /no equivalent/);
    assert.match(noteAt(notes, 'vaults'), /no equivalent/);
    assert.match(noteAt(notes, 'plugins[0]'), /"cors" \(global\): not carried over/);
    assert.match(noteAt(notes, '(root)'), /no route could be carried over/);
  });

  it('rejects a file that is not Kong declarative config, naming every problem and its path', () => {
    assert.deepEqual(inputIssues(['x']), [
      '(root): must be a Kong declarative configuration (an object with "_format_version")',
    ]);
    assert.deepEqual(inputIssues({ services: [] }), [
      '_format_version: is missing: not a Kong declarative configuration',
    ]);
    assert.deepEqual(
      inputIssues(
        kong({
          services: [
            { name: 'a' },
            { name: 'b', url: 'not a url' },
            { name: 'c', host: 'c', port: 70000, path: 'rel' },
            'x',
          ],
          routes: [{ name: 'r', service: 'ghost', paths: ['/r'] }],
          upstreams: [{ targets: [] }, { name: 'u', targets: [{ target: 'h:1:2' }, { target: 'h', weight: -1 }] }],
          plugins: [{ config: {} }, { name: 'key-auth', route: 'nope' }],
          consumers: [{ tags: [] }],
        }),
      ),
      [
        'services[3]: must be an object',
        'services[0]: needs "url" or "host"',
        'services[1].url: "not a url" is not a valid URL',
        'services[2].port: must be a port number (0-65535)',
        'services[2].path: must start with "/"',
        'routes[0].service: refers to an unknown service "ghost"',
        'consumers[0]: needs "username" or "custom_id"',
        'upstreams[0].name: is required (services point at an upstream by its name)',
        'upstreams[1].targets[0].target: must be "host:port" or "ip:port"',
        'upstreams[1].targets[1].weight: must be a whole number (0-65535)',
        'plugins[0].name: is required',
        'plugins[1].route: refers to an unknown route "nope"',
      ],
    );
  });
});
