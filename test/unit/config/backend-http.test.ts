/** `backend/http` (issue 18): read, not refused, under its current and its lura name. */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ConfigError, loadConfigValue } from '../../../src/config/load.js';
import { parseBackendErrorReturn } from '../../../src/config/namespaces/backend-http.js';

function withBackendExtra(extra: Record<string, unknown>): unknown {
  return {
    version: 3,
    endpoints: [{ endpoint: '/a', backend: [{ host: ['http://127.0.0.1:9'], url_pattern: '/', extra_config: extra }] }],
  };
}

describe('backend/http', () => {
  it('follows lura GetHTTPStatusHandler: a non-empty return_error_details wins, an empty one hides return_error_code', () => {
    assert.deepEqual(parseBackendErrorReturn(undefined), { code: false, detailsName: undefined });
    assert.deepEqual(parseBackendErrorReturn({ return_error_code: true }), { code: true, detailsName: undefined });
    assert.deepEqual(parseBackendErrorReturn({ return_error_code: true, return_error_details: 'b' }), {
      code: false,
      detailsName: 'b',
    });
    assert.deepEqual(parseBackendErrorReturn({ return_error_code: true, return_error_details: '' }), {
      code: false,
      detailsName: undefined,
    });
  });

  it('loads without a refusal, under both names', () => {
    for (const ns of ['backend/http', 'github.com/devopsfaith/krakend/http']) {
      const loaded = loadConfigValue(withBackendExtra({ [ns]: { return_error_details: 'x' } }), 'test.json');
      assert.equal(loaded.config.endpoints[0]?.backends[0]?.errorReturn.detailsName, 'x', ns);
    }
  });

  it('rejects a return_error_code that is not a boolean', () => {
    assert.throws(
      () => loadConfigValue(withBackendExtra({ 'backend/http': { return_error_code: 'yes' } }), 'test.json'),
      (err: unknown) => err instanceof ConfigError && err.code === 'TG_ERR_CONFIG_INVALID',
    );
  });
});
