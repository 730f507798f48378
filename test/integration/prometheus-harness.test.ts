/**
 * Self-test of the Prometheus harness (test/helpers/prometheus.ts): a real Prometheus scrapes tiny fixed
 * expositions from node:http servers and we read back, through its HTTP API, what it ingested.
 *
 * One Prometheus serves all subtests because in 2.x the first scrape comes ~5 s after start regardless of
 * scrape_interval (static targets pass the discovery manager's hard-coded 5 s ticker); a server per
 * subtest would multiply that.
 */
import { strict as assert } from 'node:assert';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { skipUnlessJudge } from '../helpers/judges.js';
import { startPrometheus } from '../helpers/prometheus.js';
import { closeServer } from '../helpers/upstream.js';

const TEXT_CT = 'text/plain; version=0.0.4; charset=utf-8';
const OM_CT = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

const TEXT_EXPOSITION = [
  '# HELP tollgate_test_requests_total Requests handled.',
  '# TYPE tollgate_test_requests_total counter',
  'tollgate_test_requests_total{route="/a"} 42',
  '',
].join('\n');

// Bucket bounds deliberately mix spellings ("1" vs "1.0e+06") to observe what Prometheus stores.
const omExposition = (exemplarTs: string): string =>
  [
    '# TYPE tollgate_test_latency_seconds histogram',
    '# UNIT tollgate_test_latency_seconds seconds',
    '# HELP tollgate_test_latency_seconds Request latency.',
    'tollgate_test_latency_seconds_bucket{le="0.1"} 0',
    `tollgate_test_latency_seconds_bucket{le="1"} 1 # {trace_id="4bf92f3577b34da6a3ce929d0e0e4736"} 0.5 ${exemplarTs}`,
    'tollgate_test_latency_seconds_bucket{le="1.0e+06"} 1',
    'tollgate_test_latency_seconds_bucket{le="+Inf"} 1',
    'tollgate_test_latency_seconds_sum 0.5',
    'tollgate_test_latency_seconds_count 1',
    '# EOF',
    '',
  ].join('\n');

interface Served {
  readonly target: string;
  readonly requests: IncomingHttpHeaders[];
}

/** Serves /metrics; `render` picks body and content type from the request's Accept header. */
async function serveMetrics(
  t: TestContext,
  render: (accept: string, headers: IncomingHttpHeaders) => { status?: number; type: string; body: string },
): Promise<Served> {
  const requests: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    requests.push(req.headers);
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    const out = render(req.headers.accept ?? '', req.headers);
    res.writeHead(out.status ?? 200, { 'content-type': out.type, 'content-length': Buffer.byteLength(out.body) });
    res.end(out.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => closeServer(server));
  const { port } = server.address() as AddressInfo;
  return { target: `127.0.0.1:${port}`, requests };
}

test('prometheus harness: real scrapes, queries, target health and exemplars', { timeout: 60_000 }, async (t) => {
  if (skipUnlessJudge(t, 'prometheus')) return;

  // Plain 0.0.4 only, whatever the scraper asks for.
  const text = await serveMetrics(t, () => ({ type: TEXT_CT, body: TEXT_EXPOSITION }));
  // Negotiates: OpenMetrics when Accept offers it (Prometheus 2.x offers it first), 0.0.4 otherwise; and
  // insists on a bearer token so the authorization option is exercised.
  const om = await serveMetrics(t, (accept, headers) => {
    if (headers.authorization !== 'Bearer s3cret') return { status: 401, type: 'text/plain', body: 'no token\n' };
    if (accept.includes('application/openmetrics-text'))
      return { type: OM_CT, body: omExposition((Date.now() / 1000).toFixed(3)) };
    return {
      type: TEXT_CT,
      body: '# TYPE tollgate_test_latency_seconds histogram\ntollgate_test_latency_seconds_bucket{le="+Inf"} 1\ntollgate_test_latency_seconds_sum 0.5\ntollgate_test_latency_seconds_count 1\n',
    };
  });
  // OpenMetrics without the mandatory "# EOF": Prometheus must reject the whole scrape.
  const broken = await serveMetrics(t, () => ({ type: OM_CT, body: '# TYPE b counter\nb_total 1\n' }));

  const prom = await startPrometheus(t, {
    scrapeIntervalMs: 500,
    exemplars: true,
    targets: [
      { job: 'text', target: text.target, labels: { app: 'tollgate-test' } },
      { job: 'om', target: om.target, labels: { app: 'tollgate-test' }, authorizationBearer: 's3cret' },
      { job: 'broken', target: broken.target },
    ],
  });
  t.diagnostic(`prometheus ${prom.version} at ${prom.url}`);

  await t.test('0.0.4 counter: value and static label arrive', async () => {
    const target = await prom.waitForScrapes('text', 2);
    assert.equal(target.health, 'up');
    assert.equal(target.lastError, '');
    assert.equal(target.labels['app'], 'tollgate-test');
    const v = await prom.query('tollgate_test_requests_total{job="text"}');
    assert.equal(v.length, 1, JSON.stringify(v));
    assert.equal(v[0]?.value, 42);
    assert.deepEqual(v[0]?.metric, {
      __name__: 'tollgate_test_requests_total',
      app: 'tollgate-test',
      instance: text.target,
      job: 'text',
      route: '/a',
    });
    // The harness's scrape_timeout equals the interval, so sub-second intervals are valid config.
    assert.equal(target.scrapeInterval, '500ms');
  });

  await t.test('OpenMetrics histogram: negotiated, le stored verbatim, exemplar queryable', async () => {
    const target = await prom.waitForScrapes('om', 2);
    assert.equal(target.lastError, '');
    assert.match(om.requests[0]?.accept ?? '', /^application\/openmetrics-text;version=1\.0\.0/);
    const buckets = await prom.query('tollgate_test_latency_seconds_bucket{job="om"}');
    // Prometheus 2.x keeps the exposed spelling of le ("1", "1.0e+06"); 3.x would normalise to "1.0"/"1e+06".
    assert.deepEqual(buckets.map((s) => s.metric['le']).sort(), ['+Inf', '0.1', '1', '1.0e+06']);
    const now = Date.now() / 1000;
    const series = await prom.queryExemplars('tollgate_test_latency_seconds_bucket{job="om"}', now - 120, now + 60);
    const exemplars = series.flatMap((s) => s.exemplars.map((e) => ({ le: s.seriesLabels['le'], ...e })));
    assert.ok(exemplars.length > 0, 'no exemplars stored');
    assert.deepEqual(exemplars[0]?.labels, { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' });
    assert.equal(exemplars[0]?.le, '1');
    assert.equal(exemplars[0]?.value, '0.5');
  });

  await t.test('a malformed exposition marks the target down with the parser error', async () => {
    const target = await prom.waitForScrapes('broken', 1, 15_000, { requireUp: false });
    assert.equal(target.health, 'down');
    assert.match(target.lastError, /EOF/);
    assert.deepEqual(await prom.query('b_total'), []);
    // waitForScrapes' default (requireUp) turns the same situation into an error carrying lastError.
    await assert.rejects(prom.waitForScrapes('broken', 1), /scrape failed \(up=0\).*EOF/);
  });

  await t.test('API errors surface the PromQL error text', async () => {
    await assert.rejects(prom.query('sum(('), /bad_data/);
  });
});
