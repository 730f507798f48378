/**
 * An endpoint's JWT validator with real keys and tokens signed by `jose` (RS256, PS256, ES256, HS256,
 * EdDSA): good tokens pass; hostile ones get 401 with a fixed reason (alg none, another algorithm,
 * the RSA public key used as an HMAC secret, a tampered payload, garbage, expired, not yet valid,
 * issued in the future, another issuer or audience, registered claims of the wrong type); roles and
 * scopes give 403. A verified token is remembered, and forgotten when its key goes.
 */
import { strict as assert } from 'node:assert';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { UnsecuredJWT, type JWK } from 'jose';
import { JwtValidators } from '../../../src/auth/jwt-validators.js';
import type { JwtVerdict } from '../../../src/auth/jwt-validator.js';
import { parseAuthValidator, type JwtValidatorSettings } from '../../../src/config/namespaces/auth-validator.js';
import { createLogger } from '../../../src/log/logger.js';
import { makeKey, nowSec, sign, type TestAlg, type TestKey } from '../../helpers/jwt.js';

const silent = createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() }));

function settings(raw: Record<string, unknown>, keys: JWK[]): JwtValidatorSettings {
  const parsed = parseAuthValidator({ jwk_url: 'https://idp.invalid/jwks', ...raw });
  return { ...parsed, origin: { kind: 'file', path: '(memory)', jwks: { keys } } };
}

function validator(raw: Record<string, unknown>, keys: JWK[]) {
  return new JwtValidators({ userAgent: 'test', logger: silent }).forEndpoint(settings(raw, keys));
}

async function verdict(v: ReturnType<typeof validator>, token: string | undefined): Promise<JwtVerdict> {
  return v.check(token === undefined ? {} : { authorization: `Bearer ${token}` });
}

const refused = (status: 401 | 403, reason: string): JwtVerdict => ({ ok: false, status, reason }) as JwtVerdict;

describe('JWT validator', () => {
  for (const alg of ['RS256', 'PS256', 'ES256', 'HS256', 'EdDSA'] as TestAlg[]) {
    it(`${alg}: accepts a good token and refuses a tampered one`, async () => {
      const key = await makeKey(alg, `${alg}-1`);
      const v = validator({ alg }, [key.jwk]);
      const token = await sign(key, { sub: 'alice', exp: nowSec() + 60 });
      const ok = await verdict(v, token);
      assert.ok(ok.ok, JSON.stringify(ok));
      assert.equal(ok.claims.sub, 'alice');
      const [h, p, s] = token.split('.') as [string, string, string];
      const evil = Buffer.from(JSON.stringify({ sub: 'mallory', exp: nowSec() + 60 })).toString('base64url');
      assert.deepEqual(await verdict(v, `${h}.${evil}.${s}`), refused(401, 'bad signature'));
      assert.deepEqual(await verdict(v, `${h}.${p}.${s.slice(0, -4)}AAAA`), refused(401, 'bad signature'));
    });
  }

  it('refuses alg none, another algorithm and the RSA public key used as an HMAC secret', async () => {
    const rsa = await makeKey('RS256', 'k');
    const v = validator({ alg: 'RS256' }, [rsa.jwk]);
    const none = new UnsecuredJWT({ sub: 'x' }).encode();
    assert.deepEqual(await verdict(v, none), refused(401, 'wrong algorithm'));
    const ps = await makeKey('RS384', 'k');
    assert.deepEqual(await verdict(v, await sign(ps, { sub: 'x' })), refused(401, 'wrong algorithm'));
    // The classic confusion: an HS256 token whose secret is the server's public key.
    const hmac: TestKey = { alg: 'HS256', kid: 'k', signing: Buffer.from(JSON.stringify(rsa.jwk)), jwk: {} };
    assert.deepEqual(await verdict(v, await sign(hmac, { sub: 'x' })), refused(401, 'wrong algorithm'));
    // An HS256 endpoint never uses an RSA JWK as a secret either.
    const hs = validator({ alg: 'HS256' }, [rsa.jwk]);
    assert.deepEqual(await verdict(hs, await sign(hmac, { sub: 'x' })), refused(401, 'unknown key'));
  });

  it('refuses garbage, a missing token and an unknown kid', async () => {
    const key = await makeKey('ES256', 'k');
    const v = validator({ alg: 'ES256' }, [key.jwk]);
    assert.deepEqual(await verdict(v, undefined), refused(401, 'no token'));
    for (const g of ['abc', 'a.b.c', '...', 'eyJhbGciOiJFUzI1NiJ9', 'eyJhbGciOiJFUzI1NiJ9.e30', '%%%.%%%.%%%'])
      assert.equal((await verdict(v, g)).ok, false, g);
    const header = Buffer.from('{"alg":"ES256","kid":"k"}').toString('base64url');
    assert.deepEqual(await verdict(v, `${header}.${'A'.repeat(12_000)}.AAAA`), refused(401, 'bad signature'));
    const other = await makeKey('ES256', 'other');
    assert.deepEqual(await verdict(v, await sign(other, { sub: 'x' })), refused(401, 'unknown key'));
  });

  it('checks exp, nbf and iat with the leeway (1 s at least), as go-jose', async () => {
    const key = await makeKey('HS256', 'k');
    const v = validator({ alg: 'HS256' }, [key.jwk]);
    const now = nowSec();
    assert.deepEqual(await verdict(v, await sign(key, { exp: now - 5 })), refused(401, 'expired'));
    assert.deepEqual(await verdict(v, await sign(key, { nbf: now + 30 })), refused(401, 'not yet valid'));
    assert.deepEqual(await verdict(v, await sign(key, { iat: now + 30 })), refused(401, 'issued in the future'));
    // A fresh reading: on a loaded machine the lines above may take longer than the leeway.
    const at = nowSec();
    assert.ok((await verdict(v, await sign(key, { exp: at, nbf: at, iat: at }))).ok, 'within the 1 s leeway');
    const lenient = validator({ alg: 'HS256', leeway: '1m' }, [key.jwk]);
    assert.ok((await verdict(lenient, await sign(key, { exp: now - 30 }))).ok);
    assert.ok((await verdict(v, await sign(key, { sub: 'no exp' }))).ok, 'exp is optional, as in KrakenD');
  });

  it('checks iss exactly and requires every configured audience', async () => {
    const key = await makeKey('HS256', 'k');
    const v = validator({ alg: 'HS256', issuer: 'https://idp', audience: ['api', 'web'] }, [key.jwk]);
    assert.ok((await verdict(v, await sign(key, { iss: 'https://idp', aud: ['web', 'x', 'api'] }))).ok);
    assert.deepEqual(
      await verdict(v, await sign(key, { iss: 'https://idp', aud: ['api'] })),
      refused(401, 'wrong audience'),
    );
    assert.deepEqual(
      await verdict(v, await sign(key, { iss: 'https://evil', aud: ['api', 'web'] })),
      refused(401, 'wrong issuer'),
    );
    assert.deepEqual(await verdict(v, await sign(key, { aud: ['api', 'web'] })), refused(401, 'wrong issuer'));
    const single = validator({ alg: 'HS256', audience: ['api'] }, [key.jwk]);
    assert.ok((await verdict(single, await sign(key, { aud: 'api' }))).ok, 'a string aud');
  });

  it('refuses registered claims of the wrong type and a payload that is not an object', async () => {
    const key = await makeKey('HS256', 'k');
    const v = validator({ alg: 'HS256' }, [key.jwk]);
    for (const bad of [{ exp: '9999999999' }, { sub: 42 }, { iss: ['a'] }, { aud: [1] }, { jti: {} }])
      assert.deepEqual(await verdict(v, await sign(key, bad)), refused(401, 'malformed claims'), JSON.stringify(bad));
    assert.ok((await verdict(v, await sign(key, { exp: null, sub: null }))).ok, 'null is absent, as for Go pointers');
  });

  it('roles (nested) and scopes (any, all) give 403', async () => {
    const key = await makeKey('HS256', 'k');
    const claims = { realm_access: { roles: ['moderator'] }, scope: 'read write' };
    const token = await sign(key, claims);
    const ok = (raw: Record<string, unknown>) => verdict(validator({ alg: 'HS256', ...raw }, [key.jwk]), token);
    assert.ok((await ok({ roles_key: 'realm_access.roles', roles_key_is_nested: true, roles: ['moderator'] })).ok);
    assert.deepEqual(await ok({ roles_key: 'realm_access.roles', roles: ['moderator'] }), refused(403, 'missing role'));
    assert.deepEqual(await ok({ roles: ['admin'] }), refused(403, 'missing role'));
    assert.ok((await ok({ scopes_key: 'scope', scopes: ['write', 'delete'] })).ok);
    assert.deepEqual(
      await ok({ scopes_key: 'scope', scopes: ['write', 'delete'], scopes_matcher: 'all' }),
      refused(403, 'missing scope'),
    );
    assert.ok((await ok({ scopes: ['nothing'] })).ok, 'scopes without scopes_key are not checked (gin/jose.go:109)');
  });

  it('remembers a verified token (synchronous answer) and forgets it when its key is gone', async () => {
    const key = await makeKey('ES256', 'k');
    const v = validator({ alg: 'ES256' }, [key.jwk]);
    const token = await sign(key, { sub: 'a', exp: nowSec() + 60 });
    const first = v.check({ authorization: `Bearer ${token}` });
    assert.ok(first instanceof Promise, 'the first check verifies the signature');
    assert.ok((await first).ok);
    const again = v.check({ authorization: `Bearer ${token}` });
    assert.ok(!(again instanceof Promise) && again.ok, 'the second is answered at once');
    // The same token on an endpoint with stricter claims is still refused: claims are checked every time.
    const strict = validator({ alg: 'ES256', issuer: 'x' }, [key.jwk]);
    assert.deepEqual(await verdict(strict, token), refused(401, 'wrong issuer'));
  });
});
