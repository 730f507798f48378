/**
 * The process families client_golang's Linux collector adds (issue 19 item 6), as KrakenD's
 * `process_metrics` exports them: process_virtual_memory_max_bytes from the soft "Max address space"
 * limit, process_network_{receive,transmit}_bytes_total from IpExt InOctets/OutOctets of the network
 * namespace. The expected values are read from /proc by the test (the gateway runs in this process).
 */
import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { parseSamples, typeLines, value } from '../helpers/exposition.js';
import { startGateway } from '../helpers/gateway.js';
import { sendJson, startUpstream } from '../helpers/upstream.js';
import { ipExtOctets, softLimit } from '../helpers/values-procfs.js';

const PROCFS = existsSync('/proc/self/net/netstat') && existsSync('/proc/self/limits');

describe('process_metrics: the families of client_golang’s Linux process collector', { skip: !PROCFS }, () => {
  it('exports the address-space limit and the network bytes as /proc has them', async (t) => {
    const up = await startUpstream(t, (_req, res) => sendJson(res, 200, { ok: true }));
    const gw = await startGateway(t, {
      extra_config: {
        'telemetry/opentelemetry': {
          exporters: { prometheus: [{ name: 'p', port: 0, listen_ip: '127.0.0.1', process_metrics: true }] },
        },
      },
      endpoints: [{ endpoint: '/a', backend: [{ host: [up.url], url_pattern: '/x' }] }],
    });
    // Traffic on loopback: the namespace's octet counters move while the test runs.
    for (let i = 0; i < 20; i++) await (await request(`${gw.url}/a`)).body.dump();
    const port = gw.gateway.telemetry.exporters[0]?.address?.port;
    const before = ipExtOctets();
    const text = await (await request(`http://127.0.0.1:${port}/metrics`)).body.text();
    const after = ipExtOctets();
    const samples = parseSamples(text);
    const types = typeLines(text);

    assert.equal(types.get('process_virtual_memory_max_bytes'), 'gauge');
    assert.equal(types.get('process_network_receive_bytes_total'), 'counter');
    assert.equal(types.get('process_network_transmit_bytes_total'), 'counter');
    assert.equal(value(samples, 'process_virtual_memory_max_bytes'), softLimit('Max address space'));
    assert.equal(value(samples, 'process_max_fds'), softLimit('Max open files'));

    const rx = value(samples, 'process_network_receive_bytes_total');
    const tx = value(samples, 'process_network_transmit_bytes_total');
    assert.ok(before.in <= rx && rx <= after.in, `receive ${rx} within [${before.in}, ${after.in}]`);
    assert.ok(before.out <= tx && tx <= after.out, `transmit ${tx} within [${before.out}, ${after.out}]`);
    assert.ok(rx > 0 && tx > 0);
  });
});
