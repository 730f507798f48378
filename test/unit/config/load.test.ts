import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfigFile, loadConfigText, loadConfigValue } from '../../../src/config/load.js';
import { tempDir } from '../../helpers/temp-dir.js';

const backend = { host: ['http://127.0.0.1:9'], url_pattern: '/x' };
const minimal = { version: 3, endpoints: [{ endpoint: '/a', backend: [backend] }] };

function issuesOf(value: unknown): string[] {
  try {
    loadConfigValue(value, 'c.json');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail('expected the config to be rejected');
}

describe('config loading', () => {
  it('applies KrakenD defaults and freezes the result', () => {
    const { config } = loadConfigValue(minimal, 'c.json');
    assert.equal(config.port, 8080);
    assert.equal(config.timeoutMs, 2000);
    assert.equal(config.endpoints[0]?.method, 'GET');
    assert.equal(config.endpoints[0]?.outputEncoding, 'json');
    assert.equal(config.endpoints[0]?.backends[0]?.method, 'GET');
    assert.equal(config.healthPath, '/__health');
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.endpoints[0]?.backends[0]));
    assert.throws(() => {
      (config as { port: number }).port = 1;
    }, TypeError);
  });

  it('keeps legal zero values (?? not ||): port 0 and timeout "0"', () => {
    const { config } = loadConfigValue({ ...minimal, port: 0, timeout: '0' }, 'c.json');
    assert.equal(config.port, 0);
    assert.equal(config.timeoutMs, 0);
  });

  it('inherits timeout, host and encoding from the root; endpoint values win', () => {
    const { config } = loadConfigValue(
      {
        version: 3,
        timeout: '3s',
        host: ['localhost:1234'],
        output_encoding: 'no-op',
        endpoints: [
          { endpoint: '/a', backend: [{ url_pattern: '/a' }] },
          {
            endpoint: '/b',
            timeout: '250ms',
            output_encoding: 'json',
            method: 'post',
            backend: [{ url_pattern: '/b', method: 'put' }],
          },
        ],
      },
      'c.json',
    );
    const [a, b] = config.endpoints;
    assert.equal(a?.timeoutMs, 3000);
    assert.equal(a?.outputEncoding, 'no-op');
    assert.equal(a?.backends[0]?.encoding, 'no-op');
    assert.deepEqual(a?.backends[0]?.hosts, ['http://localhost:1234']);
    assert.equal(b?.timeoutMs, 250);
    assert.equal(b?.method, 'POST');
    assert.equal(b?.backends[0]?.method, 'PUT');
  });

  it('rejects a version other than 3 with a clear message', () => {
    const issues = issuesOf({ version: 2, endpoints: [] });
    assert.deepEqual(issues, [
      'version: must be 3: Tollgate runs KrakenD v3 configuration files (older formats are not supported)',
    ]);
    assert.deepEqual(issuesOf({ endpoints: [] }), ['version: is required']);
  });

  it('reports every error at once, each with its JSON path', () => {
    const issues = issuesOf({
      version: 3,
      port: 70000,
      timeout: 'soon',
      endpoints: [
        { endpoint: '/ok', backend: [backend] },
        { endpoint: '/empty', backend: [] },
        { endpoint: 'no-slash', backend: [{ url_pattern: '/x', host: ['http://h'], is_collection: 'yes' }] },
        { backend: [backend] },
        { endpoint: '/m', method: 'FETCH', output_encoding: 'morse', backend: [{ host: ['http://h'] }] },
      ],
    });
    assert.deepEqual(
      issues.sort(),
      [
        'endpoints[1].backend: must have at least 1 item',
        'endpoints[2].backend[0].is_collection: must be a boolean',
        'endpoints[2].endpoint: must start with "/" and contain no "*", "?", "&" or "%" (a trailing "/*" is allowed)',
        'endpoints[3].endpoint: is required',
        'endpoints[4].backend[0].url_pattern: is required',
        `endpoints[4].method: must be one of ${[
          'GET',
          'POST',
          'PUT',
          'PATCH',
          'DELETE',
          'HEAD',
          'OPTIONS',
          'CONNECT',
          'TRACE',
        ]
          .concat(['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'connect', 'trace'])
          .map((m) => JSON.stringify(m))
          .join(', ')}`,
        `endpoints[4].output_encoding: must be one of "json", "safejson", "fast-json", "json-collection", "xml", "rss", "negotiate", "string", "no-op", "yaml"`,
        'port: must be <= 65535',
        'timeout: must be a duration such as "500ms", "2s" or "1m30s"',
      ].sort(),
    );
  });

  it('rejects what the schema cannot see: reserved paths, collisions, unknown placeholders, hosts, no-op fan-out', () => {
    const issues = issuesOf({
      version: 3,
      endpoints: [
        { endpoint: '/__health', backend: [backend] },
        { endpoint: '/__debug/x', backend: [backend] },
        { endpoint: '/users/{id}', backend: [backend] },
        { endpoint: '/users/{name}', backend: [backend] },
        { endpoint: '/users/{id}', method: 'POST', backend: [backend] },
        { endpoint: '/orders/{id}', backend: [{ host: ['http://h'], url_pattern: '/o/{order}' }] },
        { endpoint: '/nohost', backend: [{ url_pattern: '/x' }] },
        { endpoint: '/badhost', backend: [{ url_pattern: '/x', host: ['ftp://h', 'http://exa mple'] }] },
        { endpoint: '/noop', output_encoding: 'no-op', backend: [backend, backend] },
        { endpoint: '/p/x{id}', backend: [backend] },
        // lura checks the whole url_pattern, query string included (UndefinedOutputParamError, config/config.go).
        { endpoint: '/q/{id}', backend: [{ host: ['http://h'], url_pattern: '/q?id={id}&s={code}' }] },
      ],
    });
    assert.deepEqual(issues, [
      'endpoints[0].endpoint: "/__health" is reserved for the gateway\'s own endpoints',
      'endpoints[1].endpoint: "/__debug/x" is reserved for the gateway\'s own endpoints',
      'endpoints[3].endpoint: GET /users/{name} collides with endpoints[2] (same method and path shape)',
      'endpoints[5].backend[0].url_pattern: placeholder {order} is not a parameter of endpoint "/orders/{id}"',
      'endpoints[6].backend[0].host: no host: set "host" on the backend or at the root',
      'endpoints[7].backend[0].host[1]: "http://exa mple" is not a valid host URL',
      'endpoints[8].backend: an endpoint with output_encoding "no-op" must have exactly 1 backend',
      'endpoints[9].endpoint: "x{id}": a placeholder must fill a whole path segment, like /users/{id}',
      'endpoints[10].backend[0].url_pattern: placeholder {code} is not a parameter of endpoint "/q/{id}"',
    ]);
  });

  it('loads non-http hosts and dynamic placeholders of Enterprise features with a warning, not an error', () => {
    const { warnings } = loadConfigValue(
      {
        version: 3,
        endpoints: [
          { endpoint: '/ws', backend: [{ host: ['ws://chat:3000'], url_pattern: '/ws' }] },
          {
            endpoint: '/seq/{id}',
            backend: [
              { host: ['h'], url_pattern: '/a/{id}' },
              { host: ['h'], url_pattern: '/b/{resp0_x}/{JWT.sub}' },
            ],
          },
        ],
      },
      'c',
    );
    assert.deepEqual(warnings, [
      'endpoints[0].backend[0].host[0]: "ws://chat:3000": only http:// and https:// backends are supported; requests to it fail with 502',
      'endpoints[1].backend[1].url_pattern: placeholder {resp0_x} (sequential proxy, JWT or dynamic routing) is not supported; it is sent empty',
      'endpoints[1].backend[1].url_pattern: placeholder {JWT.sub} (sequential proxy, JWT or dynamic routing) is not supported; it is sent empty',
    ]);
  });

  it('matches url_pattern placeholders like KrakenD: {Id} and {id} are the same parameter', () => {
    const { config } = loadConfigValue(
      { version: 3, endpoints: [{ endpoint: '/u/{id}', backend: [{ host: ['h'], url_pattern: '/users/{Id}' }] }] },
      'c',
    );
    assert.equal(config.endpoints[0]?.backends[0]?.urlPattern, '/users/{Id}');
  });

  it('ignores comment keys and lists the descriptive settings it does not support in one warning', () => {
    const { warnings } = loadConfigValue(
      {
        version: 3,
        '@comment': 'root comment',
        $schema: 'https://www.krakend.io/schema/krakend.json',
        plugin: { pattern: '.so', folder: './plugins' },
        extra_config: {
          'telemetry/logging': { level: 'INFO' },
          router: { health_path: '/healthz', logger_skip_paths: ['/x'] },
        },
        endpoints: [
          {
            endpoint: '/a',
            '@comment': 'endpoint comment',
            concurrent_calls: 2,
            extra_config: { 'documentation/openapi': { summary: 'x' }, '@comment': 'x' },
            backend: [{ ...backend, _note: 'x', extra_config: { 'qos/http-cache': { shared: true } } }],
          },
        ],
      },
      'c.json',
    );
    assert.equal(warnings.length, 1);
    const w = warnings[0] as string;
    assert.match(w, /^settings not supported by Tollgate are ignored \(they only describe, report or tune\): /);
    for (const part of [
      'plugin',
      'extra_config["telemetry/logging"]',
      'extra_config.router.logger_skip_paths',
      'endpoints[0].concurrent_calls',
      'endpoints[0].extra_config["documentation/openapi"]',
      'endpoints[0].backend[0].extra_config["qos/http-cache"]',
    ]) {
      assert.ok(w.includes(part), `warning should name ${part}: ${w}`);
    }
    assert.ok(!w.includes('@comment') && !w.includes('$schema') && !w.includes('_note'), w);
  });

  it('renames legacy github_com namespaces to their current names', () => {
    const { warnings, config } = loadConfigValue(
      {
        ...minimal,
        extra_config: {
          'github_com/devopsfaith/krakend-metrics': { collection_time: '30s' },
          'github_com/devopsfaith/krakend-gologging': {},
        },
      },
      'c',
    );
    assert.equal(config.stats?.collectionMs, 30_000, 'the legacy name configures telemetry/metrics');
    assert.match(warnings[0] ?? '', /extra_config\["telemetry\/logging"\]/);
  });

  it('uses router.health_path and router.disable_health', () => {
    assert.equal(
      loadConfigValue({ ...minimal, extra_config: { router: { health_path: '/healthz' } } }, 'c').config.healthPath,
      '/healthz',
    );
    assert.equal(
      loadConfigValue({ ...minimal, extra_config: { router: { disable_health: true } } }, 'c').config.healthPath,
      undefined,
    );
  });

  it('tells the line and column of a JSON syntax error', () => {
    const cases: [string, number, number][] = [
      ['{\n  "version": 3,\n  "endpoints": [,]\n}', 3, 17],
      ['{\n  "version": 3\n  "port": 1\n}', 3, 3],
      ['{\n  "version": tru\n}', 2, 17],
      ['{"version": 3,', 1, 15],
    ];
    for (const [text, line, column] of cases) {
      try {
        loadConfigText(text, 'broken.json');
        assert.fail('should not parse');
      } catch (err) {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.code, 'TG_ERR_CONFIG_SYNTAX');
        assert.equal(
          err.issues[0]?.path,
          `line ${line}, column ${column}`,
          `${JSON.stringify(text)}: ${err.issues[0]?.message}`,
        );
      }
    }
  });

  it('loads YAML by extension, with positions for its syntax errors', () => {
    const dir = tempDir('tg-yaml-');
    const good = join(dir, 'k.yaml');
    writeFileSync(
      good,
      'version: 3\nendpoints:\n  - endpoint: /a\n    backend:\n      - host: ["http://h"]\n        url_pattern: /a\n',
    );
    assert.equal(loadConfigFile(good).config.endpoints[0]?.path, '/a');
    const bad = join(dir, 'bad.yml');
    writeFileSync(bad, 'version: 3\nendpoints: [\n  - a\n');
    assert.throws(
      () => loadConfigFile(bad),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.code === 'TG_ERR_CONFIG_SYNTAX' &&
        /^line \d+, column \d+$/.test(err.issues[0]?.path ?? ''),
    );
    // A YAML error names the offending line, shows its text with a caret, and no dangling "at line …:".
    const indented = join(dir, 'indent.yaml');
    writeFileSync(
      indented,
      'version: 3\nendpoints:\n  - endpoint: /a\n    backend:\n      - url_pattern: /a\n    extra: {a: 1\n  bad: x\n',
    );
    assert.throws(
      () => loadConfigFile(indented),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError && err.code === 'TG_ERR_CONFIG_SYNTAX');
        const issue = err.issues[0];
        assert.equal(issue?.path, 'line 7, column 3');
        assert.doesNotMatch(issue?.message ?? '', /at line|:$/);
        assert.equal(issue?.excerpt, '  bad: x\n  ^');
        return true;
      },
    );
  });

  it('shows the offending JSON line with a caret under the column', () => {
    assert.throws(
      () => loadConfigText('{\n  "version": 3\n  "port": 1\n}', 'broken.json'),
      (err: unknown) => err instanceof ConfigError && err.issues[0]?.excerpt === '  "port": 1\n  ^',
    );
  });

  it('reports an unreadable file and unreadable TLS key files', () => {
    assert.throws(
      () => loadConfigFile('/nonexistent/krakend.json'),
      (err: unknown) => err instanceof ConfigError && err.code === 'TG_ERR_CONFIG_READ',
    );
    const issues = issuesOf({
      ...minimal,
      tls: { public_key: '/nonexistent/cert.pem', private_key: '/nonexistent/key.pem' },
    });
    assert.deepEqual(issues, [
      'tls.public_key: cannot read "/nonexistent/cert.pem": ENOENT',
      'tls.private_key: cannot read "/nonexistent/key.pem": ENOENT',
    ]);
    assert.deepEqual(issuesOf({ ...minimal, tls: { min_version: 'TLS12' } }), [
      'tls: needs public_key and private_key (or keys[]), or "disabled": true',
    ]);
  });

  it('rejects a config that is not an object', () => {
    assert.deepEqual(issuesOf([1, 2]), ['(root): must be an object with "version": 3']);
  });
});
