import assert from 'node:assert/strict';
import { createServer, request, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { it } from 'node:test';
import { CountedResponse } from '../../../src/server/counted-response.js';

interface Seen {
  /** CountedResponse.headHeaders once the response ended. */
  head: OutgoingHttpHeaders | undefined;
  /** What Node's getHeaders() held then. */
  kept: OutgoingHttpHeaders;
  /** The headers the client received. */
  received: Record<string, string | string[] | undefined>;
}

/** One request to a server whose handler is `handle`, on a real loopback connection. */
async function serve(handle: (res: CountedResponse) => void): Promise<Seen> {
  let done: (v: { head: OutgoingHttpHeaders | undefined; kept: OutgoingHttpHeaders }) => void = () => {};
  const ended = new Promise<{ head: OutgoingHttpHeaders | undefined; kept: OutgoingHttpHeaders }>((r) => (done = r));
  const server = createServer({ ServerResponse: CountedResponse }, (_req, res) => {
    const counted = res as CountedResponse;
    res.once('finish', () => done({ head: counted.headHeaders, kept: { ...counted.getHeaders() } }));
    handle(counted);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { port } = server.address() as AddressInfo;
    const received = await new Promise<Seen['received']>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        res.resume();
        res.once('end', () => resolve(res.headers));
      })
        .once('error', reject)
        .end();
    });
    return { ...(await ended), received };
  } finally {
    server.close();
  }
}

it('keeps the headers of a head written from one writeHead object, which Node does not keep', async () => {
  const seen = await serve((res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Krakend-Completed': 'false', 'content-length': 2 });
    res.end('ok');
  });
  assert.deepEqual(seen.kept, {}, "Node's getHeaders() is empty after writeHead(obj) alone");
  assert.deepEqual(seen.head, { 'Content-Type': 'text/plain', 'X-Krakend-Completed': 'false', 'content-length': 2 });
  assert.equal(seen.received['x-krakend-completed'], 'false');
});

it('keeps them with a status message too, and from a flat list of names and values', async () => {
  const withReason = await serve((res) => {
    res.writeHead(201, 'Made', { 'x-a': '1' });
    res.end();
  });
  assert.deepEqual(withReason.head, { 'x-a': '1' });
  const list = await serve((res) => {
    res.writeHead(200, ['X-A', '1', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
    res.end();
  });
  assert.deepEqual(list.head, { 'X-A': '1', 'Set-Cookie': ['a=1', 'b=2'] });
  assert.deepEqual(list.received['set-cookie'], ['a=1', 'b=2']);
});

it("leaves them to Node's getHeaders() once a header was set before the head, or with no writeHead object", async () => {
  const mixed = await serve((res) => {
    res.setHeader('Vary', 'Origin');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
  assert.equal(mixed.head, undefined);
  assert.deepEqual(mixed.kept, { vary: 'Origin', 'content-type': 'application/json' });
  const appended = await serve((res) => {
    res.appendHeader('x-b', '1');
    res.writeHead(200, { 'x-c': '2' });
    res.end();
  });
  assert.equal(appended.head, undefined);
  assert.deepEqual(appended.kept, { 'x-b': '1', 'x-c': '2' });
  const implicit = await serve((res) => {
    res.statusCode = 204;
    res.end();
  });
  assert.equal(implicit.head, undefined);
});
