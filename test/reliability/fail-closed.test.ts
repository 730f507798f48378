/**
 * The gateway fails closed on settings it does not enforce: a KrakenD file that protects an endpoint
 * with JWT, rate limits or CORS is refused at start and at reload (the endpoint never runs open),
 * unless the operator opts out, and then every such setting is logged at start.
 */
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort, runCli, startCli, waitForHttp, writeConfig } from '../helpers/cli.js';
import { sendJson, startUpstream } from '../helpers/upstream.js';
import { title } from './cases.js';

const FIXTURE = join(import.meta.dirname, '../fixtures/krakend-examples/krakend-ce-default.json');

async function refused(port: number): Promise<void> {
  await assert.rejects(fetch(`http://127.0.0.1:${port}/__health`), 'nothing listens on the port');
}

function logLines(output: string): { msg: string; level: string }[] {
  return output
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; level: string });
}

describe('fail closed on unenforced settings', () => {
  it(title('fail-closed-run-refuses'), async () => {
    const port = await freePort();
    const r = await runCli(['run', '-c', FIXTURE, '-p', String(port)]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /\(10 settings Tollgate would not enforce\) \[TG_ERR_CONFIG_UNENFORCED\]/);
    for (const path of [
      'endpoints[3].extra_config["qos/ratelimit/router"]',
      'endpoints[0].backend[0].extra_config["modifier/martian"]',
    ]) {
      assert.ok(r.stderr.includes(`  ${path}: not enforced by Tollgate: KrakenD would `), `${path} in\n${r.stderr}`);
    }
    await refused(port);
  });

  it(title('fail-closed-typo'), async () => {
    const port = await freePort();
    const file = writeConfig({
      version: 3,
      port,
      listen_ip: '127.0.0.1',
      endpoints: [
        {
          endpoint: '/a',
          extra_config: { 'auth/validater': { alg: 'RS256' } },
          backend: [{ host: ['http://127.0.0.1:9'], url_pattern: '/a' }],
        },
      ],
    });
    const r = await runCli(['run', '-c', file]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /endpoints\[0\]\.extra_config\["auth\/validater"\]: unknown namespace: did you mean "auth\/validator"\?/,
    );
    await refused(port);
  });

  it(title('fail-closed-opt-out-flag'), async (t) => {
    const port = await freePort();
    const gw = startCli(t, ['run', '-c', FIXTURE, '-p', String(port), '--allow-unenforced', '--log-level', 'warn']);
    await waitForHttp(`http://127.0.0.1:${port}/__health`);
    gw.child.kill('SIGTERM');
    assert.equal(await gw.exited, 0);
    const loud = logLines(gw.output()).filter((l) => l.level === 'warn' && l.msg.startsWith('NOT ENFORCED: '));
    assert.equal(loud.length, 10, gw.output());
    assert.ok(
      loud.some(
        (l) =>
          l.msg.includes('endpoints[3].extra_config["qos/ratelimit/router"]') &&
          l.msg.endsWith('because --allow-unenforced is set'),
      ),
    );
  });

  it(title('fail-closed-opt-out-setting'), async (t) => {
    const port = await freePort();
    const file = writeConfig({
      version: 3,
      port,
      listen_ip: '127.0.0.1',
      extra_config: { tollgate: { allow_unenforced: ['qos/ratelimit/router'] } },
      endpoints: [
        {
          endpoint: '/a',
          extra_config: { 'qos/ratelimit/router': { max_rate: 1 } },
          backend: [{ host: ['http://127.0.0.1:9'], url_pattern: '/a' }],
        },
      ],
    });
    const gw = startCli(t, ['run', '-c', file, '--log-level', 'warn']);
    await waitForHttp(`http://127.0.0.1:${port}/__health`);
    gw.child.kill('SIGTERM');
    assert.equal(await gw.exited, 0);
    const loud = logLines(gw.output()).filter((l) => l.msg.startsWith('NOT ENFORCED: '));
    assert.deepEqual(
      loud.map((l) => l.msg),
      [
        'NOT ENFORCED: endpoints[0].extra_config["qos/ratelimit/router"]: not enforced by Tollgate: KrakenD would limit the rate of requests to the endpoint and answer 429 over it; running without it because extra_config.tollgate.allow_unenforced is set',
      ],
    );
  });

  it(title('fail-closed-reload-refuses'), async (t) => {
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, { open: true }));
    const port = await freePort();
    const base = {
      version: 3,
      port,
      listen_ip: '127.0.0.1',
      endpoints: [{ endpoint: '/a', backend: [{ host: [up.url], url_pattern: '/' }] }],
    };
    const file = writeConfig(base);
    const gw = startCli(t, ['run', '-c', file, '--log-level', 'info']);
    await waitForHttp(`http://127.0.0.1:${port}/a`);
    // The same endpoint now signing its answer into a JWT, which Tollgate cannot do: the reload is refused.
    writeFileSync(
      file,
      JSON.stringify({
        ...base,
        endpoints: [{ ...base.endpoints[0], extra_config: { 'auth/signer': { alg: 'RS256' } } }],
      }),
    );
    gw.child.kill('SIGHUP');
    const until = Date.now() + 10_000;
    while (!gw.output().includes('reload rejected') && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    const rejected = logLines(gw.output()).find((l) => l.msg.startsWith('reload rejected')) as
      { code?: string } | undefined;
    assert.equal(rejected?.code, 'TG_ERR_CONFIG_UNENFORCED', gw.output());
    assert.equal((await fetch(`http://127.0.0.1:${port}/a`)).status, 200, 'the running configuration keeps serving');
    gw.child.kill('SIGTERM');
    assert.equal(await gw.exited, 0);
  });
});
