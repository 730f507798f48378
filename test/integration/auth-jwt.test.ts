/**
 * `auth/validator` on real sockets: tokens signed by the test with `jose`, a JWK server started by the
 * test on 127.0.0.1 (HTTP with disable_jwk_security, HTTPS with jwk_local_ca and jwk_fingerprints),
 * a recording upstream. KrakenD's answers (bare 401/403), claims to backend headers and to the
 * url_pattern, the cookie, key rotation and unknown kids, an unreachable JWK server (the gateway
 * starts; tokens get 401), the cache, and the refusals counted in the OpenTelemetry and Kong
 * families without the token or the subject in any label.
 */
import { strict as assert } from 'node:assert';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { request } from 'undici';
import { makeCerts } from '../helpers/certs.js';
import { find, parseSamples, value } from '../helpers/exposition.js';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { makeKey, nowSec, sign, startJwkServer, type TestKey } from '../helpers/jwt.js';
import { deadPort, sendJson, startUpstream, type Upstream } from '../helpers/upstream.js';
import { tempDir } from '../helpers/temp-dir.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/krakend-examples');

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

async function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  const r = await request(url, { headers });
  return { status: r.statusCode, headers: r.headers, text: await r.body.text() };
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

async function recording(t: TestContext): Promise<Upstream> {
  return startUpstream(t, (_req, res) => sendJson(res, 200, { ok: true }));
}

function endpoint(path: string, up: Upstream, validator: Record<string, unknown>, more: Record<string, unknown> = {}) {
  return {
    endpoint: path,
    extra_config: { 'auth/validator': validator },
    backend: [{ host: [up.url], url_pattern: '/seen' }],
    ...more,
  };
}

describe('auth/validator', () => {
  it('answers as KrakenD: 200 with a good token, bare 401 and 403 otherwise; claims reach the backend', async (t) => {
    const rs = await makeKey('RS256', 'rs-1');
    const jwk = await startJwkServer(t, [rs.jwk]);
    const up = await recording(t);
    const gw = await startGateway(t, {
      endpoints: [
        {
          endpoint: '/me',
          input_headers: ['X-User', 'X-Roles', 'X-Email'],
          extra_config: {
            'auth/validator': {
              alg: 'RS256',
              jwk_url: jwk.url,
              disable_jwk_security: true,
              cache: true,
              issuer: 'https://idp',
              audience: ['api'],
              roles_key: 'realm_access.roles',
              roles_key_is_nested: true,
              roles: ['user'],
              propagate_claims: [
                ['sub', 'X-User'],
                ['realm_access.roles', 'X-Roles'],
                ['profile.email', 'X-Email'],
              ],
            },
          },
          backend: [{ host: [up.url], url_pattern: '/users/{JWT.sub}?tenant={JWT.tenant}' }],
        },
      ],
    });
    const claims = {
      iss: 'https://idp',
      aud: 'api',
      sub: 'alice/../admin',
      tenant: 'acme & co',
      realm_access: { roles: ['user', 'admin'] },
      exp: nowSec() + 60,
    };
    const good = await sign(rs, claims);
    const ok = await get(`${gw.url}/me`, { ...bearer(good), 'x-user': 'root', 'x-email': 'spoof@evil' });
    assert.equal(ok.status, 200, ok.text);
    const seen = up.seen.at(-1);
    assert.equal(seen?.url, '/users/alice%2F..%2Fadmin?tenant=acme%20%26%20co', 'claims fill url_pattern, encoded');
    assert.equal(seen?.headers['x-user'], 'alice/../admin', "the claim replaces the client's header");
    assert.equal(seen?.headers['x-roles'], 'user,admin');
    assert.equal(seen?.headers['x-email'], '', 'a missing claim is sent empty, as Header.Set("")');
    assert.equal(seen?.headers.authorization, undefined, 'Authorization is not in input_headers');

    const none = await get(`${gw.url}/me`);
    assert.equal(none.status, 401);
    assert.equal(none.text, '', 'KrakenD answers with the bare status (c.AbortWithStatus)');
    assert.equal(none.headers['www-authenticate'], 'Bearer');
    assert.equal(none.headers['content-type'], undefined);

    const noRole = await get(`${gw.url}/me`, bearer(await sign(rs, { ...claims, realm_access: { roles: ['x'] } })));
    assert.equal(noRole.status, 403);
    assert.equal(noRole.text, '');
    assert.equal(noRole.headers['www-authenticate'], undefined);
    for (const bad of [
      { ...claims, exp: nowSec() - 10 },
      { ...claims, nbf: nowSec() + 60 },
      { ...claims, aud: 'other' },
      { ...claims, iss: 'https://evil' },
    ])
      assert.equal((await get(`${gw.url}/me`, bearer(await sign(rs, bad)))).status, 401, JSON.stringify(bad));
    assert.equal((await get(`${gw.url}/me`, bearer('garbage'))).status, 401);
    const n = up.seen.length;
    assert.equal(n, 1, 'no refused request reached the backend');
    assert.equal(jwk.hits.length, 1, 'with cache, one download served every token');
    assert.match(jwk.hits[0]?.userAgent ?? '', /^Tollgate\//);
  });

  it('verifies RS256, ES256, HS256 and EdDSA tokens; the cookie; the alg must be the configured one', async (t) => {
    const keys: TestKey[] = [
      await makeKey('RS256', 'r'),
      await makeKey('ES256', 'e'),
      await makeKey('HS256', 'h'),
      await makeKey('EdDSA', 'd'),
    ];
    const jwk = await startJwkServer(
      t,
      keys.map((k) => k.jwk),
    );
    const up = await recording(t);
    const base = { jwk_url: jwk.url, disable_jwk_security: true, cache: true };
    const gw = await startGateway(t, {
      endpoints: [
        ...keys.map((k) => endpoint(`/${k.alg}`, up, { ...base, alg: k.alg })),
        endpoint('/cookie', up, { ...base, alg: 'ES256', cookie_key: 'session' }),
        endpoint('/header', up, { ...base, alg: 'ES256', auth_header_name: 'X-Token' }),
      ],
    });
    for (const k of keys) {
      const token = await sign(k, { sub: k.alg });
      assert.equal((await get(`${gw.url}/${k.alg}`, bearer(token))).status, 200, k.alg);
      const other = keys.find((o) => o.alg !== k.alg) as TestKey;
      assert.equal((await get(`${gw.url}/${other.alg}`, bearer(token))).status, 401, `${k.alg} token on ${other.alg}`);
    }
    const es = await sign(keys[1] as TestKey, { sub: 'c' });
    assert.equal((await get(`${gw.url}/cookie`, { cookie: `a=b; session=${es}` })).status, 200);
    assert.equal((await get(`${gw.url}/cookie`, { cookie: `access_token=${es}` })).status, 401);
    assert.equal((await get(`${gw.url}/ES256`, { cookie: `access_token=${es}` })).status, 200, 'the default cookie');
    assert.equal((await get(`${gw.url}/header`, { 'x-token': es })).status, 200);
    assert.equal((await get(`${gw.url}/header`, bearer(es))).status, 401);
    // A huge token: within Node's header limit it is checked (401), past it the request is 431.
    const huge = await sign(keys[1] as TestKey, { sub: 'x', pad: 'p'.repeat(12_000) });
    assert.equal((await get(`${gw.url}/ES256`, bearer(huge))).status, 200);
    assert.equal((await get(`${gw.url}/ES256`, bearer(`${huge.slice(0, -3)}AAA`))).status, 401);
    assert.equal((await get(`${gw.url}/ES256`, bearer('a'.repeat(40_000)))).status, 431);
  });

  it('rotation: a token naming a new kid downloads the set again; a removed key stops verifying', async (t) => {
    const k1 = await makeKey('ES256', 'k1');
    const k2 = await makeKey('ES256', 'k2');
    const jwk = await startJwkServer(t, [k1.jwk]);
    const up = await recording(t);
    const gw = await startGateway(t, {
      endpoints: [
        endpoint('/a', up, {
          alg: 'ES256',
          jwk_url: jwk.url,
          disable_jwk_security: true,
          cache: true,
          failed_jwk_key_cooldown: '1h',
        }),
      ],
    });
    const t1 = await sign(k1, { sub: 'one' });
    assert.equal((await get(`${gw.url}/a`, bearer(t1))).status, 200);
    assert.equal(jwk.hits.length, 1);
    // Unknown kids: one download, then the cooldown and the 1 s floor keep the JWK server quiet.
    const stranger = await makeKey('ES256', 'nobody');
    for (let i = 0; i < 20; i++) {
      const tok = await sign(stranger, { sub: 'x' }, { kid: `random-${i}` });
      assert.equal((await get(`${gw.url}/a`, bearer(tok))).status, 401);
    }
    assert.ok(jwk.hits.length <= 2, `${jwk.hits.length} downloads for 20 random kids`);
    await new Promise((r) => setTimeout(r, 1_100));
    jwk.keys = [k2.jwk];
    const t2 = await sign(k2, { sub: 'two' });
    assert.equal((await get(`${gw.url}/a`, bearer(t2))).status, 200, 'the new key is fetched');
    assert.equal((await get(`${gw.url}/a`, bearer(t1))).status, 401, 'the removed key no longer verifies');
  });

  it('an unreachable JWK server: the gateway starts, tokens get 401, and it recovers when the server is back', async (t) => {
    const key = await makeKey('HS256', 'h');
    const port = await deadPort();
    const up = await recording(t);
    const url = `http://127.0.0.1:${port}/jwks.json`;
    const gw = await startGateway(t, {
      endpoints: [endpoint('/a', up, { alg: 'HS256', jwk_url: url, disable_jwk_security: true, cache: true })],
    });
    const token = await sign(key, { sub: 'x' });
    assert.equal((await get(`${gw.url}/a`, bearer(token))).status, 401);
    const jwk = await startJwkServer(t, [key.jwk]);
    const gw2 = await startGateway(t, {
      endpoints: [endpoint('/a', up, { alg: 'HS256', jwk_url: jwk.url, disable_jwk_security: true })],
    });
    jwk.status = 500;
    jwk.contentType = 'text/html';
    assert.equal((await get(`${gw2.url}/a`, bearer(token))).status, 401, 'an error page is no key set');
    jwk.status = 200;
    jwk.contentType = 'application/json';
    assert.equal(
      (await get(`${gw2.url}/a`, bearer(token))).status,
      401,
      'no new download within a second of a failure',
    );
    assert.equal(jwk.hits.length, 1);
    await new Promise((r) => setTimeout(r, 1_100));
    assert.equal((await get(`${gw2.url}/a`, bearer(token))).status, 200, 'back');
    assert.equal((await get(`${gw2.url}/a`, bearer(token))).status, 200);
    assert.equal(jwk.hits.length, 3, 'without cache, KrakenD downloads the set for every token');
  });

  it('a client that leaves while the key set downloads is not proxied', async (t) => {
    const key = await makeKey('HS256', 'h');
    const jwk = await startJwkServer(t, [key.jwk]);
    jwk.delayMs = 300;
    const up = await recording(t);
    const gw = await startGateway(t, {
      endpoints: [endpoint('/a', up, { alg: 'HS256', jwk_url: jwk.url, disable_jwk_security: true })],
    });
    const token = await sign(key, { sub: 'x' });
    const socket = connect(gw.port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write(`GET /a HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`);
    await new Promise((r) => setTimeout(r, 50));
    socket.destroy();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(jwk.hits.length, 1);
    assert.equal(up.seen.length, 0, 'the backend never saw the request of a client that left');
    assert.equal((await get(`${gw.url}/a`, bearer(token))).status, 200, 'the gateway still serves');
  });

  it('HTTPS JWK server: the system CAs plus jwk_local_ca, and jwk_fingerprints pinning', async (t) => {
    const certs = makeCerts();
    const key = await makeKey('RS256', 'r');
    const jwk = await startJwkServer(t, [key.jwk], {
      cert: certs.pem(certs.serverCert),
      key: certs.pem(certs.serverKey),
    });
    const up = await recording(t);
    const spki = new X509Certificate(certs.pem(certs.serverCert)).publicKey.export({ type: 'spki', format: 'der' });
    const pin = createHash('sha256').update(spki).digest('base64url');
    const padded = pin + '='.repeat((4 - (pin.length % 4)) % 4);
    const https = { alg: 'RS256', jwk_url: jwk.url };
    const gw = await startGateway(t, {
      endpoints: [
        endpoint('/untrusted', up, https),
        endpoint('/ca', up, { ...https, jwk_local_ca: certs.caCert }),
        endpoint('/pinned', up, { ...https, jwk_local_ca: certs.caCert, jwk_fingerprints: [padded] }),
        endpoint('/mispinned', up, { ...https, jwk_local_ca: certs.caCert, jwk_fingerprints: ['AAAA'] }),
        endpoint('/insecure', up, { ...https, disable_jwk_security: true }),
      ],
    });
    const token = await sign(key, { sub: 'x' });
    const status = async (p: string): Promise<number> => (await get(`${gw.url}${p}`, bearer(token))).status;
    assert.equal(await status('/untrusted'), 401, 'a certificate the system does not trust');
    assert.equal(await status('/ca'), 200);
    assert.equal(await status('/pinned'), 200);
    assert.equal(await status('/mispinned'), 401);
    assert.equal(await status('/insecure'), 200, 'disable_jwk_security skips verification, as InsecureSkipVerify');
  });

  it("the validators of KrakenD's example files run as written (only the JWK URL points at the test's server)", async (t) => {
    const blocks: Record<string, unknown>[] = [];
    for (const f of [
      'krakend-ce-default.json',
      'krakend-ce-integration.json',
      'playground-community.json',
      'playground-enterprise.json',
    ]) {
      const raw = JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')) as { endpoints: { extra_config?: object }[] };
      for (const ep of raw.endpoints) {
        const v = (ep.extra_config as Record<string, unknown> | undefined)?.['auth/validator'];
        if (v !== undefined) blocks.push(v as Record<string, unknown>);
      }
    }
    assert.equal(blocks.length, 8);
    const up = await recording(t);
    const keys = { RS256: await makeKey('RS256', 'rs'), HS256: await makeKey('HS256', 'hs') };
    const jwk = await startJwkServer(t, [keys.RS256.jwk, keys.HS256.jwk]);
    const gw = await startGateway(t, {
      endpoints: blocks.map((b, i) =>
        endpoint(`/e${i}`, up, { ...b, jwk_url: jwk.url, disable_jwk_security: true }, { input_headers: ['*'] }),
      ),
    });
    for (const [i, b] of blocks.entries()) {
      const key = keys[b.alg as 'RS256' | 'HS256'];
      const rolesKey = String(b.roles_key ?? 'roles');
      const roles = (b.roles as string[] | undefined) ?? [];
      const withRoles = (r: string[]): Record<string, unknown> =>
        b.roles_key_is_nested === true
          ? { [rolesKey.split('.')[0] as string]: { [rolesKey.split('.')[1] as string]: r } }
          : { [rolesKey]: r };
      const granted = roles.length > 0 ? roles : ['moderator'];
      const claims = {
        sub: `user-${i}`,
        iss: b.issuer,
        aud: b.audience,
        email: 'u@example.com',
        ...withRoles(granted),
      };
      const ok = await get(`${gw.url}/e${i}`, bearer(await sign(key, claims)));
      assert.equal(ok.status, 200, `block ${i}: ${JSON.stringify(b)}`);
      if (roles.length > 0) {
        const no = await get(`${gw.url}/e${i}`, bearer(await sign(key, { ...claims, ...withRoles(['nobody']) })));
        assert.equal(no.status, 403, `block ${i} without its roles`);
      }
    }
    const propagated = up.seen.find((s) => s.headers['x-user-id'] !== undefined);
    assert.equal(propagated?.headers['x-user-id'], 'u@example.com', 'playground-enterprise propagates email');
    assert.equal(propagated?.headers['x-role'], 'moderator');
  });

  it('jwk_local_path, scopes any/all, and refusals counted in every family without the token or subject', async (t) => {
    const key = await makeKey('ES256', 'local');
    const dir = tempDir('tollgate-jwks-');
    const file = join(dir, 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [key.jwk] }));
    const up = await recording(t);
    const local = { alg: 'ES256', jwk_local_path: file, disable_jwk_security: true };
    const gw: RunningGateway = await startGateway(t, {
      extra_config: {
        'telemetry/opentelemetry': {
          service_name: 'jwt-test',
          exporters: { prometheus: [{ name: 'local', port: 0, listen_ip: '127.0.0.1' }] },
        },
        'telemetry/kong-prometheus': { listen_address: '127.0.0.1:0', status_code_metrics: true },
      },
      endpoints: [
        endpoint('/any', up, { ...local, scopes_key: 'scope', scopes: ['read', 'admin'] }),
        endpoint('/all', up, { ...local, scopes_key: 'scope', scopes: ['read', 'admin'], scopes_matcher: 'all' }),
      ],
    });
    const subject = 'subject-S3CR3T';
    const token = await sign(key, { sub: subject, scope: 'read write' });
    assert.equal((await get(`${gw.url}/any`, bearer(token))).status, 200);
    assert.equal((await get(`${gw.url}/all`, bearer(token))).status, 403);
    assert.equal((await get(`${gw.url}/all`, bearer(token))).status, 403);
    assert.equal((await get(`${gw.url}/any`)).status, 401);

    const otelPort = gw.gateway.telemetry.exporters[0]?.address?.port;
    const otel = await get(`http://127.0.0.1:${otelPort}/metrics`);
    const samples = parseSamples(otel.text);
    const route = (r: string, code: string) => ({ http_route: r, http_response_status_code: code });
    assert.equal(value(samples, 'http_server_duration_count', route('/all', '403')), 2);
    assert.equal(value(samples, 'http_server_duration_count', route('/any', '401')), 1);
    assert.equal(value(samples, 'http_server_duration_count', route('/any', '200')), 1);
    assert.equal(find(samples, 'krakend_proxy_duration_count', { http_route: '/all' }).length, 0, 'never proxied');
    const kongPort = gw.gateway.telemetry.kongStatus?.address?.port;
    const kong = await get(`http://127.0.0.1:${kongPort}/metrics`);
    const ks = parseSamples(kong.text);
    assert.equal(value(ks, 'kong_http_requests_total', { route: '/all', code: '403', consumer: '' }), 2);
    assert.equal(value(ks, 'kong_http_requests_total', { route: '/any', code: '401', consumer: '' }), 1);
    for (const text of [otel.text, kong.text, JSON.stringify(gw.logs)]) {
      assert.ok(!text.includes(subject), 'the subject is in no label and no log line');
      assert.ok(!text.includes(token.split('.')[2] as string), 'nor the token');
    }
  });
});
