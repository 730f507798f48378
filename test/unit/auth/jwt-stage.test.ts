/**
 * The JWT stage around a route's handler, on a real socket: accepted requests reach the handler with
 * the `{JWT.<claim>}` parameters appended and `propagate_claims` headers set (lists kept with
 * `propagate_claims_preserve_array`, a claim with a line break sent empty); refusals are bare
 * statuses; `operation_debug` logs each refusal with a fixed reason and never the token or a claim.
 */
import { strict as assert } from 'node:assert';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { request } from 'undici';
import { ClaimText } from '../../../src/auth/jwt-claims.js';
import { JwtValidators } from '../../../src/auth/jwt-validators.js';
import { parseAuthValidator } from '../../../src/config/namespaces/auth-validator.js';
import { goJson } from '../../../src/proxy/go-json.js';
import { JwtStage } from '../../../src/server/stages/auth-jwt.js';
import { RequestRecord } from '../../../src/telemetry/record.js';
import { memoryLogger } from '../../helpers/gateway.js';
import { closeServer } from '../../helpers/upstream.js';
import { makeKey, sign, type TestKey } from '../../helpers/jwt.js';

interface Seen {
  readonly params: readonly string[];
  readonly headers: IncomingHttpHeaders;
}

async function serve(t: TestContext, key: TestKey, raw: Record<string, unknown>, paramClaims: string[]) {
  const { logger, lines } = memoryLogger('debug');
  const settings = {
    ...parseAuthValidator({ alg: key.alg, jwk_url: 'https://idp.invalid/j', ...raw }),
    origin: { kind: 'file' as const, path: '(memory)', jwks: { keys: [key.jwk] } },
  };
  const validator = new JwtValidators({ userAgent: 't', logger }).forEndpoint(settings);
  const seen: Seen[] = [];
  const stage = new JwtStage({
    endpoint: '/e/{id}',
    validator,
    paramClaims,
    text: new ClaimText(goJson),
    logger,
    inner: {
      handle: (req, res, params) => {
        seen.push({ params, headers: { ...req.headers } });
        res.end('inner');
      },
    },
  });
  const server = createServer((req, res) => stage.handle(req, res, ['7'], '', new RequestRecord('GET', '/e/7', 0)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => closeServer(server));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/e/7`;
  return { url, seen, lines };
}

describe('JWT stage', () => {
  it('passes claims to the handler as parameters and headers', async (t) => {
    const key = await makeKey('HS256', 'k');
    const s = await serve(
      t,
      key,
      {
        propagate_claims: [
          ['groups', 'X-Groups'],
          ['sub', 'X-Sub'],
          ['evil', 'X-Evil'],
        ],
        propagate_claims_preserve_array: true,
      },
      ['sub', 'tier'],
    );
    const token = await sign(key, { sub: 'ann', tier: 3, groups: ['a', 'b'], evil: 'x\r\nInjected: 1' });
    const r = await request(s.url, { headers: { authorization: `Bearer ${token}`, 'x-sub': 'spoofed' } });
    assert.equal(r.statusCode, 200);
    assert.equal(await r.body.text(), 'inner');
    assert.deepEqual(s.seen[0]?.params, ['7', 'ann', '3']);
    assert.deepEqual(s.seen[0]?.headers['x-groups'], ['a', 'b']);
    assert.equal(s.seen[0]?.headers['x-sub'], 'ann');
    assert.equal(s.seen[0]?.headers['x-evil'], '', 'a claim that would split the header is sent empty');
  });

  it('operation_debug logs each refusal with a reason, never the token or a claim', async (t) => {
    const key = await makeKey('HS256', 'k');
    const s = await serve(t, key, { operation_debug: true, roles: ['admin'] }, []);
    const secret = 'subject-S3CR3T';
    const noRole = await sign(key, { sub: secret, roles: ['user'] });
    const expired = await sign(key, { sub: secret, exp: 1 });
    for (const [headers, status] of [
      [{ authorization: `Bearer ${noRole}` }, 403],
      [{ authorization: `Bearer ${expired}` }, 401],
      [{}, 401],
    ] as const) {
      const r = await request(s.url, { headers });
      assert.equal(r.statusCode, status);
      assert.equal(await r.body.text(), '');
    }
    await new Promise((r) => setTimeout(r, 50));
    const refusals = s.lines.filter((l) => l.msg === 'JWT validation refused the request');
    assert.deepEqual(
      refusals.map((l) => [l.level, l.code, l.status, l.reason, l.endpoint]),
      [
        ['error', 'TG_ERR_JWT_FORBIDDEN', 403, 'missing role', '/e/{id}'],
        ['error', 'TG_ERR_JWT_INVALID', 401, 'expired', '/e/{id}'],
        ['error', 'TG_ERR_JWT_INVALID', 401, 'no token', '/e/{id}'],
      ],
    );
    const text = JSON.stringify(s.lines);
    for (const x of [secret, noRole, expired, (noRole.split('.')[2] as string).slice(0, 20)])
      assert.ok(!text.includes(x), 'no token or claim in a log line');
    assert.equal(s.seen.length, 0);
  });

  it('without operation_debug a refusal logs nothing', async (t) => {
    const key = await makeKey('HS256', 'k');
    const s = await serve(t, key, {}, []);
    assert.equal((await request(s.url)).statusCode, 401);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(s.lines, []);
  });
});
