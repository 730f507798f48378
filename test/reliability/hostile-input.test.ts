/**
 * Hostile requests on raw sockets (node:net), so the bytes are exactly what an attacker sends: each
 * malformed or ambiguous shape gets a 4xx and a closed connection, and nothing of it reaches a
 * backend; path tricks never take a request outside the backend path its endpoint names.
 */
import { strict as assert } from 'node:assert';
import { describe, it, type TestContext } from 'node:test';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { sendJson, startUpstream, type Upstream } from '../helpers/upstream.js';
import { title, type CaseId } from './cases.js';
import { rawRequest } from './support.js';

const H = 'Host: gw\r\n';

async function setUp(t: TestContext): Promise<{ gw: RunningGateway; up: Upstream }> {
  const up = await startUpstream(t, (req, res) => sendJson(res, 200, { url: req.url }));
  const gw = await startGateway(t, {
    endpoints: [
      {
        endpoint: '/p/{id}',
        method: 'POST',
        output_encoding: 'no-op',
        backend: [{ host: [up.url], url_pattern: '/public/{id}', method: 'POST' }],
      },
      { endpoint: '/g/{id}', backend: [{ host: [up.url], url_pattern: '/public/{id}/view' }] },
      {
        endpoint: '/n/{id}',
        output_encoding: 'no-op',
        backend: [{ host: [up.url], url_pattern: '/public/{id}/view' }],
      },
      { endpoint: '/w/*', output_encoding: 'no-op', backend: [{ host: [up.url], url_pattern: '/public/wild' }] },
    ],
  });
  return { gw, up };
}

/** Each request is answered with `status` and its connection closed, and the backend saw nothing. */
async function rejects(t: TestContext, requests: readonly string[], status: number): Promise<void> {
  const { gw, up } = await setUp(t);
  for (const bytes of requests) {
    const a = await rawRequest(gw.port, bytes);
    assert.match(
      a.text,
      new RegExp(`^HTTP/1\\.1 ${status} `),
      `${JSON.stringify(bytes.slice(0, 80))} → ${JSON.stringify(a.text.slice(0, 40))}`,
    );
    assert.ok(a.closed, `${JSON.stringify(bytes.slice(0, 80))}: the connection is closed`);
    assert.ok(a.ms < 900, `answered in ${a.ms.toFixed(0)} ms`);
    if (status !== 431)
      assert.match(a.text, status === 505 ? /"code":"TG_ERR_HTTP_VERSION"/ : /"code":"TG_ERR_BAD_REQUEST"/);
  }
  assert.deepEqual(up.seen, [], 'nothing reached the backend');
}

const REJECTED: [CaseId, number, string[]][] = [
  [
    'hostile-garbage-request-line',
    400,
    [
      'GARBAGE\r\n\r\n',
      '\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\u00a1\u0003\u0003',
      'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
    ],
  ],
  [
    'hostile-invalid-method',
    400,
    [`G@T /g/1 HTTP/1.1\r\n${H}\r\n`, `FOO /g/1 HTTP/1.1\r\n${H}\r\n`, `get /g/1 HTTP/1.1\r\n${H}\r\n`],
  ],
  ['hostile-bare-lf', 400, [`GET /g/1 HTTP/1.1\n${H.replace('\r', '')}\n`]],
  ['hostile-nul-in-header', 400, [`GET /g/1 HTTP/1.1\r\n${H}X-A: a\u0000b\r\n\r\n`]],
  ['hostile-space-before-colon', 400, [`POST /p/1 HTTP/1.1\r\n${H}Content-Length : 4\r\n\r\nabcd`]],
  ['hostile-no-host', 400, ['GET /g/1 HTTP/1.1\r\n\r\n']],
  ['hostile-http09', 400, ['GET /g/1\r\n\r\n']],
  [
    'hostile-duplicate-host',
    400,
    [
      `GET /g/1 HTTP/1.1\r\nHost: gw\r\nHost: other\r\n\r\n`,
      `GET /g/1 HTTP/1.1\r\nHost: gw\r\nHost: gw\r\n\r\n`,
      `GET /g/1 HTTP/1.0\r\nHost: gw\r\nhost: other\r\n\r\n`,
    ],
  ],
  [
    'hostile-invalid-host',
    400,
    [
      `GET /g/1 HTTP/1.1\r\nHost: a b\r\n\r\n`,
      `GET /g/1 HTTP/1.1\r\nHost: gw/evil\r\n\r\n`,
      `GET /g/1 HTTP/1.1\r\nHost: gw\u0001\r\n\r\n`,
      `GET /g/1 HTTP/1.1\r\nHost: "gw"\r\n\r\n`,
    ],
  ],
  [
    'hostile-unsupported-version',
    505,
    [`GET /g/1 HTTP/2.0\r\n${H}\r\n`, `GET /g/1 HTTP/3.0\r\n${H}\r\n`, `GET /g/1 HTTP/1.2\r\n${H}\r\n`],
  ],
  [
    'hostile-connect',
    400,
    [`CONNECT gw:443 HTTP/1.1\r\nHost: gw:443\r\n\r\n`, `CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n`],
  ],
  ['hostile-absolute-form', 400, [`GET http://evil.example/g/1 HTTP/1.1\r\n${H}Connection: close\r\n\r\n`]],
  [
    'hostile-oversized-headers',
    431,
    [
      `GET /g/1 HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      `GET /g/1 HTTP/1.1\r\n${H}${Array.from({ length: 3000 }, (_, i) => `X${i}: a\r\n`).join('')}\r\n`,
      `GET /g/${'a'.repeat(20_000)} HTTP/1.1\r\n${H}\r\n`,
    ],
  ],
  [
    'hostile-cl-te',
    400,
    [
      `POST /p/1 HTTP/1.1\r\n${H}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      `POST /p/1 HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n`,
    ],
  ],
  [
    'hostile-duplicate-cl',
    400,
    [
      `POST /p/1 HTTP/1.1\r\n${H}Content-Length: 4\r\nContent-Length: 5\r\n\r\nabcde`,
      `POST /p/1 HTTP/1.1\r\n${H}Content-Length: 4\r\nContent-Length: 4\r\n\r\nabcd`,
    ],
  ],
  ['hostile-cl-list', 400, [`POST /p/1 HTTP/1.1\r\n${H}Content-Length: 4, 4\r\n\r\nabcd`]],
  [
    'hostile-bad-cl',
    400,
    [
      `POST /p/1 HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`,
      `POST /p/1 HTTP/1.1\r\n${H}Content-Length: +4\r\n\r\nabcd`,
    ],
  ],
  [
    'hostile-te-not-chunked',
    400,
    [
      `POST /p/1 HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\n\r\n`,
      `POST /p/1 HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n`,
      `POST /p/1 HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    ],
  ],
  ['hostile-obs-fold', 400, [`GET /g/1 HTTP/1.1\r\n${H}X-Test: a\r\n  folded\r\n\r\n`]],
  [
    'hostile-bad-chunk',
    400,
    [
      `POST /p/1 HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nabcd\r\n0\r\n\r\n`,
      `POST /p/1 HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n4;\u0000\r\nabcd\r\n0\r\n\r\n`,
    ],
  ],
];

/** The path the backend would serve, resolved as a WHATWG URL parser does (`..`, `%2e%2e`). */
function resolved(url: string): string {
  return new URL(url, 'http://backend').pathname;
}

describe('hostile input', () => {
  for (const [id, status, requests] of REJECTED) it(title(id), (t) => rejects(t, requests, status));

  it(title('hostile-pipelined'), async (t) => {
    const { gw, up } = await setUp(t);
    const a = await rawRequest(
      gw.port,
      `POST /p/1 HTTP/1.1\r\n${H}Content-Length: 0\r\n\r\nGET /g/2 HTTP/1.1\r\n${H}Connection: close\r\n\r\n`,
    );
    assert.equal(a.text.match(/HTTP\/1\.1 200 /g)?.length, 2, 'two answers');
    // Each went to the backend as its own, unambiguously framed request: no bytes of one in the other.
    assert.deepEqual(
      up.seen.map((s) => `${s.method} ${s.url} ${s.body.length}`),
      ['POST /public/1 0', 'GET /public/2/view 0'],
    );
  });

  it(title('hostile-dot-segment'), async (t) => {
    const { gw, up } = await setUp(t);
    for (const prefix of ['/g', '/n']) {
      for (const seg of ['..', '%2e%2e', '%2E%2E', '.%2E', '%2e.', '.', '%2e']) {
        const a = await rawRequest(gw.port, `GET ${prefix}/${seg} HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
        assert.match(a.text, /^HTTP\/1\.1 400 /, `${prefix}/${seg}`);
        assert.match(a.text, /"code":"TG_ERR_BAD_REQUEST"/);
      }
    }
    assert.deepEqual(up.seen, [], 'no dot segment reached the backend');
  });

  it(title('hostile-encoded-slash'), async (t) => {
    const { gw, up } = await setUp(t);
    const tricks = ['..%2fadmin', '..%2F..%2Fadmin', '%2e%2e%2fadmin', '..%5cadmin', '..%252fadmin', 'a%2f..%2f..'];
    for (const seg of tricks) {
      const a = await rawRequest(gw.port, `GET /g/${seg} HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
      assert.match(a.text, /^HTTP\/1\.1 200 /, seg);
    }
    // The value stays one encoded segment (RFC 3986 §2.2: an encoded "/" is data) and resolving the
    // URL keeps it under /public/…/view.
    assert.equal(up.seen.length, tricks.length);
    for (const s of up.seen) {
      assert.match(s.url, /^\/public\/[^/]+\/view$/, s.url);
      assert.match(resolved(s.url), /^\/public\/[^/]+\/view$/, `${s.url} resolves to ${resolved(s.url)}`);
    }
  });

  it(title('hostile-wildcard-traversal'), async (t) => {
    const { gw, up } = await setUp(t);
    for (const rest of ['../../admin', '%2e%2e/%2e%2e/admin', 'a/../../../etc/passwd', '..%2f..%2fadmin']) {
      const a = await rawRequest(gw.port, `GET /w/${rest} HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
      assert.match(a.text, /^HTTP\/1\.1 200 /, rest);
    }
    assert.deepEqual(
      [...new Set(up.seen.map((s) => s.url))],
      ['/public/wild'],
      'a wildcard backend gets its url_pattern, never the client path',
    );
    const out = await rawRequest(gw.port, `GET /g/../admin HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
    assert.match(out.text, /^HTTP\/1\.1 404 /, 'dot segments in the request path do not match another endpoint');
  });
});
