/**
 * What a backend or a client can send that the proxy path must bound or tolerate: compressed and deeply
 * nested bodies (decoded size and depth are bounded, that backend fails alone), interim 1xx responses
 * (skipped, the final one relayed), `Expect: 100-continue` (answered here, never forwarded), a no-op
 * request whose body undici consumes (its telemetry still complete), and `;` in a query string
 * (never smuggles a parameter past `input_query_strings`).
 */
import { strict as assert } from 'node:assert';
import { connect, type Socket } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { createBrotliCompress, createDeflate, createGzip, constants as zlib, type Gzip } from 'node:zlib';
import { request } from 'undici';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { startOtlpReceiver } from '../helpers/otlp-receiver.js';
import { sendJson, startUpstream } from '../helpers/upstream.js';
import { MAX_JSON_DEPTH } from '../../src/proxy/json-depth.js';
import { title } from './cases.js';
import { startRawUpstream, total } from './support.js';
import { parseSamples } from '../helpers/exposition.js';

const MB = 1024 * 1024;

/** `{"big":"aaa…"}` of `size` bytes, compressed as it is made: the test never holds it inflated. */
function compressedJson(make: () => Gzip, size: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const z = make();
    const out: Buffer[] = [];
    z.on('data', (c: Buffer) => out.push(c));
    z.on('end', () => resolve(Buffer.concat(out)));
    z.on('error', reject);
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    z.write('{"big":"');
    let left = size - 10;
    const pump = (): void => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!z.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          z.once('drain', pump);
          return;
        }
      }
      z.end('"}');
    };
    pump();
  });
}

/** A merge endpoint with a healthy backend (`ok`) and the one under test (`bad`), grouped apart. */
async function mergeGateway(
  t: TestContext,
  badUrl: string,
  extra: Record<string, unknown> = {},
): Promise<RunningGateway> {
  const good = await startUpstream(t, (_req, res) => sendJson(res, 200, { fine: true }));
  return startGateway(t, {
    max_buffered_body: MB,
    ...extra,
    endpoints: [
      {
        endpoint: '/merge',
        input_headers: ['Accept-Encoding'],
        backend: [
          { host: [good.url], url_pattern: '/ok', group: 'ok' },
          { host: [badUrl], url_pattern: '/bad', group: 'bad' },
        ],
      },
    ],
  });
}

/** Most bytes held in ArrayBuffers (zlib output, bodies) above the baseline while `run` goes on. */
async function peakBuffers<T>(run: () => Promise<T>): Promise<{ result: T; peak: number }> {
  const base = process.memoryUsage().arrayBuffers;
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers - base)), 2);
  try {
    const result = await run();
    peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
    return { result, peak };
  } finally {
    clearInterval(timer);
  }
}

/** A raw HTTP/1.1 response with a JSON body, preceded by `interim` (whole 1xx blocks). */
function rawAnswer(interim: string, body: string): string {
  return `${interim}HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** Reads from a raw client socket until `pattern` shows up in what arrived (or the socket closes). */
function readUntil(s: Socket, pattern: RegExp, ms = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(
      () => finish(new Error(`timed out waiting for ${String(pattern)}; got ${JSON.stringify(text.slice(0, 200))}`)),
      ms,
    );
    const onData = (d: Buffer): void => {
      text += d.toString('latin1');
      if (pattern.test(text)) finish(undefined);
    };
    const onClose = (): void =>
      finish(
        pattern.test(text)
          ? undefined
          : new Error(`closed before ${String(pattern)}; got ${JSON.stringify(text.slice(0, 200))}`),
      );
    function finish(err: Error | undefined): void {
      clearTimeout(timer);
      s.off('data', onData);
      s.off('close', onClose);
      if (err === undefined) resolve(text);
      else reject(err);
    }
    s.on('data', onData);
    s.on('close', onClose);
  });
}

/** Interim 1xx heads from a raw backend, before each final answer; the client gets the final one only. */
async function interimResponses(t: TestContext, encoding: 'noop' | 'json'): Promise<void> {
  // Each entry: the pieces written before the final answer, 5 ms apart (so they arrive as separate reads).
  const interims = [
    ['HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n'],
    ['HTTP/1.1 102 Processing\r\n\r\n'],
    ['HTTP/1.1 100 Continue\r\n\r\n'],
    ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </b.js>\r\n\r\n'],
    ['HTTP/1.1 1', '00 Continue\r\nx-a: 1\r\n', '\r\nHTTP/1.1 100 Continue\r\n\r\n'],
  ];
  let served = 0;
  const up = await startRawUpstream(t, (socket, n) => {
    const pieces = interims[(n - 1) % interims.length] as string[];
    served++;
    const all = [...pieces, rawAnswer('', `{"n":${n}}`)];
    const next = (): void => {
      const piece = all.shift();
      if (piece === undefined || socket.destroyed) return;
      socket.write(piece, 'latin1');
      setTimeout(next, 5);
    };
    next();
  });
  const gw = await startGateway(t, {
    endpoints: [
      {
        endpoint: '/x',
        output_encoding: encoding === 'noop' ? 'no-op' : 'json',
        timeout: '2s',
        backend: [{ host: [up.url], url_pattern: '/x' }],
      },
    ],
  });
  // Sequential requests share the pooled backend connection, so each answer starts on a reused socket too.
  for (let i = 1; i <= interims.length * 2; i++) {
    const started = performance.now();
    const r = await request(`${gw.url}/x`);
    const text = await r.body.text();
    assert.equal(r.statusCode, 200, `request ${i}: ${text}`);
    assert.deepEqual(JSON.parse(text), { n: i }, `request ${i}`);
    assert.ok(performance.now() - started < 1_000, `request ${i} answered in time`);
    if (encoding === 'json') assert.equal(r.headers['x-krakend-completed'], 'true');
    else assert.equal(r.headers.link, undefined, 'interim headers are not merged into the final ones');
  }
  assert.equal(served, interims.length * 2);
  assert.equal(up.accepted, 1, 'one backend connection carried every request');
}

describe('proxy limits', () => {
  it(title('limits-decoded-size'), async (t) => {
    const makers = {
      gzip: () => createGzip(),
      deflate: () => createDeflate() as unknown as Gzip,
      br: () => createBrotliCompress({ params: { [zlib.BROTLI_PARAM_QUALITY]: 4 } }) as unknown as Gzip,
    } as const;
    for (const [encoding, make] of Object.entries(makers)) {
      // 64 MB once inflated, a few hundred KB on the wire: under the 1 MB limit as sent.
      const body = await compressedJson(make, 64 * MB);
      assert.ok(body.length < MB, `${encoding} bomb is ${body.length} bytes on the wire`);
      const bad = await startUpstream(t, (_req, res) => {
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-encoding': encoding,
          'content-length': body.length,
        });
        res.end(body);
      });
      const gw = await mergeGateway(t, bad.url);
      const started = performance.now();
      const { result: r, peak } = await peakBuffers(async () => {
        const res = await request(`${gw.url}/merge`, { headers: { 'accept-encoding': encoding } });
        return { status: res.statusCode, completed: res.headers['x-krakend-completed'], body: await res.body.text() };
      });
      const ms = performance.now() - started;
      assert.equal(r.status, 200, `${encoding}: ${r.body.slice(0, 200)}`);
      assert.equal(r.completed, 'false', `${encoding}: the bomb backend fails`);
      assert.deepEqual(JSON.parse(r.body), { ok: { fine: true } }, encoding);
      assert.ok(
        peak < 24 * MB,
        `${encoding}: decoding stopped at the limit (peak ${(peak / MB).toFixed(1)} MB of buffers)`,
      );
      assert.ok(ms < 1_500, `${encoding}: answered in ${ms.toFixed(0)} ms`);
      const logged = gw.logs.find((l) => l.msg === 'backend request failed' && l.backend === '/bad');
      assert.equal(logged?.code, 'TG_ERR_BACKEND_DECODE', encoding);
      t.diagnostic(
        `${encoding}: ${body.length} bytes on the wire, answered in ${ms.toFixed(0)} ms, buffers peak +${(peak / MB).toFixed(1)} MB`,
      );
    }
  });

  it(title('limits-json-depth'), async (t) => {
    const deep = (n: number): string => `{"deep":${'['.repeat(n - 1)}${']'.repeat(n - 1)}}`;
    let next = deep(100_000);
    const bad = await startUpstream(t, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(next);
    });
    const gw = await mergeGateway(t, bad.url);
    const fetchMerge = async (): Promise<{ status: number; completed: unknown; body: string }> => {
      const r = await request(`${gw.url}/merge`);
      return { status: r.statusCode, completed: r.headers['x-krakend-completed'], body: await r.body.text() };
    };
    for (const [depth, completed] of [
      [100_000, 'false'],
      [MAX_JSON_DEPTH + 1, 'false'],
      [MAX_JSON_DEPTH, 'true'],
    ] as const) {
      next = deep(depth);
      const r = await fetchMerge();
      assert.equal(r.status, 200, `depth ${depth}: ${r.body.slice(0, 200)}`);
      assert.equal(r.completed, completed, `depth ${depth}`);
      if (completed === 'false') assert.deepEqual(JSON.parse(r.body), { ok: { fine: true } });
    }
    const logged = gw.logs.filter((l) => l.msg === 'backend request failed' && l.backend === '/bad');
    assert.equal(logged[0]?.code, 'TG_ERR_BACKEND_DECODE');
    // Brackets inside strings are not nesting.
    next = `{"s":"${'[{'.repeat(20_000)}\\"[","deep":[[[]]]}`;
    const strings = await fetchMerge();
    assert.equal(strings.completed, 'true', strings.body.slice(0, 200));
    // A yaml endpoint renders with a recursive serializer: its bound is lower, and still per backend.
    const yaml = await startGateway(t, {
      endpoints: [
        { endpoint: '/y', output_encoding: 'yaml', backend: [{ host: [bad.url], url_pattern: '/bad', group: 'bad' }] },
      ],
    });
    next = `{"deep":${'{"a":'.repeat(MAX_JSON_DEPTH)}1${'}'.repeat(MAX_JSON_DEPTH)}}`;
    const y = await request(`${yaml.url}/y`);
    const ytext = await y.body.text();
    assert.equal(y.statusCode, 500, ytext.slice(0, 200));
    assert.match(ytext, /TG_ERR_ALL_BACKENDS_FAILED/);
  });

  it(title('interim-responses-noop'), (t) => interimResponses(t, 'noop'));
  it(title('interim-responses-json'), (t) => interimResponses(t, 'json'));

  it(title('expect-100-continue'), async (t) => {
    const up = await startUpstream(t, (req, res, body) =>
      sendJson(res, 200, { got: body.length, expect: req.headers.expect ?? null }),
    );
    const gw = await startGateway(t, {
      endpoints: [
        {
          endpoint: '/up',
          method: 'POST',
          output_encoding: 'no-op',
          input_headers: ['*'],
          backend: [{ host: [up.url], url_pattern: '/n', method: 'POST' }],
        },
        {
          endpoint: '/merge',
          method: 'POST',
          input_headers: ['*'],
          backend: [{ host: [up.url], url_pattern: '/j', method: 'POST' }],
        },
        {
          endpoint: '/listed',
          method: 'POST',
          output_encoding: 'no-op',
          input_headers: ['Expect'],
          backend: [{ host: [up.url], url_pattern: '/l', method: 'POST' }],
        },
      ],
    });
    const body = Buffer.alloc(2 * MB, 0x62);
    for (const path of ['/up', '/merge', '/listed']) {
      const s = connect(gw.port, '127.0.0.1');
      t.after(() => s.destroy());
      await new Promise<void>((r) => s.once('connect', r));
      // What curl sends for an upload over 1 MiB: the headers, then the body only once 100 arrives.
      s.write(
        `POST ${path} HTTP/1.1\r\nHost: gw\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`,
      );
      const head = await readUntil(s, /\r\n\r\n/);
      assert.match(head, /^HTTP\/1\.1 100 Continue\r\n/, `${path}: ${JSON.stringify(head)}`);
      s.write(body);
      const answer = await readUntil(s, /\r\n\r\n[\s\S]*\}/);
      assert.match(answer, /^HTTP\/1\.1 200 /, `${path}: ${answer.slice(0, 300)}`);
      const json = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
      assert.deepEqual(json, { got: body.length, expect: null }, path);
      s.destroy();
    }
  });

  it(title('noop-body-telemetry'), async (t) => {
    const rx = await startOtlpReceiver(t);
    const up = await startUpstream(t, (_req, res, body) => sendJson(res, 200, { got: body.length }));
    const gw = await startGateway(t, {
      extra_config: {
        'telemetry/opentelemetry': {
          service_name: 'tg-limits',
          exporters: { otlp: [{ name: 'rx', host: '127.0.0.1', port: rx.grpcPort }] },
        },
        'telemetry/kong-prometheus': { bandwidth_metrics: true, listen_address: '127.0.0.1:0' },
      },
      endpoints: [
        {
          endpoint: '/upload',
          method: 'POST',
          output_encoding: 'no-op',
          backend: [{ host: [up.url], url_pattern: '/u', method: 'POST' }],
        },
      ],
    });
    const kong = async (): Promise<number> => {
      const r = await request(`http://127.0.0.1:${gw.gateway.telemetry.kongStatus?.address?.port}/metrics`);
      return total(parseSamples(await r.body.text()), 'kong_bandwidth_bytes', {
        route: '/upload',
        direction: 'ingress',
      });
    };
    const before = await kong();
    const r = await request(`${gw.url}/upload`, {
      method: 'POST',
      body: Buffer.alloc(2 * MB, 0x63),
      headers: { 'content-type': 'application/octet-stream' },
    });
    assert.deepEqual(await r.body.json(), { got: 2 * MB });
    const grown = (await kong()) - before;
    assert.ok(grown >= 2 * MB, `ingress grew by ${grown} bytes`);
    await gw.gateway.close(2_000);
    // The whole tree of the default layers: server, proxy, backend stage, client round trip, payload read.
    await rx.waitFor(() => rx.spans().length >= 5);
    const spans = rx.spans();
    assert.deepEqual(spans.map((s) => `${s.kind} ${s.name}`).sort(), [
      'SPAN_KIND_CLIENT /u',
      'SPAN_KIND_INTERNAL /u',
      'SPAN_KIND_INTERNAL /upload',
      'SPAN_KIND_INTERNAL http.client.response.read.tracker',
      'SPAN_KIND_SERVER /upload',
    ]);
    const server = spans.find((s) => s.kind === 'SPAN_KIND_SERVER');
    // Go's RemoteAddr, as krakend-otel writes it: ip:port.
    assert.match(String(server?.attributes['client.address']), /^127\.0\.0\.1:\d+$/);
    assert.equal(server?.attributes['http.request.body.size'], 2 * MB);
    assert.equal(gw.logs.filter((l) => String(l.msg).includes('telemetry')).length, 0, JSON.stringify(gw.logs));
  });

  it(title('query-semicolon'), async (t) => {
    const up = await startUpstream(t, (req, res) => sendJson(res, 200, { url: req.url }));
    const gw = await startGateway(t, {
      endpoints: [
        { endpoint: '/a', input_query_strings: ['a'], backend: [{ host: [up.url], url_pattern: '/a' }] },
        {
          endpoint: '/ab',
          input_query_strings: ['a', 'b', 'q'],
          output_encoding: 'no-op',
          backend: [{ host: [up.url], url_pattern: '/ab' }],
        },
        { endpoint: '/all', input_query_strings: ['*'], backend: [{ host: [up.url], url_pattern: '/all?fixed=1' }] },
      ],
    });
    const seen = async (path: string): Promise<string | undefined> => {
      up.seen.length = 0;
      await (await request(`${gw.url}${path}`)).body.dump();
      return up.seen[0]?.url;
    };
    // Go's url.ParseQuery (1.17+) drops a pair with a `;` in it, so KrakenD never forwards it.
    assert.equal(await seen('/a?a=1;admin=true&b=2'), '/a');
    assert.equal(await seen('/a?b=2&a=1&admin=true'), '/a?a=1');
    assert.equal(await seen('/ab?a=1;admin=true&b=2'), '/ab?b=2');
    assert.equal(await seen('/ab?a=1&a=2&b=x;y'), '/ab?a=1&a=2');
    // Re-encoded from the decoded values: an escaped `;` is data, `+` a space, `%zz` not a value.
    assert.equal(await seen('/ab?a=1%3Badmin%3Dtrue&q=a+b&b=%zz'), '/ab?a=1%3Badmin%3Dtrue&q=a+b');
    assert.equal(await seen('/ab?q=%7e%20%2B%27'), '/ab?q=~+%2B%27');
    assert.equal(await seen('/all?a=1;admin=true&b=2'), '/all?fixed=1&b=2');
    assert.equal(await seen('/all?x=1&y=2'), '/all?fixed=1&x=1&y=2');
  });
});
