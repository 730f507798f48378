/**
 * Real KrakenD files: every example config of KrakenD's public repositories (fixtures rewritten from
 * them, see SOURCES.md) either passes `check` (unsupported descriptive parts reported as warnings) or,
 * when it protects or transforms traffic in ways Tollgate does not enforce, is refused with each such
 * setting listed; with the opt-out, a gateway can be built and started on each.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfigFile, loadConfigValue } from '../../../src/config/load.js';
import { Gateway } from '../../../src/server/gateway.js';
import { memoryLogger } from '../../helpers/gateway.js';

const dir = join(import.meta.dirname, '../../fixtures/krakend-examples');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

/** The fixtures that use JWT, rate limits, CORS, Lua, CEL, Martian, plugins, `proxy`… */
const REFUSED = new Set([
  'data-manipulation-docs.json',
  'http-client-docs.json',
  'krakend-ce-default.json',
  'krakend-ce-integration.json',
  'lura-integration.json',
  'otel-examples-plugins.json',
  'otel-playground-enterprise-overrides.json',
  'playground-community.json',
  'playground-enterprise.json',
  'rate-limits-per-tier.json',
]);

function refusal(file: string): ConfigError {
  try {
    loadConfigFile(file);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err;
  }
  assert.fail(`${file} should be refused`);
}

describe('KrakenD example configurations', () => {
  it('has the fixture set', () => assert.ok(files.length >= 15, `only ${files.length} fixtures`));
  for (const f of files) {
    it(`${REFUSED.has(f) ? 'refuses, then with --allow-unenforced loads' : 'loads'} ${f}`, async () => {
      if (REFUSED.has(f)) {
        const err = refusal(join(dir, f));
        assert.equal(err.code, 'TG_ERR_CONFIG_UNENFORCED', err.message);
        const { warnings } = loadConfigFile(join(dir, f), { allowUnenforced: true });
        assert.equal(
          warnings.filter((w) => w.startsWith('NOT ENFORCED: ')).length,
          err.issues.length,
          'one warning per refused setting',
        );
      } else {
        assert.equal(loadConfigFile(join(dir, f)).config.version, 3);
      }
      const raw = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>;
      const { config } = loadConfigValue({ ...raw, port: 0, listen_ip: '127.0.0.1', tls: undefined }, f, {
        allowUnenforced: true,
      });
      const gw = new Gateway(config, { logger: memoryLogger().logger });
      await gw.start();
      await gw.close(100);
    });
  }

  it('refuses the big real-world file listing each protective setting with its path', () => {
    const err = refusal(join(dir, 'playground-enterprise.json'));
    const paths = err.issues.map((i) => i.path);
    for (const ns of ['qos/ratelimit/router', 'plugin/http-server', 'auth/basic', 'modifier/martian']) {
      assert.ok(
        paths.some((p) => p.endsWith(`["${ns}"]`)),
        ns,
      );
    }
    assert.ok(!paths.some((p) => p.includes('"auth/validator"')), 'auth/validator is enforced (auth-validator.ts)');
    for (const ns of ['security/cors', 'validation/json-schema'])
      assert.ok(!paths.some((p) => p.includes(`"${ns}"`)), `${ns} is enforced (config/namespaces/)`);
    for (const i of err.issues) assert.match(i.message, /KrakenD would /, i.path);
    assert.ok(
      !paths.some((p) => /telemetry\/logging|documentation\/openapi/.test(p)),
      'descriptive settings are not refused',
    );
    const { warnings } = loadConfigFile(join(dir, 'playground-enterprise.json'), { allowUnenforced: true });
    const ignored = warnings.filter((w) => w.startsWith('settings not supported'));
    assert.equal(ignored.length, 1);
    for (const ns of ['telemetry/logging', 'documentation/openapi', 'qos/http-cache'])
      assert.ok(ignored[0]?.includes(ns), ns);
  });
});
