// Ambient types for the slice of autocannon's programmatic API the bench
// uses (autocannon ships no TypeScript types and @types/autocannon is not a
// dependency). Only fields that the worker reads are declared.

declare module 'autocannon' {
  namespace autocannon {
    interface Options {
      url: string;
      connections?: number;
      /** Seconds. */
      duration?: number;
      /** Per-request timeout in seconds. */
      timeout?: number;
      pipelining?: number;
      /** Headers sent with every request. */
      headers?: Record<string, string>;
    }

    /** Latency histogram summary, milliseconds. */
    interface LatencyStats {
      average: number;
      p50: number;
      p90: number;
      p99: number;
      max: number;
    }

    interface CountStats {
      average: number;
      total: number;
    }

    interface Result {
      /** Seconds actually run. */
      duration: number;
      errors: number;
      timeouts: number;
      non2xx: number;
      latency: LatencyStats;
      requests: CountStats;
      throughput: CountStats;
    }
  }

  function autocannon(options: autocannon.Options): Promise<autocannon.Result>;
  export = autocannon;
}
