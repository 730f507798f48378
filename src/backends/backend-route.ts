/**
 * One backend of a compiled route (routing/route.ts): its config, its targets with their health,
 * the OpenTelemetry backend layer in force, and the call that sends to it (proxy/backend-call.ts).
 * Generic over the call so that telemetry, which reads targets and health but never calls, does not
 * depend on proxy/.
 */
import type { BackendLayer } from '../config/namespaces/opentelemetry.js';
import type { BackendConfig } from '../config/types.js';
import type { Route } from '../routing/route.js';
import type { Target } from './balancer.js';
import type { HealthChecker } from './health.js';

export interface BackendRoute<Call = unknown> {
  /** Position in the endpoint's `backend` list. */
  readonly index: number;
  readonly config: BackendConfig;
  /** The `host` entries resolved to their pools, in round-robin order. */
  readonly targets: readonly Target[];
  /** `backend/healthcheck`, when configured: the state of each target, shared with its round-robin. */
  readonly health: HealthChecker | undefined;
  /** Undefined without `telemetry/opentelemetry`. */
  readonly otel: BackendLayer | undefined;
  readonly call: Call;
}

/** A route with its backends; what telemetry is built from (call and handler unknown to it). */
export type CompiledRoute<Call = unknown, Handler = unknown> = Route<BackendRoute<Call>, Handler>;
