/**
 * How a backend exchange ended, in KrakenD's terms (krakend-otel's round-trip metrics:
 * https://www.krakend.io/docs/telemetry/opentelemetry-layers-metrics/): answered, failed, cancelled
 * by the client leaving, or timed out (also a failure). The backend stage sets it; passive health
 * checks and the telemetry views read it.
 */
export const enum Outcome {
  Ok = 0,
  Failed = 1,
  Canceled = 2,
  TimedOut = 3,
}
