/**
 * Issue 18, items 3, 4 and 8: which backend statuses a merging endpoint takes as success (200 and 201
 * only, lura's DefaultHTTPStatusHandler), Cache-Control only on complete responses, and merged objects
 * written with their keys sorted as Go's encoding/json and yaml marshal a map.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { startGateway } from '../helpers/gateway.js';
import { sendJson, startUpstream } from '../helpers/upstream.js';

describe('KrakenD backend statuses, Cache-Control and key order', () => {
  it('takes only 200 and 201 as success: a 202, 204 or 206 backend is a failed backend', async (t) => {
    const up = await startUpstream(t, (req, res) => {
      const status = Number(req.url?.slice(1));
      if (status === 204) res.writeHead(204).end();
      else sendJson(res, status, { [`s${status}`]: true });
    });
    const gw = await startGateway(t, {
      endpoints: [200, 201, 202, 204, 206].map((s) => ({
        endpoint: `/e${s}`,
        backend: [
          { host: [up.url], url_pattern: `/${s}` },
          { host: [up.url], url_pattern: '/200', group: 'ok' },
        ],
      })),
    });
    for (const s of [200, 201]) {
      const r = await fetch(`${gw.url}/e${s}`);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('x-krakend-completed'), 'true', `a ${s} backend succeeds`);
      assert.deepEqual(await r.json(), { ok: { s200: true }, [`s${s}`]: true });
    }
    for (const s of [202, 204, 206]) {
      const r = await fetch(`${gw.url}/e${s}`);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('x-krakend-completed'), 'false', `a ${s} backend fails, as in KrakenD`);
      assert.equal(await r.text(), '{"ok":{"s200":true}}', `nothing of the ${s} backend is merged`);
    }
    assert.ok(
      up.seen.some((s) => s.url === '/204'),
      'the 204 backend was called',
    );
  });

  it('answers 500 when the only backend answers 204', async (t) => {
    const up = await startUpstream(t, (_req, res) => res.writeHead(204).end());
    const gw = await startGateway(t, {
      endpoints: [{ endpoint: '/n', cache_ttl: '1m', backend: [{ host: [up.url], url_pattern: '/' }] }],
    });
    const r = await fetch(`${gw.url}/n`);
    assert.equal(r.status, 500);
    assert.equal(r.headers.get('cache-control'), null);
    assert.equal(((await r.json()) as { code: string }).code, 'TG_ERR_ALL_BACKENDS_FAILED');
  });

  it('sets Cache-Control on complete responses only, never on a partial one', async (t) => {
    const up = await startUpstream(t, (req, res) => sendJson(res, req.url === '/bad' ? 503 : 200, { a: 1 }));
    const gw = await startGateway(t, {
      endpoints: [
        {
          endpoint: '/complete',
          cache_ttl: '5m',
          backend: [
            { host: [up.url], url_pattern: '/ok' },
            { host: [up.url], url_pattern: '/ok2', group: 'g' },
          ],
        },
        {
          endpoint: '/partial',
          cache_ttl: '5m',
          backend: [
            { host: [up.url], url_pattern: '/ok' },
            { host: [up.url], url_pattern: '/bad', group: 'g' },
          ],
        },
      ],
    });
    const complete = await fetch(`${gw.url}/complete`);
    assert.equal(complete.headers.get('x-krakend-completed'), 'true');
    assert.equal(complete.headers.get('cache-control'), 'public, max-age=300');
    await complete.arrayBuffer();
    const partial = await fetch(`${gw.url}/partial`);
    assert.equal(partial.status, 200);
    assert.equal(partial.headers.get('x-krakend-completed'), 'false');
    assert.equal(partial.headers.get('cache-control'), null, 'lura sets it under response.IsComplete only');
    assert.equal(await partial.text(), '{"a":1}');
  });

  it('writes merged objects with keys sorted at every depth, as encoding/json does', async (t) => {
    const up = await startUpstream(t, (req, res) => {
      if (req.url === '/one') sendJson(res, 200, { zeta: 1, alpha: { y: [{ b: 1, a: 2 }], x: null }, '10': 'ten' });
      else sendJson(res, 200, { mid: true, '9': 'nine', Beta: 'upper' });
    });
    const backend = [
      { host: [up.url], url_pattern: '/one' },
      { host: [up.url], url_pattern: '/two' },
    ];
    const gw = await startGateway(t, {
      endpoints: [
        { endpoint: '/json', backend },
        { endpoint: '/yaml', output_encoding: 'yaml', backend },
      ],
    });
    // Go sorts by bytes: "10" < "9" < "Beta" < "alpha"; a JS object would list 9 before 10.
    assert.equal(
      await (await fetch(`${gw.url}/json`)).text(),
      '{"10":"ten","9":"nine","Beta":"upper","alpha":{"x":null,"y":[{"a":2,"b":1}]},"mid":true,"zeta":1}',
    );
    const yaml = await (await fetch(`${gw.url}/yaml`)).text();
    assert.deepEqual(
      yaml
        .split('\n')
        .filter((l) => /^\S/.test(l))
        .map((l) => l.split(':')[0]),
      ['"10"', '"9"', 'Beta', 'alpha', 'mid', 'zeta'],
    );
  });

  it('return_error_details: the failed status and body go into the merged body as error_<name>', async (t) => {
    const up = await startUpstream(t, (req, res) => {
      if (req.url === '/panda') {
        // As lura's integration test backend: http.Error(rw, "sad panda", 429).
        res.writeHead(429, { 'content-type': 'text/plain; charset=utf-8' }).end('sad panda\n');
      } else if (req.url === '/bare') res.writeHead(503).end();
      else sendJson(res, 200, { name: 'a', email: 'some@email.com' });
    });
    const details = (name: string) => ({ 'backend/http': { return_error_details: name } });
    const gw = await startGateway(t, {
      endpoints: [
        {
          endpoint: '/detail_error',
          cache_ttl: '1m',
          backend: [
            { host: [up.url], url_pattern: '/panda', extra_config: details('backend_a') },
            { host: [up.url], url_pattern: '/user', extra_config: details('backend_b') },
          ],
        },
        {
          endpoint: '/alone',
          backend: [
            {
              host: [up.url],
              url_pattern: '/bare',
              group: 'ignored',
              extra_config: { 'github.com/devopsfaith/krakend/http': { return_error_details: 'legacy' } },
            },
          ],
        },
      ],
    });
    const r = await fetch(`${gw.url}/detail_error`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-krakend-completed'), 'false');
    assert.equal(r.headers.get('cache-control'), null);
    // lura test/integration_test.go "detail_error", byte for byte: map keys sorted, the struct's fields in order.
    assert.equal(
      await r.text(),
      '{"email":"some@email.com","error_backend_a":{"http_status_code":429,"http_body":"sad panda\\n","http_body_encoding":"text/plain; charset=utf-8"},"name":"a"}',
    );
    // Alone, the details are still a response (200, incomplete); empty body and Content-Type are omitted,
    // and the backend's group is not applied to them.
    const alone = await fetch(`${gw.url}/alone`);
    assert.equal(alone.status, 200);
    assert.equal(alone.headers.get('x-krakend-completed'), 'false');
    assert.equal(await alone.text(), '{"error_legacy":{"http_status_code":503}}');
  });

  it("return_error_code: a lone backend's failed status is the client's status, with an empty body", async (t) => {
    const up = await startUpstream(t, (req, res) => {
      if (req.url === '/ok') sendJson(res, 200, { a: 1 });
      else sendJson(res, 429, { slow: 'down' });
    });
    const code = { 'backend/http': { return_error_code: true } };
    const gw = await startGateway(t, {
      endpoints: [
        { endpoint: '/one', backend: [{ host: [up.url], url_pattern: '/busy', extra_config: code }] },
        { endpoint: '/fine', backend: [{ host: [up.url], url_pattern: '/ok', extra_config: code }] },
        {
          endpoint: '/two',
          backend: [
            { host: [up.url], url_pattern: '/busy', extra_config: code },
            { host: [up.url], url_pattern: '/busy', extra_config: code },
          ],
        },
        {
          endpoint: '/mixed',
          backend: [
            { host: [up.url], url_pattern: '/busy', extra_config: code },
            { host: [up.url], url_pattern: '/ok', extra_config: code },
          ],
        },
        {
          // An empty return_error_details hides return_error_code (lura GetHTTPStatusHandler).
          endpoint: '/empty-details',
          backend: [
            {
              host: [up.url],
              url_pattern: '/busy',
              extra_config: { 'backend/http': { return_error_code: true, return_error_details: '' } },
            },
          ],
        },
      ],
    });
    const one = await fetch(`${gw.url}/one`);
    assert.equal(one.status, 429);
    assert.equal(one.headers.get('x-krakend-completed'), 'false');
    assert.equal(one.headers.get('content-length'), '0');
    assert.equal(await one.text(), '');
    const fine = await fetch(`${gw.url}/fine`);
    assert.equal(fine.status, 200);
    assert.equal(await fine.text(), '{"a":1}');
    // lura integration tests error-status-code-3: several backends merge their errors, which carry no status.
    const two = await fetch(`${gw.url}/two`);
    assert.equal(two.status, 500);
    assert.equal(((await two.json()) as { code: string }).code, 'TG_ERR_ALL_BACKENDS_FAILED');
    const mixed = await fetch(`${gw.url}/mixed`);
    assert.equal(mixed.status, 200);
    assert.equal(await mixed.text(), '{"a":1}');
    const empty = await fetch(`${gw.url}/empty-details`);
    assert.equal(empty.status, 500);
    await empty.arrayBuffer();
  });
});
