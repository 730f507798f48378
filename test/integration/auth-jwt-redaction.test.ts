/**
 * The JWT subject and token stay out of /__debug and the logs: auth/validator's token header
 * (`auth_header_name`) and the headers it propagates claims in are redacted like Authorization, also
 * when a backend of the gateway is the gateway's own /__debug endpoint. And `{JWT.<claim>}` in a
 * url_pattern is no longer reported as unsupported when the endpoint has a validator.
 */
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { loadConfigValue } from '../../src/config/load.js';
import { Gateway } from '../../src/server/gateway.js';
import { freePort } from '../helpers/cli.js';
import { memoryLogger, startGateway } from '../helpers/gateway.js';
import { makeKey, sign, startJwkServer } from '../helpers/jwt.js';
import { sendJson, startUpstream } from '../helpers/upstream.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('auth/validator secrets', () => {
  it('the subject and the token never reach /__debug or a log line', async (t) => {
    const key = await makeKey('HS256', 'k');
    const port = await freePort();
    const file = join(tempDir('tollgate-jwks-'), 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [key.jwk] }));
    const validator = {
      alg: 'HS256',
      jwk_local_path: file,
      disable_jwk_security: true,
      auth_header_name: 'X-Token',
      propagate_claims: [['sub', 'X-User']],
      operation_debug: true,
    };
    const { config } = loadConfigValue(
      {
        version: 3,
        port,
        listen_ip: '127.0.0.1',
        debug_endpoint: true,
        endpoints: [
          {
            endpoint: '/me',
            input_headers: ['X-User'],
            extra_config: { 'auth/validator': validator },
            backend: [
              {
                host: [`http://127.0.0.1:${port}`],
                url_pattern: '/__debug/me',
              },
            ],
          },
        ],
      },
      'redaction.json',
    );
    const { logger, lines } = memoryLogger('debug');
    const gateway = new Gateway(config, { logger });
    await gateway.start();
    t.after(() => gateway.close(1_000));
    const subject = 'subject-S3CR3T';
    const token = await sign(key, { sub: subject });
    const ok = await request(`http://127.0.0.1:${port}/me`, {
      headers: { 'x-token': token },
    });
    assert.equal(ok.statusCode, 200);
    await ok.body.dump();
    const direct = await request(`http://127.0.0.1:${port}/__debug/x`, {
      headers: { 'x-token': token },
    });
    await direct.body.dump();
    await new Promise((r) => setTimeout(r, 100));
    const debugLines = lines.filter((l) => l.msg === 'debug endpoint called');
    assert.equal(debugLines.length, 2);
    for (const l of debugLines) {
      const headers = l.headers as Record<string, unknown>;
      if ('x-user' in headers) assert.equal(headers['x-user'], 'REDACTED');
      if ('x-token' in headers) assert.equal(headers['x-token'], 'REDACTED');
    }
    const refused = await request(`http://127.0.0.1:${port}/me`, { headers: { 'x-token': `${token}x` } });
    assert.equal(refused.statusCode, 401);
    await refused.body.dump();
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(
      lines.filter((l) => l.msg === 'JWT validation refused the request').map((l) => [l.level, l.reason]),
      [['error', 'bad signature']],
      'operation_debug logs through the gateway logger',
    );
    const text = JSON.stringify(lines);
    assert.ok(!text.includes(subject), 'no subject in a log line');
    assert.ok(!text.includes(token.split('.')[2] as string), 'no token in a log line');
  });

  it('{JWT.<claim>} placeholders are not reported as unsupported on an endpoint with a validator', () => {
    const ep = (extra: object) => ({
      endpoint: '/me',
      extra_config: extra,
      backend: [{ host: ['http://127.0.0.1:9'], url_pattern: '/u/{JWT.sub}' }],
    });
    const validator = {
      'auth/validator': { alg: 'RS256', jwk_url: 'https://idp.invalid/jwks' },
    };
    const warned = (extra: object) =>
      loadConfigValue({ version: 3, endpoints: [ep(extra)] }, 'c.json').warnings.some((w) => w.includes('{JWT.sub}'));
    assert.equal(warned(validator), false);
    assert.equal(warned({}), true, 'without a validator it is still sent empty, and said so');
  });

  it('downloads the JWK set of a validator with cache when the gateway starts, as KrakenD', async (t) => {
    const key = await makeKey('ES256', 'k');
    const jwk = await startJwkServer(t, [key.jwk]);
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, { ok: true }));
    const validator = { alg: 'ES256', jwk_url: jwk.url, disable_jwk_security: true, cache: true };
    const gw = await startGateway(t, {
      endpoints: [
        {
          endpoint: '/a',
          extra_config: { 'auth/validator': validator },
          backend: [{ host: [up.url], url_pattern: '/' }],
        },
      ],
    });
    for (let i = 0; i < 50 && jwk.hits.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(jwk.hits.length, 1, 'downloaded before any request');
    const r = await request(`${gw.url}/a`, { headers: { authorization: `Bearer ${await sign(key, { sub: 'x' })}` } });
    assert.equal(r.statusCode, 200);
    await r.body.dump();
    assert.equal(jwk.hits.length, 1);
  });
});
