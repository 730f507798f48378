import { strict as assert } from 'node:assert';
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { startGateway } from '../helpers/gateway.js';
import { startUpstream } from '../helpers/upstream.js';

const MB = 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);

/** Writes `size` bytes from one reused chunk, honouring backpressure: the upstream allocates nothing. */
function streamBytes(res: ServerResponse, size: number, onWrite: (n: number) => void): void {
  let left = size;
  const pump = (): void => {
    while (left > 0) {
      const n = Math.min(left, CHUNK.length);
      left -= n;
      onWrite(n);
      if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

describe('no-op encoding', () => {
  it('passes status, headers and body through unchanged, minus hop-by-hop headers', async (t) => {
    const up = await startUpstream(t, (_req, res) => {
      res.writeHead(201, {
        'content-type': 'text/csv',
        'x-upstream': 'yes',
        'set-cookie': ['a=1', 'b=2'],
        connection: 'keep-alive, x-hop',
        'x-hop': 'secret',
        'keep-alive': 'timeout=9',
      });
      res.end('a,b\n1,2\n');
    });
    const gw = await startGateway(t, {
      endpoints: [
        { endpoint: '/csv', output_encoding: 'no-op', backend: [{ host: [up.url], url_pattern: '/data.csv' }] },
      ],
    });
    const r = await request(`${gw.url}/csv`);
    assert.equal(r.statusCode, 201);
    assert.equal(r.headers['content-type'], 'text/csv');
    assert.equal(r.headers['x-upstream'], 'yes');
    assert.deepEqual(r.headers['set-cookie'], ['a=1', 'b=2']);
    assert.equal(r.headers['x-hop'], undefined);
    assert.notEqual(r.headers['keep-alive'], 'timeout=9');
    assert.equal(await r.body.text(), 'a,b\n1,2\n');
  });

  it('keeps the backend status even for errors (no-op does not judge)', async (t) => {
    const up = await startUpstream(t, (_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"missing":true}');
    });
    const gw = await startGateway(t, {
      endpoints: [{ endpoint: '/x', output_encoding: 'no-op', backend: [{ host: [up.url], url_pattern: '/' }] }],
    });
    const r = await request(`${gw.url}/x`);
    assert.equal(r.statusCode, 404);
    assert.equal(await r.body.text(), '{"missing":true}');
  });

  // A paused reader still lets the kernel buffer a few MB per loopback socket (~3.8 MB measured for
  // one hop here, two hops through a proxy), so the bodies are 48 MB: a gateway that buffered would
  // let all of it through, one that streams stops at the socket buffers.
  it('streams a 48 MB download under backpressure: a client that stops reading stops the upstream', async (t) => {
    const size = 48 * MB;
    let written = 0;
    const up = await startUpstream(t, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
      streamBytes(res, size, (n) => (written += n));
    });
    const gw = await startGateway(t, {
      timeout: '20s',
      endpoints: [{ endpoint: '/big', output_encoding: 'no-op', backend: [{ host: [up.url], url_pattern: '/big' }] }],
    });
    const r = await request(`${gw.url}/big`, { highWaterMark: 16 * 1024 });
    await new Promise((res) => setTimeout(res, 400));
    const whilePaused = written;
    assert.ok(
      whilePaused < 16 * MB,
      `the upstream could write ${(whilePaused / MB).toFixed(1)} MB while the client read nothing: the gateway buffers`,
    );
    let received = 0;
    for await (const chunk of r.body) received += (chunk as Buffer).length;
    assert.equal(received, size);
    assert.equal(written, size);
  });

  it('streams a 48 MB upload under backpressure: a backend that stops reading stops the client', async (t) => {
    const size = 48 * MB;
    let got = 0;
    let resume: () => void = () => {};
    const up = await startUpstream(
      t,
      (req, res) => {
        req.pause();
        resume = () => {
          req.on('data', (c: Buffer) => (got += c.length));
          req.on('end', () => {
            res.writeHead(200, { 'content-type': 'text/plain' });
            res.end(String(got));
          });
          req.resume();
        };
      },
      { readBody: false },
    );
    const gw = await startGateway(t, {
      timeout: '20s',
      endpoints: [
        {
          endpoint: '/upload',
          method: 'PUT',
          output_encoding: 'no-op',
          backend: [{ host: [up.url], url_pattern: '/in' }],
        },
      ],
    });
    let sent = 0;
    async function* body(): AsyncGenerator<Buffer> {
      while (sent < size) {
        sent += CHUNK.length;
        yield CHUNK;
      }
    }
    const pending = request(`${gw.url}/upload`, {
      method: 'PUT',
      body: Readable.from(body()),
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
    });
    await new Promise((res) => setTimeout(res, 400));
    const whilePaused = sent;
    assert.ok(
      whilePaused < 16 * MB,
      `the client could send ${(whilePaused / MB).toFixed(1)} MB while the backend read nothing: the gateway buffers`,
    );
    resume();
    const r = await pending;
    assert.equal(r.statusCode, 200);
    assert.equal(Number(await r.body.text()), size);
  });
});
