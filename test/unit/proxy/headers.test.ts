import { strict as assert } from 'node:assert';
import type { IncomingMessage } from 'node:http';
import { it } from 'node:test';
import { backendRequestHeaders, clientResponseHeaders, narrowRule } from '../../../src/proxy/headers.js';
import { forwardedQuery, joinQuery } from '../../../src/proxy/query.js';
import { compileUrlTemplate, renderPath, renderQuery } from '../../../src/proxy/url-template.js';

function req(headers: Record<string, string>, remote = '::ffff:10.1.2.3'): IncomingMessage {
  return { headers, socket: { remoteAddress: remote } } as unknown as IncomingMessage;
}

const ua = { userAgent: 'Tollgate/test', askGzip: false, method: 'GET' };

it('forwards only listed headers, never hop-by-hop or Connection-listed ones', () => {
  const r = req({
    authorization: 'Bearer x',
    cookie: 'c',
    connection: 'keep-alive, x-secret',
    'x-secret': 'no',
    te: 'trailers',
    'x-keep': 'yes',
    host: 'gw',
    'content-length': '3',
  });
  const listed = backendRequestHeaders(r, new Set(['authorization', 'x-secret', 'te', 'connection']), false, ua);
  assert.deepEqual(Object.keys(listed).sort(), ['authorization', 'user-agent', 'x-forwarded-for', 'x-forwarded-host']);
  const all = backendRequestHeaders(r, '*', false, ua);
  assert.deepEqual(Object.keys(all).sort(), [
    'authorization',
    'cookie',
    'user-agent',
    'x-forwarded-for',
    'x-forwarded-host',
    'x-keep',
  ]);
  assert.equal(all['x-forwarded-host'], 'gw');
  assert.equal(all['user-agent'], 'Tollgate/test');
});

it('appends the client address to X-Forwarded-For instead of trusting it', () => {
  assert.equal(backendRequestHeaders(req({}), new Set(), false, ua)['x-forwarded-for'], '10.1.2.3');
  assert.equal(
    backendRequestHeaders(req({ 'x-forwarded-for': '1.1.1.1' }), new Set(), false, ua)['x-forwarded-for'],
    '1.1.1.1, 10.1.2.3',
  );
});

it('sends Content-Type along with a body even when not listed', () => {
  assert.equal(
    backendRequestHeaders(req({ 'content-type': 'application/json' }), new Set(), true, ua)['content-type'],
    'application/json',
  );
  assert.equal(
    backendRequestHeaders(req({ 'content-type': 'application/json' }), new Set(), false, ua)['content-type'],
    undefined,
  );
});

it('strips hop-by-hop and Connection-listed headers from backend responses', () => {
  const out = clientResponseHeaders({
    'content-type': 'text/plain',
    connection: 'x-internal',
    'x-internal': '1',
    'keep-alive': 'timeout=5',
    'transfer-encoding': 'chunked',
    'set-cookie': ['a=1', 'b=2'],
  });
  assert.deepEqual(out, { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] });
});

it('narrows an endpoint rule by a backend rule', () => {
  assert.deepEqual(narrowRule(new Set(['a', 'b']), new Set(['b', 'c'])), new Set(['b']));
  assert.equal(narrowRule('*', '*'), '*');
  assert.deepEqual(narrowRule('*', new Set(['x'])), new Set(['x']));
});

it('forwards only listed query parameters in their order, re-encoded as Go does (QueryEscape of the decoded value)', () => {
  assert.equal(forwardedQuery('a=1&b=2&a=3&c=%20', new Set(['a', 'c'])), 'a=1&a=3&c=+');
  assert.equal(forwardedQuery('c=%7e%2fx%C3%A9*&a', new Set(['a', 'c'])), 'a=&c=~%2Fx%C3%A9%2A');
  assert.equal(
    forwardedQuery('a=1;b=2&a=%zz&a=ok', new Set(['a', 'b'])),
    'a=ok',
    'pairs Go refuses (`;`, a bad escape) are dropped',
  );
  assert.equal(forwardedQuery('a=1;x=2&b=2', '*'), 'b=2');
  assert.equal(forwardedQuery('a=1&b=2', new Set()), '');
  assert.equal(forwardedQuery('a=1&b=2', '*'), 'a=1&b=2');
  // url.Values.Encode: keys sorted (bytes of the decoded key), a key's values in the client's order.
  assert.equal(forwardedQuery('b=2&a=1&b=1&%41=x&a%20b=s+p', '*'), 'A=x&a=1&a+b=s+p&b=2&b=1');
  assert.equal(forwardedQuery('z=1&y=2', new Set(['y', 'z'])), 'y=2&z=1');
  assert.equal(forwardedQuery('%E0%A4%A=1&ok=1', new Set(['ok'])), 'ok=1');
  assert.equal(joinQuery('fixed=1', 'a=1'), 'fixed=1&a=1');
});

it('names the gateway in X-Forwarded-Via when the client User-Agent is forwarded (lura router/gin/endpoint.go)', () => {
  const own = backendRequestHeaders(req({ 'user-agent': 'curl/8' }), new Set(), false, ua);
  assert.equal(own['user-agent'], 'Tollgate/test');
  assert.equal(own['x-forwarded-via'], undefined);
  const fwd = backendRequestHeaders(req({ 'user-agent': 'curl/8' }), new Set(['user-agent']), false, ua);
  assert.equal(fwd['user-agent'], 'curl/8');
  assert.equal(fwd['x-forwarded-via'], 'Tollgate/test');
});

it("asks for gzip like Go's transport: only with no forwarded Accept-Encoding or Range, never on HEAD", () => {
  const gz = { ...ua, askGzip: true };
  assert.equal(backendRequestHeaders(req({}), new Set(), false, gz)['accept-encoding'], 'gzip');
  assert.equal(backendRequestHeaders(req({}), new Set(), false, ua)['accept-encoding'], undefined);
  assert.equal(
    backendRequestHeaders(req({}), new Set(), false, { ...gz, method: 'HEAD' })['accept-encoding'],
    undefined,
  );
  const own = req({ 'accept-encoding': 'br', range: 'bytes=0-1' });
  assert.equal(backendRequestHeaders(own, new Set(['accept-encoding']), false, gz)['accept-encoding'], 'br');
  assert.equal(backendRequestHeaders(own, new Set(['range']), false, gz)['accept-encoding'], undefined);
  // A client's Accept-Encoding that is not forwarded does not count: the backend request has none.
  assert.equal(backendRequestHeaders(own, new Set(), false, gz)['accept-encoding'], 'gzip');
});

it('fills url_pattern placeholders with re-encoded values, so decoded slashes stay inside the segment', () => {
  const t = compileUrlTemplate('/api/{Id}/items/{item}?v=2', ['id', 'item']);
  assert.equal(renderQuery(t, ['42', 'x']), 'v=2');
  assert.equal(renderPath(t, ['42', '../../admin']), '/api/42/items/..%2F..%2Fadmin');
  assert.equal(renderPath(t, ['a b', 'x']), '/api/a%20b/items/x');
});

it('fills placeholders in the query string of url_pattern too, escaped as query values (lura replaces over the whole pattern)', () => {
  const t = compileUrlTemplate('/redirect/?status={code}&f={Foo}', ['code', 'foo']);
  assert.deepEqual(t.placeholders, ['code', 'Foo']);
  assert.equal(renderPath(t, ['301', 'x']), '/redirect/');
  assert.equal(renderQuery(t, ['301', 'a&b=c d']), 'status=301&f=a%26b%3Dc%20d');
});
