// The shape every load generator reports, so wrk and autocannon results are
// interchangeable in the table, the ratios and the JSON file.

export interface LoadOptions {
  readonly url: string;
  readonly connections: number;
  readonly durationSeconds: number;
  /** Load-generator threads (wrk only; autocannon runs one event loop). */
  readonly threads: number;
  /** Per-request timeout; a slow response counts as an error, not as latency. */
  readonly timeoutSeconds: number;
  /** Headers sent with every request (a bearer token, say); none when absent. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

export interface LoadResult {
  readonly tool: 'wrk' | 'autocannon';
  readonly durationSeconds: number;
  /** Completed responses (any status). */
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly latencyMs: {
    readonly avg: number;
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly max: number;
  };
  /** Transport failures: connect/read/write errors and timeouts. */
  readonly errors: number;
  /** Responses outside 2xx (wrk: outside 2xx/3xx). */
  readonly non2xx: number;
  /** Total response bytes (headers + body) divided by requests; a sanity check on payload size. */
  readonly bytesPerResponse: number;
}

export interface LoadGenerator {
  readonly name: 'wrk' | 'autocannon';
  readonly version: string;
  run(options: LoadOptions): Promise<LoadResult>;
}
