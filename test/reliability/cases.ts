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
  'sink-dead-all': 'OTLP gRPC and HTTP collectors and InfluxDB that accept and never answer, a scraper that never reads',
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
  'security-secrets': 'Influx password and token, OTLP header values, API keys and the dashboard token stay out of logs, /__stats, /__debug, /metrics, the dashboard API and error bodies',
  'security-hop-by-hop': 'hop-by-hop and Connection-listed headers stripped in both directions',
  'security-xff': 'X-Forwarded-For appended to, not trusted',
} as const;

export type CaseId = keyof typeof CASES;

/** The test name for a case: `<id>: <what it tries>`. */
export function title(id: CaseId): string {
  return `${id}: ${CASES[id]}`;
}
