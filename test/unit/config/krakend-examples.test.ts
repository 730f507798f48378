/**
 * Real KrakenD files must load: every example config of KrakenD's public repositories (fixtures
 * rewritten from them, see SOURCES.md) passes `check`, unsupported parts reported as warnings, and a
 * gateway can be built and started on each.
 */
import { strict as assert } from 'node:assert';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfigFile, loadConfigValue } from '../../../src/config/load.js';
import { Gateway } from '../../../src/server/gateway.js';
import { memoryLogger } from '../../helpers/gateway.js';
import { readFileSync } from 'node:fs';

const dir = join(import.meta.dirname, '../../fixtures/krakend-examples');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('KrakenD example configurations', () => {
  it('has the fixture set', () => assert.ok(files.length >= 15, `only ${files.length} fixtures`));
  for (const f of files) {
    it(`loads ${f}`, async () => {
      const loaded = loadConfigFile(join(dir, f));
      assert.ok(loaded.config.version === 3);
      const raw = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>;
      const { config } = loadConfigValue({ ...raw, port: 0, listen_ip: '127.0.0.1', tls: undefined }, f);
      const gw = new Gateway(config, { logger: memoryLogger().logger });
      await gw.start();
      await gw.close(100);
    });
  }
  it('warns about the unsupported namespaces of the big real-world file in one line', () => {
    const { warnings } = loadConfigFile(join(dir, 'playground-enterprise.json'));
    const ignored = warnings.filter((w) => w.startsWith('settings not supported'));
    assert.equal(ignored.length, 1);
    for (const ns of ['qos/ratelimit/router', 'auth/validator', 'plugin', 'security/cors']) assert.ok(ignored[0]?.includes(ns), ns);
  });
});
