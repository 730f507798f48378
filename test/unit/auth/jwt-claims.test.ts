/**
 * What krakend-jose asks of a token's claims (`jose.go`): roles in a list or a space-separated string,
 * nested roles only with `roles_key_is_nested`, scopes any/all with dotted keys always nested, and the
 * text Go prints for each claim type when it goes to a header or a url_pattern; where the token is read
 * (`gin/jose.go` FromHeader, FromCookie).
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ClaimText, hasRole, hasScopes } from '../../../src/auth/jwt-claims.js';
import { tokenOf } from '../../../src/auth/jwt-token.js';
import { goJson } from '../../../src/proxy/go-json.js';

const text = new ClaimText(goJson);

describe('JWT roles (CanAccess, CanAccessNested)', () => {
  it('passes without required roles, needs one of them otherwise', () => {
    assert.equal(hasRole({}, 'roles', false, []), true);
    assert.equal(hasRole({ roles: ['a', 'b'] }, 'roles', false, ['c', 'b']), true);
    assert.equal(hasRole({ roles: ['a'] }, 'roles', false, ['c']), false);
    assert.equal(hasRole({}, 'roles', false, ['a']), false);
  });

  it('reads a space-separated string, and never matches other types', () => {
    assert.equal(hasRole({ roles: 'user admin' }, 'roles', false, ['admin']), true);
    assert.equal(hasRole({ roles: 'user admin' }, 'roles', false, ['adm']), false);
    assert.equal(hasRole({ roles: 7 }, 'roles', false, ['7']), false);
    assert.equal(hasRole({ roles: [1, 'x'] }, 'roles', false, ['x']), true);
    assert.equal(hasRole({ roles: { admin: true } }, 'roles', false, ['admin']), false);
  });

  it('walks a dotted key only when nested, and fails on a missing or non-object step', () => {
    const claims = { realm_access: { roles: ['moderator'] }, 'realm_access.roles': ['flat'] };
    assert.equal(hasRole(claims, 'realm_access.roles', true, ['moderator']), true);
    assert.equal(hasRole(claims, 'realm_access.roles', false, ['moderator']), false);
    assert.equal(hasRole(claims, 'realm_access.roles', false, ['flat']), true);
    assert.equal(hasRole({ a: { b: { c: 'x y' } } }, 'a.b.c', true, ['y']), true);
    assert.equal(hasRole({ a: 'b' }, 'a.b.c', true, ['y']), false);
    assert.equal(hasRole({}, 'a.b', true, ['y']), false);
  });
});

describe('JWT scopes (ScopesAnyMatcher, ScopesAllMatcher)', () => {
  it('any: one of them; all: every one', () => {
    const c = { scp: 'read write', list: ['read', 'write'] };
    assert.equal(hasScopes(c, 'scp', false, ['delete', 'write']), true);
    assert.equal(hasScopes(c, 'scp', true, ['delete', 'write']), false);
    assert.equal(hasScopes(c, 'list', true, ['read', 'write']), true);
    assert.equal(hasScopes(c, 'list', false, ['nope']), false);
    assert.equal(hasScopes(c, 'scp', true, []), true);
  });

  it('a dotted key is always a path; an empty list or a missing claim fails', () => {
    assert.equal(hasScopes({ data: { access: { s: ['x'] } } }, 'data.access.s', false, ['x']), true);
    assert.equal(hasScopes({ 'data.s': ['x'] }, 'data.s', false, ['x']), false);
    assert.equal(hasScopes({ s: [] }, 's', false, ['x']), false);
    assert.equal(hasScopes({}, 's', false, ['x']), false);
  });
});

describe('claim text (Claims.Get, Claims.List)', () => {
  it('prints each JSON type as Go does', () => {
    const c = {
      s: 'alice',
      i: 42,
      f: 1.5,
      near: 3.0000000001,
      arr: ['a', 2, 1000000, true, null],
      obj: { z: 1, a: '<b>' },
      b: false,
      n: null,
      nested: { email: 'a@b.c' },
    };
    assert.equal(text.get(c, 's', true), 'alice');
    assert.equal(text.get(c, 'i', true), '42');
    assert.equal(text.get(c, 'f', true), '1.500000');
    assert.equal(text.get(c, 'near', true), '3');
    assert.equal(text.get(c, 'arr', true), 'a,2,1e+06,true,<nil>');
    assert.equal(text.get(c, 'obj', true), '{"a":"\\u003cb\\u003e","z":1}');
    assert.equal(text.get(c, 'b', true), 'false');
    assert.equal(text.get(c, 'n', true), 'null');
    assert.equal(text.get(c, 'missing', true), '');
    assert.equal(text.get(c, 'nested.email', true), 'a@b.c');
    assert.equal(text.get(c, 'nested.email', false), '', 'url_pattern claims are not nested (gin/jose.go:239)');
    assert.equal(text.get({ 'http://x.io/r': 'v' }, 'http://x.io/r', true), 'v', 'a URL-like name is not a path');
  });

  it('lists one value per element, and [""] for a missing claim', () => {
    assert.deepEqual(text.list({ r: ['a', 'b'] }, 'r'), ['a', 'b']);
    assert.deepEqual(text.list({ r: 'a b' }, 'r'), ['a b']);
    assert.deepEqual(text.list({ r: [] }, 'r'), []);
    assert.deepEqual(text.list({}, 'r'), ['']);
    assert.deepEqual(text.list({ a: { r: [1.25] } }, 'a.r'), ['1.25']);
  });
});

describe('where the token is read', () => {
  it('Authorization with or without a Bearer prefix (any case), then the cookie', () => {
    assert.equal(tokenOf({ authorization: 'Bearer abc' }, 'authorization', 'access_token'), 'abc');
    assert.equal(tokenOf({ authorization: 'bEaReR abc' }, 'authorization', 'access_token'), 'abc');
    assert.equal(tokenOf({ authorization: 'abc' }, 'authorization', 'access_token'), 'abc');
    assert.equal(tokenOf({ authorization: 'Bearer ' }, 'authorization', 'access_token'), 'Bearer ');
    assert.equal(tokenOf({ cookie: 'a=1; access_token="tok"; b=2' }, 'authorization', 'access_token'), 'tok');
    assert.equal(tokenOf({ cookie: 'jwt=tok' }, 'authorization', 'jwt'), 'tok');
    assert.equal(tokenOf({ cookie: 'jwt=tok' }, 'authorization', 'access_token'), undefined);
    assert.equal(tokenOf({}, 'authorization', 'access_token'), undefined);
  });

  it('a header that holds something wins over the cookie; a custom header is read as configured', () => {
    assert.equal(tokenOf({ authorization: 'x', cookie: 'access_token=tok' }, 'authorization', 'access_token'), 'x');
    assert.equal(tokenOf({ authorization: '', cookie: 'access_token=tok' }, 'authorization', 'access_token'), 'tok');
    assert.equal(tokenOf({ 'x-jwt': 'Bearer t' }, 'x-jwt', 'access_token'), 't');
    assert.equal(tokenOf({ cookie: 'access_token=a\\b' }, 'authorization', 'access_token'), undefined);
  });
});
