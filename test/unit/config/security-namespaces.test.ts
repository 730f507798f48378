/**
 * `security/cors`, `security/http` and `validation/json-schema` as config: enforced (no longer refused),
 * validated once at load with every wrong field reported at its path, KrakenD CE's legacy names
 * aliased, and the settings read with KrakenD's defaults.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ConfigError, loadConfigValue, type ConfigOverrides } from '../../../src/config/load.js';
import { parseCorsSettings } from '../../../src/config/namespaces/security-cors.js';
import { parseHttpSecurity } from '../../../src/config/namespaces/security-http.js';
import { compileBodySchema } from '../../../src/config/namespaces/validation-json-schema.js';

const backend = [{ host: ['http://127.0.0.1:1'], url_pattern: '/' }];

function load(
  extra: Record<string, unknown>,
  endpointExtra: Record<string, unknown> = {},
  overrides?: ConfigOverrides,
) {
  return loadConfigValue(
    {
      version: 3,
      extra_config: extra,
      endpoints: [{ endpoint: '/a', method: 'POST', extra_config: endpointExtra, backend }],
    },
    'test.json',
    overrides,
  );
}

function issues(extra: Record<string, unknown>, endpointExtra: Record<string, unknown> = {}): Map<string, string> {
  try {
    load(extra, endpointExtra);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.code, 'TG_ERR_CONFIG_INVALID', err.message);
    return new Map(err.issues.map((i) => [i.path, i.message]));
  }
  assert.fail('the config should be refused');
}

describe('security and validation namespaces in the config', () => {
  it('load without --allow-unenforced and without warnings', () => {
    const { warnings, config } = load(
      {
        'security/cors': { allow_origins: ['*'], max_age: '12h' },
        'security/http': { frame_deny: true, allowed_hosts: ['a.test'] },
      },
      { 'validation/json-schema': { type: 'object' } },
    );
    assert.deepEqual(warnings, []);
    assert.ok(Object.isFrozen(config.extraConfig['security/cors']));
  });

  it('reports every wrong field of the three at once, each with its path', () => {
    const found = issues(
      {
        'security/cors': {
          allow_methods: ['get'],
          allow_headers: ['Content Type'],
          max_age: '12 hours',
          options_success_status: 42,
          allow_credentials: 'yes',
        },
        'security/http': {
          sts_seconds: '300',
          custom_frame_options_value: 'DENY\nX-Evil: 1',
          ssl_proxy_headers: { 'X-Forwarded-Proto': 1 },
          host_proxy_headers: ['X Forwarded Host'],
        },
      },
      { 'validation/json-schema': 'not a schema' },
    );
    for (const path of [
      'extra_config["security/cors"].allow_methods[0]',
      'extra_config["security/cors"].allow_headers[0]',
      'extra_config["security/cors"].max_age',
      'extra_config["security/cors"].options_success_status',
      'extra_config["security/cors"].allow_credentials',
      'extra_config["security/http"].sts_seconds',
      'extra_config["security/http"].custom_frame_options_value',
      'extra_config["security/http"].ssl_proxy_headers.X-Forwarded-Proto',
      'extra_config["security/http"].host_proxy_headers[0]',
      'endpoints[0].extra_config["validation/json-schema"]',
    ])
      assert.ok(found.has(path), `${path} in ${[...found.keys()].join(', ')}`);
  });

  it('refuses an allowed_hosts regex or a JSON schema Tollgate cannot run, with the reason', () => {
    const hosts = issues({
      'security/http': { allowed_hosts: ['ok\\.test', 'a(?i)b'], allowed_hosts_are_regex: true },
    });
    assert.match(hosts.get('extra_config["security/http"].allowed_hosts[1]') ?? '', /flag groups/);
    assert.equal(hosts.size, 1);
    const at = 'endpoints[0].extra_config["validation/json-schema"]';
    for (const [schema, reason] of [
      [{ type: 'nope' }, /must be equal to one of the allowed values|type/],
      [{ type: 'string', pattern: '[[:alpha:]]' }, /regular expression/],
      [{ $schema: 'http://json-schema.org/draft-04/schema#' }, /not a draft Tollgate runs/],
      [{ $ref: 'https://example.com/remote.json' }, /can't resolve reference/],
      [{ $schema: 'http://json-schema.org/draft-07/schema#', format: 'email' }, /asserts "format"/],
    ] as const) {
      const found = issues({}, { 'validation/json-schema': schema });
      assert.match(found.get(at) ?? '', reason, JSON.stringify(schema));
    }
    // Under 2020-12 (the default) and 2019-09, format is an annotation: accepted, not checked.
    assert.ok(compileBodySchema({ type: 'string', format: 'email' })('not an email'));
  });

  it("takes KrakenD CE's legacy names as the current ones, enforced", () => {
    const { config, warnings } = load(
      {
        'github_com/devopsfaith/krakend-cors': { allow_origins: ['https://a.test'] },
        'github_com/devopsfaith/krakend-httpsecure': { frame_deny: true },
      },
      { 'github.com/devopsfaith/krakend-jsonschema': { type: 'object' } },
    );
    assert.deepEqual(warnings, []);
    assert.ok('security/cors' in config.extraConfig && 'security/http' in config.extraConfig);
    assert.ok('validation/json-schema' in (config.endpoints[0]?.extraConfig ?? {}));
  });

  it('warns about keys KrakenD does not read and about the namespaces at a level where they do nothing', () => {
    const { warnings } = load(
      { 'security/http': { hpkp_public_key: 'pin-sha256="x"' }, 'security/cors': { allow_origin: ['x'] } },
      { 'security/cors': { allow_origins: ['*'] } },
    );
    const text = warnings.join('\n');
    assert.match(text, /hpkp_public_key/);
    assert.match(text, /allow_origin.*did you mean "allow_origins"/);
    assert.match(text, /endpoints\[0\]\.extra_config\["security\/cors"\]/);
  });

  it("reads the CORS settings with krakend-cors's and rs/cors's defaults", () => {
    const none = parseCorsSettings({});
    assert.ok(none !== undefined && none.anyOrigin && none.anyHeader);
    assert.deepEqual(none.methods, ['GET', 'POST', 'HEAD']);
    assert.equal(none.optionsSuccessStatus, 204);
    assert.equal(none.maxAge, undefined);
    assert.equal(none.exposeHeaders, undefined);
    const some = parseCorsSettings({
      allow_origins: ['HTTPS://A.test', 'https://*.b.test'],
      allow_headers: ['X-B', 'Content-Type', 'x-b'],
      expose_headers: ['x-request-id', 'ETAG'],
      max_age: '2m30s',
    });
    assert.ok(some !== undefined && !some.anyOrigin && !some.anyHeader);
    assert.deepEqual([...some.origins], ['https://a.test']);
    assert.deepEqual(some.wildcards, [{ prefix: 'https://', suffix: '.b.test' }]);
    assert.deepEqual(some.headers, ['content-type', 'x-b']);
    assert.equal(some.exposeHeaders, 'X-Request-Id, Etag');
    assert.equal(some.maxAge, '150');
    assert.equal(parseCorsSettings({ allow_origins: ['https://a.test', '*'] })?.anyOrigin, true);
  });

  it("reads the security/http headers in unrolled/secure's order and values", () => {
    const s = parseHttpSecurity({
      referrer_policy: 'no-referrer',
      content_security_policy: "default-src 'self'",
      browser_xss_filter: true,
      content_type_nosniff: true,
      frame_deny: true,
      sts_seconds: 60,
    });
    assert.deepEqual(s?.headers, [
      ['X-Frame-Options', 'DENY'],
      ['X-Content-Type-Options', 'nosniff'],
      ['X-Xss-Protection', '1; mode=block'],
      ['Content-Security-Policy', "default-src 'self'"],
      ['Referrer-Policy', 'no-referrer'],
    ]);
    assert.equal(s?.sts, 'max-age=60');
    assert.equal(parseHttpSecurity({ sts_seconds: 0, sts_include_subdomains: true })?.sts, undefined);
  });
});
