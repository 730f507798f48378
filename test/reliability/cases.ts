/**
 * Every case the reliability and security suite tries, by id. Tests name themselves with `title(id)`,
 * and test/reliability/doc.test.ts checks that each id is used by a test and has its row in
 * docs/reliability.md (and that the doc lists nothing else), so the three cannot drift apart.
 */
export const CASES = {
  // Faults of a backend, on loopback (faults.test.ts).
  'fault-refused-noop': 'a backend that refuses connections, no-op endpoint',
  'fault-refused-json': 'a backend that refuses connections, json endpoint',
  'fault-reset-before-headers-noop': 'a backend that resets the connection before answering, no-op',
  'fault-reset-before-headers-json': 'a backend that resets the connection before answering, json',
  'fault-reset-mid-body-noop': 'a backend that resets the connection in the middle of the body, no-op',
  'fault-reset-mid-body-json': 'a backend that resets the connection in the middle of the body, json',
  'fault-stall-headers-noop': 'a backend that never sends headers, no-op',
  'fault-stall-headers-json': 'a backend that never sends headers, json',
  'fault-stall-body-noop': 'a backend that stops in the middle of the body, no-op',
  'fault-stall-body-json': 'a backend that stops in the middle of the body, json',
  'fault-garbage-noop': 'a backend that answers something that is not HTTP, no-op',
  'fault-garbage-json': 'a backend that answers something that is not HTTP, json',
  'fault-stale-keepalive-noop': 'a backend that closed the pooled keep-alive socket the next GET is sent on, no-op',
  'fault-stale-keepalive-json': 'a backend that closed the pooled keep-alive socket the next GET is sent on, json',
  'fault-stale-keepalive-post': 'the same for a POST with a streamed body, which must not be sent twice',
  'fault-close-race': 'a backend that closes every socket 1 ms after its response, under concurrency',
  'fault-heap': 'repeated fault rounds leave no request objects behind and the heap near its baseline',
  // A graceful stop (drain.test.ts).
  'drain-in-flight': 'a stop while a request is at the backend',
  'drain-silent-connection': 'a stop between a connection being accepted and its request arriving',
  'drain-idle-keepalive': 'a stop with an idle keep-alive connection open',
  // Telemetry sinks that are dead or slow (dead-sinks.test.ts).
  'sink-dead-all':
    'OTLP gRPC and HTTP collectors and InfluxDB that accept and never answer, a scraper that never reads',
  // Hostile requests on raw sockets (hostile-input.test.ts).
  'hostile-garbage-request-line': 'a request line that is not HTTP',
  'hostile-invalid-method': 'a method outside the HTTP token set, and an unknown one',
  'hostile-bare-lf': 'header lines ended by LF only',
  'hostile-nul-in-header': 'a NUL byte in a header value',
  'hostile-space-before-colon': 'whitespace between a header name and its colon',
  'hostile-no-host': 'an HTTP/1.1 request without Host',
  'hostile-http09': 'an HTTP/0.9 request line (no version)',
  'hostile-absolute-form': 'an absolute-form request target',
  'hostile-oversized-headers': 'headers over 16 KiB: one large, many small, a long URL',
  'hostile-cl-te': 'Content-Length together with Transfer-Encoding',
  'hostile-duplicate-cl': 'two Content-Length headers, different and equal',
  'hostile-cl-list': 'a Content-Length list value',
  'hostile-bad-cl': 'a negative or signed Content-Length',
  'hostile-te-not-chunked': 'a Transfer-Encoding whose last coding is not chunked, or given twice',
  'hostile-obs-fold': 'an obs-fold continuation line',
  'hostile-bad-chunk': 'a chunk size that overflows, a NUL in a chunk extension',
  'hostile-pipelined': 'a second request pipelined behind a body-less POST',
  'hostile-dot-segment': 'a path parameter that is a dot segment: .., %2e%2e, .%2E, .',
  'hostile-encoded-slash': 'a path parameter with an encoded slash or backslash',
  'hostile-wildcard-traversal': 'dot segments under a wildcard endpoint',
  // Cardinality (cardinality.test.ts).
  'cardinality-random-paths': '100k distinct random paths, matched and unmatched, with odd methods',
  'cardinality-random-keys': '10k random API keys on a keyed endpoint with Kong per_consumer on',
  'labels-hostile-values': 'quotes, backslashes, newlines, CR, tabs and invalid UTF-16 in label values from the config',
  'labels-reserved-names': 'static attribute keys that Prometheus reserves (le, __name__)',
  // Fuzzing (fuzz-config.test.ts, fuzz-exposition.test.ts).
  'fuzz-config-mutations': 'mutated KrakenD example configs through the loader and the gateway constructor',
  'fuzz-config-targeted': 'malformed values where they become URLs, headers, files, ports and timers',
  'fuzz-exposition': 'random families and label values through both renderers and the parsers',
  // Security defaults (security-defaults.test.ts).
  'security-loopback-defaults': 'metrics, stats, Kong status and dashboard listeners on loopback unless configured',
  'security-kong-protection': 'Kong status allow (CIDR) and token',
  'security-dashboard-token': 'the dashboard token (Bearer, cookie via /?token=)',
  'security-secrets':
    'Influx password and token, OTLP header values, API keys and the dashboard token stay out of logs, /__stats, /__debug, /metrics, the dashboard API and error bodies',
  'security-hop-by-hop': 'hop-by-hop and Connection-listed headers stripped in both directions',
  'security-xff': 'X-Forwarded-For appended to, not trusted',
  // Side listeners and telemetry readers (side-listeners.test.ts).
  'side-hostile-requests':
    'malformed targets, bad escapes in tokens and cookies, odd request forms to every side listener',
  'side-hostile-cluster':
    'the same hostile requests to the side listeners of `tollgate run` (cluster primary and workers)',
  'side-handler-failure': 'a side-listener handler that throws, rejects, or fails after sending the head',
  'reader-failing-read':
    'a snapshot read that throws or rejects in each reader: Prometheus, Kong, /__stats, dashboard, OTLP and Influx pushes',
  'primary-last-resort': 'an exception or rejection nothing handled in the cluster primary',
  // Secrets in exports (secrets.test.ts).
  'secrets-query-key':
    'an API key (query_string strategy), access tokens and URL signatures in the query: spans, log lines, /__debug',
  'secrets-header-key':
    'an API key header, Authorization, Cookie and X-API-Key with report_headers on every layer, a backend Set-Cookie',
  // Backend status codes (status-cardinality.test.ts).
  'status-out-of-range': 'a backend answering 600–999, four or five digits, or 099, no-op and json',
  'status-cardinality-backend': 'a raw backend answering 800 different statuses (200–999) on one no-op route',
  // Fail closed on settings Tollgate does not enforce (fail-closed.test.ts).
  'fail-closed-run-refuses':
    'tollgate run on a KrakenD file with rate limits, Martian and circuit breakers (its JWT and CORS are enforced)',
  'fail-closed-typo': 'tollgate run with a typo of a protective namespace ("auth/validater")',
  'fail-closed-opt-out-flag': 'the same KrakenD file with --allow-unenforced',
  'fail-closed-opt-out-setting': 'extra_config.tollgate.allow_unenforced listing one namespace',
  'fail-closed-reload-refuses': 'a SIGHUP reload to a file that adds a JWT signer (not enforced) to a running endpoint',
  // The proxy path's bounds and tolerances (proxy-limits.test.ts).
  'limits-decoded-size':
    'gzip, deflate and br bodies under max_buffered_body on the wire that inflate to 64 MB, merge endpoint',
  'limits-json-depth':
    'backend JSON nested 100,000 levels, one past the bound, at the bound, brackets inside strings; json and yaml output',
  'interim-responses-noop':
    'a raw backend sending 103, 102, an unsolicited 100 (also split over reads) before the final answer, no-op',
  'interim-responses-json': 'the same, json endpoint',
  'expect-100-continue':
    'a client sending Expect: 100-continue and waiting for 100 before a 2 MB body, input_headers ["*"] and ["Expect"]',
  'noop-body-telemetry': 'a 2 MB POST through a no-op endpoint with OTLP tracing and Kong bandwidth on',
  'query-semicolon': '`;` in a query string (a=1;admin=true) with listed and "*" input_query_strings',
  // Connections and the data listener (connections.test.ts; also hostile-input.test.ts, drain.test.ts).
  'hostile-duplicate-host': 'two Host headers, different and equal',
  'hostile-invalid-host': 'a Host value that is not a host: a space, a slash, a control byte, quotes',
  'hostile-unsupported-version': 'HTTP/2.0, HTTP/3.0 and HTTP/1.2 on a text request line',
  'hostile-connect': 'a CONNECT request',
  'drain-keepalive-next-request':
    'a stop, then the next request on a keep-alive connection that was idle when it began',
  'drain-keepalive-continuous': 'keep-alive clients sending without pause through three stops of the gateway',
  'drain-reload-keepalive': 'keep-alive clients sending without pause through three reloads of a cluster',
  'conn-silent': 'a connection that sends nothing',
  'conn-drip-headers': 'request headers dripped a byte at a time',
  'conn-idle-keepalive': 'a keep-alive connection left idle after its response',
  'conn-emfile-recovers': 'more connections than file descriptors under a low ulimit, then a normal request',
} as const;

export type CaseId = keyof typeof CASES;

/** The test name for a case: `<id>: <what it tries>`. */
export function title(id: CaseId): string {
  return `${id}: ${CASES[id]}`;
}
