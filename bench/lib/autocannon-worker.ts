// Child process: one autocannon run, result printed as a single JSON line on
// stdout. autocannon is JavaScript, so it must not share an event loop with
// any proxy (or with the driver's bookkeeping) — hence its own process.

import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import type { LoadResult } from './load-result.js';

// Stop if the driver disappears instead of loading a port nobody measures.
process.once('disconnect', () => process.exit(0));

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    connections: { type: 'string', default: '50' },
    duration: { type: 'string', default: '10' },
    timeout: { type: 'string', default: '5' },
    /** A JSON object of header names to values, sent with every request. */
    headers: { type: 'string' },
  },
});
if (values.url === undefined) throw new Error('autocannon worker needs --url');
const headers = values.headers === undefined ? undefined : (JSON.parse(values.headers) as Record<string, string>);

const result = await autocannon({
  url: values.url,
  connections: Number(values.connections),
  duration: Number(values.duration),
  timeout: Number(values.timeout),
  ...(headers === undefined ? {} : { headers }),
});

const requests = result.requests.total;
const summary: LoadResult = {
  tool: 'autocannon',
  durationSeconds: result.duration,
  requests,
  // total / elapsed, the same definition wrk uses for Requests/sec.
  requestsPerSecond: result.duration > 0 ? requests / result.duration : 0,
  latencyMs: {
    avg: result.latency.average,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
  },
  errors: result.errors,
  non2xx: result.non2xx,
  bytesPerResponse: requests === 0 ? 0 : result.throughput.total / requests,
};
process.stdout.write(`${JSON.stringify(summary)}\n`);
process.exit(0);
