import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { parseEndpointPattern, type EndpointPattern } from '../../../src/config/endpoint-pattern.js';
import {
  Router,
  trailingSlashAlternative,
  type RouteDefinition,
  type RouteLookup,
} from '../../../src/routing/router.js';

function router(routes: [string, string][]): Router {
  return new Router(
    routes.map(([method, path], id) => ({ id, method, pattern: parseEndpointPattern(path) as EndpointPattern })),
  );
}

/** A lookup with the matched route's id in place of the route, as the assertions compare them. */
function find(
  r: Router,
  method: string,
  path: string,
): Exclude<RouteLookup, { kind: 'found' }> | { kind: 'found'; id: number; params: string[] } {
  const l: RouteLookup<RouteDefinition> = r.find(method, path);
  return l.kind === 'found' ? { kind: 'found', id: l.route.id, params: l.params } : l;
}

it('matches static paths, {params} and methods; static segments win over params', () => {
  const r = router([
    ['GET', '/users/{id}'],
    ['GET', '/users/me'],
    ['POST', '/users/{id}'],
    ['GET', '/users/{id}/orders/{order}'],
    ['GET', '/'],
  ]);
  assert.deepEqual(find(r, 'GET', '/users/42'), { kind: 'found', id: 0, params: ['42'] });
  assert.deepEqual(find(r, 'GET', '/users/me'), { kind: 'found', id: 1, params: [] });
  assert.deepEqual(find(r, 'POST', '/users/me'), { kind: 'found', id: 2, params: ['me'] });
  assert.deepEqual(find(r, 'GET', '/users/7/orders/x%20y'), { kind: 'found', id: 3, params: ['7', 'x%20y'] });
  assert.deepEqual(find(r, 'GET', '/'), { kind: 'found', id: 4, params: [] });
  assert.deepEqual(find(r, 'DELETE', '/users/42'), { kind: 'method-not-allowed', allow: 'GET, POST' });
  assert.deepEqual(find(r, 'GET', '/users'), { kind: 'not-found' });
  assert.deepEqual(find(r, 'GET', '/users/'), { kind: 'not-found' }, 'an empty segment is not a parameter value');
  assert.deepEqual(find(r, 'GET', '/users/1/orders'), { kind: 'not-found' });
});

it('backtracks from a static branch that dead-ends into a parameter branch', () => {
  const r = router([
    ['GET', '/a/b/c'],
    ['GET', '/a/{x}/d'],
  ]);
  assert.deepEqual(find(r, 'GET', '/a/b/d'), { kind: 'found', id: 1, params: ['b'] });
});

it('supports a trailing /* catch-all', () => {
  const r = router([['GET', '/static/*']]);
  assert.equal(find(r, 'GET', '/static/css/site.css').kind, 'found');
  assert.equal(find(r, 'GET', '/static').kind, 'found');
  assert.equal(find(r, 'GET', '/other').kind, 'not-found');
});

it('offers the trailing-slash alternative gin redirects to', () => {
  const r = router([['GET', '/users/{id}']]);
  assert.equal(trailingSlashAlternative(r, 'GET', '/users/1/'), '/users/1');
  assert.equal(trailingSlashAlternative(r, 'GET', '/nope/'), undefined);
});

it('normalises patterns the way KrakenD labels them', () => {
  const p = parseEndpointPattern('/users/{userId}/posts') as EndpointPattern;
  assert.equal(p.normalized, '/users/:userId/posts');
  assert.equal(p.shape, '/users/{}/posts');
  assert.match(String(parseEndpointPattern('/a/{x}/{x}')), /used twice/);
});
