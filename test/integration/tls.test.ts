import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { makeCerts } from '../helpers/certs.js';
import { startGateway } from '../helpers/gateway.js';
import { sendJson, startUpstream } from '../helpers/upstream.js';

describe('TLS on the data listener (root "tls" block)', () => {
  const certs = makeCerts();

  it('serves HTTPS with the configured certificate and TLS 1.3 by default', async (t) => {
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, { secure: true }));
    const gw = await startGateway(t, {
      tls: { public_key: certs.serverCert, private_key: certs.serverKey },
      endpoints: [{ endpoint: '/s', backend: [{ host: [up.url], url_pattern: '/' }] }],
    });
    assert.match(gw.url, /^https:/);
    const trusted = new Agent({ connect: { ca: certs.pem(certs.caCert) } });
    t.after(() => trusted.close());
    const r = await request(`${gw.url}/s`, { dispatcher: trusted });
    assert.deepEqual(await r.body.json(), { secure: true });
    const tls12only = new Agent({ connect: { ca: certs.pem(certs.caCert), maxVersion: 'TLSv1.2' } });
    t.after(() => tls12only.close());
    await assert.rejects(request(`${gw.url}/__health`, { dispatcher: tls12only }));
    const plain = await fetch(gw.url.replace('https:', 'http:') + '/__health').catch((e: unknown) => e);
    assert.ok(plain instanceof Error, 'plain HTTP is not served on a TLS listener');
  });

  it('honours min_version TLS12', async (t) => {
    const gw = await startGateway(t, {
      tls: { public_key: certs.serverCert, private_key: certs.serverKey, min_version: 'TLS12', max_version: 'TLS12' },
      endpoints: [{ endpoint: '/s', backend: [{ host: ['http://127.0.0.1:9'], url_pattern: '/' }] }],
    });
    const tls12 = new Agent({ connect: { ca: certs.pem(certs.caCert), maxVersion: 'TLSv1.2' } });
    t.after(() => tls12.close());
    const r = await request(`${gw.url}/__health`, { dispatcher: tls12 });
    assert.equal(r.statusCode, 200);
    await r.body.dump();
  });

  it('requires a client certificate signed by ca_certs with enable_mtls', async (t) => {
    const gw = await startGateway(t, {
      tls: { public_key: certs.serverCert, private_key: certs.serverKey, enable_mtls: true, ca_certs: [certs.caCert] },
      endpoints: [{ endpoint: '/s', backend: [{ host: ['http://127.0.0.1:9'], url_pattern: '/' }] }],
    });
    const anonymous = new Agent({ connect: { ca: certs.pem(certs.caCert) } });
    const withCert = new Agent({
      connect: { ca: certs.pem(certs.caCert), cert: certs.pem(certs.clientCert), key: certs.pem(certs.clientKey) },
    });
    t.after(() => Promise.all([anonymous.close(), withCert.close()]));
    await assert.rejects(async () => {
      const r = await request(`${gw.url}/__health`, { dispatcher: anonymous });
      await r.body.dump();
    });
    const ok = await request(`${gw.url}/__health`, { dispatcher: withCert });
    assert.equal(ok.statusCode, 200);
    await ok.body.dump();
  });
});
