/**
 * The key cache of a JWK set (krakend-jose's rules, with Tollgate's bounds): `cache: false` downloads
 * for every token but one download at a time; `cache` keeps keys `cache_duration`, an unknown
 * identifier downloads again at most once per floor, `failed_jwk_key_cooldown` stops asking again
 * for an identifier; keys are identified by kid, x5t, x5t#S256 or kid+x5t; a JWK that cannot verify
 * the algorithm is skipped.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { JWK } from 'jose';
import {
  importVerifyKey,
  JwkSource,
  jwkIdentity,
  MAX_KEYS,
  tokenKeyId,
  type JwkSourceOptions,
} from '../../../src/auth/jwk-keys.js';
import { makeKey } from '../../helpers/jwt.js';

interface Harness {
  readonly source: JwkSource;
  readonly loads: () => number;
  set: (keys: unknown[] | Error) => void;
  tick: (ms: number) => void;
  readonly errors: unknown[];
}

function harness(opts: Partial<JwkSourceOptions>, initial: unknown[] | Error): Harness {
  let now = 1_000_000;
  let keys: unknown[] | Error = initial;
  let loads = 0;
  const errors: unknown[] = [];
  const source = new JwkSource({
    alg: 'ES256',
    strategy: 'kid',
    cacheMs: 0,
    cooldownMs: 0,
    refreshFloorMs: 1000,
    local: false,
    load: async () => {
      loads++;
      await new Promise((r) => setImmediate(r));
      if (keys instanceof Error) throw keys;
      return keys;
    },
    onError: (e) => errors.push(e),
    now: () => now,
    ...opts,
  });
  return {
    source,
    loads: () => loads,
    set: (k) => (keys = k),
    tick: (ms) => (now += ms),
    errors,
  };
}

const a = await makeKey('ES256', 'a');
const b = await makeKey('ES256', 'b');

describe('JWK key source', () => {
  it('cache: false downloads for every token, sharing the download in flight', async () => {
    const h = harness({}, [a.jwk]);
    const burst = await Promise.all(Array.from({ length: 50 }, () => h.source.lookup('a')));
    assert.ok(burst.every((r) => r.ok));
    assert.equal(h.loads(), 1, '50 waiting tokens, one download');
    assert.equal(h.source.peek('a'), undefined, 'no key outlives its download without cache');
    await h.source.lookup('a');
    assert.equal(h.loads(), 2);
  });

  it('cache keeps the keys cache_duration, then downloads again', async () => {
    const h = harness({ cacheMs: 60_000 }, [a.jwk]);
    assert.ok((await h.source.lookup('a')).ok);
    assert.notEqual(h.source.peek('a'), undefined);
    h.tick(59_000);
    assert.ok((await h.source.lookup('a')).ok);
    assert.equal(h.loads(), 1);
    h.tick(2_000);
    assert.equal(h.source.peek('a'), undefined, 'expired');
    h.set([b.jwk]);
    assert.deepEqual(await h.source.lookup('a'), { ok: false, reason: 'unknown key' }, 'removed at once');
    assert.ok((await h.source.lookup('b')).ok);
    assert.equal(h.loads(), 2);
  });

  it('an unknown identifier downloads again (rotation), at most once per floor under a flood', async () => {
    const h = harness({ cacheMs: 600_000 }, [a.jwk]);
    await h.source.lookup('a');
    h.tick(1_500);
    h.set([a.jwk, b.jwk]);
    assert.ok((await h.source.lookup('b')).ok, 'the rotated key is fetched');
    assert.equal(h.loads(), 2);
    for (let i = 0; i < 200; i++) assert.equal((await h.source.lookup(`random-${i}`)).ok, false);
    assert.equal(h.loads(), 2, 'random identifiers within the floor download nothing');
    h.tick(1_001);
    await Promise.all(Array.from({ length: 100 }, (_, i) => h.source.lookup(`r2-${i}`)));
    assert.equal(h.loads(), 3, 'after the floor, one download for the whole burst');
    assert.ok((await h.source.lookup('a')).ok, 'known keys still verify during a flood');
    assert.equal((await h.source.lookup('x'.repeat(300))).ok, false);
    assert.equal(h.loads(), 3, 'an over-long identifier is never looked up');
  });

  it('failed_jwk_key_cooldown: an identifier that failed is not asked for again within it', async () => {
    const h = harness({ cacheMs: 0, cooldownMs: 10_000 }, [a.jwk]);
    assert.equal((await h.source.lookup('zz')).ok, false);
    assert.equal((await h.source.lookup('zz')).ok, false);
    assert.equal(h.loads(), 1);
    h.tick(10_001);
    assert.equal((await h.source.lookup('zz')).ok, false);
    assert.equal(h.loads(), 2);
  });

  it('an unreachable set answers "jwk unavailable", reports the error, pauses a second and recovers', async () => {
    const h = harness({ cacheMs: 60_000 }, new Error('ECONNREFUSED'));
    assert.deepEqual(await h.source.lookup('a'), { ok: false, reason: 'jwk unavailable' });
    assert.equal(h.errors.length, 1);
    h.set([a.jwk]);
    assert.deepEqual(await h.source.lookup('a'), { ok: false, reason: 'jwk unavailable' }, 'a pause after a failure');
    assert.equal(h.loads(), 1);
    h.tick(1_001);
    assert.ok((await h.source.lookup('a')).ok);
    assert.equal(h.loads(), 2);
  });

  it('keeps at most MAX_KEYS keys and skips JWKs that cannot verify the algorithm', async () => {
    const many = Array.from({ length: MAX_KEYS + 5 }, (_, i) => ({ ...a.jwk, kid: `k${i}` }));
    const rsa = await makeKey('RS256', 'rsa');
    const h = harness({ cacheMs: 60_000 }, [...many, rsa.jwk, { kty: 'EC', kid: 'bad', crv: 'P-256', x: 'AA' }]);
    assert.ok((await h.source.lookup('k0')).ok);
    assert.notEqual(h.source.peek(`k${MAX_KEYS - 1}`), undefined);
    assert.equal(h.source.peek(`k${MAX_KEYS}`), undefined);
    assert.equal(await importVerifyKey(rsa.jwk as Record<string, unknown>, 'ES256'), undefined);
    assert.equal(await importVerifyKey({ kty: 'EC', crv: 'P-256', x: 'AA' }, 'ES256'), undefined);
    assert.equal(await importVerifyKey({ kty: 'RSA', n: 'AQAB', e: 'AQAB' }, 'HS256'), undefined);
  });

  it('a local set is loaded once and an unknown kid never downloads', async () => {
    const h = harness({ local: true }, [a.jwk]);
    assert.ok((await h.source.lookup('a')).ok);
    assert.equal((await h.source.lookup('b')).ok, false);
    assert.equal(h.loads(), 1);
    assert.notEqual(h.source.peek('a'), undefined);
  });

  it('identifies keys by kid, x5t, x5t#S256 and kid_x5t as krakend-jose does', () => {
    const sha1 = createHash('sha1').update('cert').digest();
    const sha256 = createHash('sha256').update('cert').digest();
    const jwk: JWK = {
      kty: 'EC',
      kid: 'k1',
      x5t: sha1.toString('base64url'),
      'x5t#S256': sha256.toString('base64url'),
    };
    const rec = jwk as Record<string, unknown>;
    assert.equal(jwkIdentity(rec, 'kid'), 'k1');
    assert.equal(jwkIdentity(rec, 'x5t'), sha1.toString('base64url'));
    assert.equal(jwkIdentity(rec, 'x5t#S256'), sha256.toString('base64url'));
    assert.equal(jwkIdentity(rec, 'kid_x5t'), `k1${sha1.toString('base64url')}`);
    // A hex thumbprint inside base64url (some identity providers) is read as go-jose reads it.
    const hexInB64 = Buffer.from(sha1.toString('hex')).toString('base64url');
    assert.equal(jwkIdentity({ x5t: hexInB64 }, 'x5t'), sha1.toString('base64url'));
    assert.equal(tokenKeyId({ kid: 'k1', x5t: 'T' }, 'x5t'), 'T');
    assert.equal(tokenKeyId({ kid: 'k1' }, 'x5t'), 'k1', 'falls back to kid');
    assert.equal(tokenKeyId({ kid: 'k1', x5t: 'T' }, 'kid_x5t'), 'k1T');
    assert.equal(tokenKeyId({ kid: 'k1', 'x5t#S256': 'S' }, 'x5t#S256'), 'S');
    assert.equal(tokenKeyId({}, 'kid'), '');
  });
});
