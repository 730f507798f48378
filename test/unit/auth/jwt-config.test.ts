/**
 * `auth/validator` in a config file: enforced (no longer refused as unenforced), read under its legacy
 * name too, validated once at load with every wrong field reported at its path (KrakenD's own
 * start-up rules: https jwk_url unless disable_jwk_security, no cache with a local file, readable
 * files), its unimplemented keys refused like other unenforced settings.
 */
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfigValue } from '../../../src/config/load.js';
import { parseAuthValidator } from '../../../src/config/namespaces/auth-validator.js';
import { tempDir } from '../../helpers/temp-dir.js';

function config(validator: unknown, root: Record<string, unknown> = {}, ns = 'auth/validator'): unknown {
  return {
    version: 3,
    ...root,
    endpoints: [
      {
        endpoint: '/a',
        extra_config: { [ns]: validator },
        backend: [{ host: ['http://127.0.0.1:9'], url_pattern: '/a' }],
      },
    ],
  };
}

function issues(value: unknown): { code: string; list: string[] } {
  try {
    loadConfigValue(value, 'c.json');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return { code: err.code, list: err.issues.map((i) => `${i.path}: ${i.message}`) };
  }
  assert.fail('expected the config to be refused');
}

const at = 'endpoints[0].extra_config["auth/validator"]';

describe('auth/validator config', () => {
  it('loads a KrakenD validator without a refusal, at the endpoint and the root, and under its legacy name', () => {
    const v = { alg: 'RS256', jwk_url: 'https://idp.example/jwks.json', cache: true, roles: ['a'] };
    const loaded = loadConfigValue(
      config(v, { extra_config: { 'auth/validator': { shared_cache_duration: 900 } } }),
      'c.json',
    );
    assert.deepEqual(loaded.warnings, []);
    const legacy = loadConfigValue(config(v, {}, 'github.com/devopsfaith/krakend-jose/validator'), 'c.json');
    assert.ok(isRecord(legacy.config.endpoints[0]?.extraConfig['auth/validator']));
  });

  it('reports every wrong field with its path, at once', () => {
    const r = issues(config({ alg: 'RS512x', jwk_url: 3, cache_duration: -1, scopes_matcher: 'some', leeway: 'soon' }));
    assert.equal(r.code, 'TG_ERR_CONFIG_INVALID');
    for (const p of ['alg', 'jwk_url', 'cache_duration', 'scopes_matcher', 'leeway'])
      assert.ok(
        r.list.some((l) => l.startsWith(`${at}.${p}: `)),
        `${p} in ${r.list.join('\n')}`,
      );
    assert.ok(issues(config({ jwk_url: 'https://x' })).list.includes(`${at}.alg: is required`));
  });

  it('applies KrakenD start-up rules: https unless disable_jwk_security, a key source, no cache with a file', () => {
    assert.deepEqual(issues(config({ alg: 'RS256', jwk_url: 'http://idp/jwks' })).list, [
      `${at}.jwk_url: must be an https:// URL (set "disable_jwk_security": true to allow http://)`,
    ]);
    loadConfigValue(config({ alg: 'RS256', jwk_url: 'http://idp/jwks', disable_jwk_security: true }), 'c.json');
    assert.ok(issues(config({ alg: 'RS256' })).list.some((l) => l.endsWith('needs jwk_url or jwk_local_path')));
    const dir = tempDir('tollgate-jwk-');
    const file = join(dir, 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [] }));
    const local = { alg: 'HS256', jwk_local_path: file, disable_jwk_security: true };
    loadConfigValue(config(local), 'c.json');
    assert.deepEqual(issues(config({ ...local, cache: true })).list, [
      `${at}.cache: cannot be used with jwk_local_path (jwk.go:61)`,
    ]);
    assert.match(
      issues(config({ alg: 'HS256', jwk_local_path: file })).list.join(),
      /jwk_local_path: needs "disable_jwk_security"/,
    );
    writeFileSync(join(dir, 'bad.json'), '{"nokeys": 1}');
    assert.match(issues(config({ ...local, jwk_local_path: join(dir, 'bad.json') })).list.join(), /is not a JWK set/);
    assert.match(issues(config({ ...local, jwk_local_path: join(dir, 'none.json') })).list.join(), /ENOENT/);
    const more = issues(
      config({
        alg: 'RS256',
        jwk_url: 'https://idp/jwks',
        jwk_local_ca: join(dir, 'none.pem'),
        jwk_fingerprints: ['not base64!'],
        auth_header_name: 'Bad Header',
        propagate_claims: [['sub', 'x user']],
      }),
    ).list;
    for (const p of ['jwk_local_ca', 'jwk_fingerprints[0]', 'auth_header_name', 'propagate_claims[0][1]'])
      assert.ok(
        more.some((l) => l.startsWith(`${at}.${p}: `)),
        `${p} in ${more.join('\n')}`,
      );
  });

  it('refuses the keys Tollgate does not implement, like any unenforced setting', () => {
    const r = issues(config({ alg: 'RS256', jwk_url: 'https://idp/jwks', cipher_suites: [49199] }));
    assert.equal(r.code, 'TG_ERR_CONFIG_UNENFORCED');
    assert.match(r.list[0] ?? '', /auth\/validator"\]\.cipher_suites: not enforced by Tollgate/);
  });

  it("parses KrakenD's defaults", () => {
    const s = parseAuthValidator({ alg: 'RS256', jwk_url: 'https://x/j' });
    assert.equal(s.cacheMs, 0, 'no cache unless cache: true');
    assert.equal(parseAuthValidator({ alg: 'RS256', jwk_url: 'https://x/j', cache: true }).cacheMs, 900_000);
    assert.equal(
      parseAuthValidator({ alg: 'RS256', jwk_url: 'https://x/j', cache: true, cache_duration: 5 }).cacheMs,
      5000,
    );
    assert.equal(s.rolesKey, 'roles');
    assert.equal(s.authHeader, 'authorization');
    assert.equal(s.cookieKey, 'access_token');
    assert.equal(s.leewaySec, 1);
    assert.equal(s.strategy, 'kid');
    assert.equal(
      parseAuthValidator({ alg: 'RS256', jwk_url: 'https://x/j', failed_jwk_key_cooldown: '500ms' }).cooldownMs,
      0,
    );
    const nested = (k: string) =>
      parseAuthValidator({ alg: 'RS256', jwk_url: 'https://x/j', roles_key: k, roles_key_is_nested: true }).rolesNested;
    assert.equal(nested('a.b'), true);
    assert.equal(nested('http://x.io/roles'), false, 'gin/jose.go:99');
    assert.deepEqual(parseAuthValidator({ alg: 'RS256', jwk_url: 'https://x/j', scopes: ['a'] }).scopes, []);
  });
});

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
