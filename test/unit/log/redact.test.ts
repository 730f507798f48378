/** The redactor: which query values and headers become REDACTED, and what stays untouched. */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { REDACTED, Redactor, redactorFor } from '../../../src/log/redact.js';

describe('Redactor', () => {
  const r = redactorFor({ identifier: 'Client_Key', strategy: 'query_string' });

  it('replaces the values of secret query parameters, case-insensitively, and keeps everything else', () => {
    assert.equal(
      r.url('/a?x=1&client_key=s3&API_KEY=k&Sig=z&X-Amz-Signature=q&y=2'),
      '/a?x=1&client_key=REDACTED&API_KEY=REDACTED&Sig=REDACTED&X-Amz-Signature=REDACTED&y=2',
    );
    assert.equal(
      r.url('http://h:1/p?token=a=b&token=c#frag?token=d'),
      'http://h:1/p?token=REDACTED&token=REDACTED#frag?token=d',
    );
    assert.equal(r.query('access_token=t&keyboard=1&monkey=2&key'), 'access_token=REDACTED&keyboard=1&monkey=2&key');
  });

  it('reads parameter names as URLSearchParams does (percent escapes, + for space)', () => {
    assert.equal(r.query('client%5Fkey=s3&k%65y=v&pass+word=x'), 'client%5Fkey=REDACTED&k%65y=REDACTED&pass+word=x');
    assert.equal(r.query('bad%zz=1&%E0%A4%A=2'), 'bad%zz=1&%E0%A4%A=2', 'malformed escapes are kept, not thrown on');
  });

  it('returns the same string when nothing is secret (no copy on the common path)', () => {
    const url = '/items/7?page=2&sort=name';
    assert.equal(r.url(url), url);
    assert.equal(r.url('/no-query'), '/no-query');
  });

  it('names the configured identifier only where its strategy puts it', () => {
    const header = redactorFor({ identifier: 'X-Tenant-Key', strategy: 'header' });
    assert.equal(header.isSecretHeader('x-tenant-key'), true);
    assert.equal(header.query('x-tenant-key=v'), 'x-tenant-key=v');
    assert.equal(r.isSecretHeader('client_key'), false);
    for (const h of ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key'])
      assert.equal(new Redactor().headerValue(h, 'v'), REDACTED, h);
    assert.equal(new Redactor().headerValue('accept', 'v'), 'v');
  });

  it('escapes configured names that are regular-expression syntax', () => {
    const odd = redactorFor({ identifier: 'k.(y', strategy: 'query_string' });
    assert.equal(odd.query('k.(y=1&kx(y=2'), 'k.(y=REDACTED&kx(y=2');
    assert.equal(odd.query('k.%28y=1'), 'k.%28y=REDACTED');
  });
});
