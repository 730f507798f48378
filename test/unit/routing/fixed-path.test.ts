import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { parseEndpointPattern, type EndpointPattern } from '../../../src/config/endpoint-pattern.js';
import { Router, cleanPath } from '../../../src/routing/router.js';

function router(routes: [string, string][]): Router {
  return new Router(
    routes.map(([method, path], id) => ({ id, method, pattern: parseEndpointPattern(path) as EndpointPattern })),
  );
}

it('cleanPath behaves as gin/httprouter CleanPath', () => {
  // Cases from gin's path_test.go (cleanTests).
  const cases: [string, string][] = [
    ['/', '/'],
    ['/abc', '/abc'],
    ['/a/b/c', '/a/b/c'],
    ['/abc/', '/abc/'],
    ['/a/b/c/', '/a/b/c/'],
    ['abc', '/abc'],
    ['//', '/'],
    ['/abc//', '/abc/'],
    ['/abc//def//ghi', '/abc/def/ghi'],
    ['/.', '/'],
    ['/./', '/'],
    ['/abc/./def', '/abc/def'],
    ['/abc/.', '/abc/'],
    ['/abc/def/..', '/abc'],
    ['/abc/def/../..', '/'],
    ['/abc/def/../../..', '/'],
    ['/abc/def/../../../ghi/jkl/../../../mno', '/mno'],
    ['/../abc', '/abc'],
    ['abc/../../././../def', '/def'],
    ['//evil.com', '/evil.com'],
  ];
  for (const [p, want] of cases) assert.equal(cleanPath(p), want, p);
});

it('fixedPath finds the registered spelling for the method, parameters kept as sent', () => {
  const r = router([
    ['GET', '/Static/Page'],
    ['GET', '/users/{id}/Profile'],
    ['POST', '/only-post'],
    ['GET', '/files/*'],
    ['GET', '/dir/'],
  ]);
  assert.equal(r.fixedPath('GET', '/static/PAGE'), '/Static/Page');
  assert.equal(r.fixedPath('GET', '/a/../STATIC//page/'), '/Static/Page');
  assert.equal(r.fixedPath('GET', '/USERS/AbC/profile'), '/users/AbC/Profile');
  assert.equal(r.fixedPath('GET', '/Files/A/B'), '/files/A/B');
  assert.equal(r.fixedPath('GET', '/DIR'), '/dir/');
  assert.equal(r.fixedPath('GET', '/Only-Post'), undefined, 'another method does not count');
  assert.equal(r.fixedPath('POST', '/Only-Post'), '/only-post');
  assert.equal(r.fixedPath('GET', '/nothing'), undefined);
  assert.equal(r.fixedPath('GET', '/users//profile'), undefined, 'an empty segment is no parameter');
});
