/**
 * The environment variables Tollgate honours, read once when a configuration is loaded (normalize.ts)
 * into the frozen config: no view or exporter reads `process.env`. A bad value is a load warning and
 * its default is used.
 *
 * - `TOLLGATE_NODE_ID`: the Kong `node_id`; the cluster primary hands its own to every worker.
 * - `OTEL_PROPAGATORS`: the propagators when the config names none
 *   (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/#general-sdk-configuration).
 * - `OTEL_BSP_*`: the span batch processor's queue, batch size, delay and export timeout
 *   (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/#batch-span-processor).
 */

export interface BatcherOptions {
  readonly maxQueue: number;
  readonly maxBatch: number;
  readonly delayMs: number;
  readonly exportTimeoutMs: number;
  /** A batch is also sent once its spans reach this many bytes (collectors refuse messages > 4 MiB by default). */
  readonly maxBatchBytes: number;
}

/**
 * Larger than the OTel SDK's 2048/512: each export costs the gateway a fixed ~0.7 ms in the gRPC
 * client whatever its size, and a gateway at 10k sampled requests/s makes 50k spans/s (bench/OTLP.md).
 */
export const DEFAULT_BATCHER: BatcherOptions = {
  maxQueue: 8192,
  maxBatch: 2048,
  delayMs: 5_000,
  exportTimeoutMs: 30_000,
  maxBatchBytes: 1024 * 1024,
};

export interface Environment {
  /** `TOLLGATE_NODE_ID`, when set. */
  readonly nodeId: string | undefined;
  /** `OTEL_PROPAGATORS` split at its commas; undefined when unset or blank. */
  readonly propagators: readonly string[] | undefined;
  /** `OTEL_BSP_*` over Tollgate's defaults. */
  readonly spanBatch: BatcherOptions;
}

/** What a file loaded without any of the variables gets. */
export const DEFAULT_ENVIRONMENT: Environment = {
  nodeId: undefined,
  propagators: undefined,
  spanBatch: DEFAULT_BATCHER,
};

/** The variables of `env`, and a warning for each value that was ignored. */
export function readEnvironment(env: NodeJS.ProcessEnv): { environment: Environment; warnings: string[] } {
  const warnings: string[] = [];
  const propagators = env.OTEL_PROPAGATORS;
  return {
    environment: {
      nodeId: env.TOLLGATE_NODE_ID,
      propagators: propagators === undefined || propagators.trim() === '' ? undefined : propagators.split(','),
      spanBatch: batcherOptionsFromEnv(env, (message) => warnings.push(message)),
    },
    warnings,
  };
}

/**
 * The batch processor settings of the OpenTelemetry SDK environment variables (`OTEL_BSP_*`), over
 * Tollgate's defaults. A value that is not a positive integer is reported and ignored.
 */
export function batcherOptionsFromEnv(env: NodeJS.ProcessEnv, warn: (message: string) => void): BatcherOptions {
  const read = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    const n = Number(raw);
    if (Number.isInteger(n) && n > 0) return n;
    warn(`${name}=${JSON.stringify(raw)} is not a positive integer; using ${fallback}`);
    return fallback;
  };
  const maxQueue = read('OTEL_BSP_MAX_QUEUE_SIZE', DEFAULT_BATCHER.maxQueue);
  let maxBatch = read('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', Math.min(DEFAULT_BATCHER.maxBatch, maxQueue));
  if (maxBatch > maxQueue) {
    warn(`OTEL_BSP_MAX_EXPORT_BATCH_SIZE=${maxBatch} exceeds OTEL_BSP_MAX_QUEUE_SIZE=${maxQueue}; using ${maxQueue}`);
    maxBatch = maxQueue;
  }
  return {
    maxQueue,
    maxBatch,
    delayMs: read('OTEL_BSP_SCHEDULE_DELAY', DEFAULT_BATCHER.delayMs),
    exportTimeoutMs: read('OTEL_BSP_EXPORT_TIMEOUT', DEFAULT_BATCHER.exportTimeoutMs),
    maxBatchBytes: DEFAULT_BATCHER.maxBatchBytes,
  };
}
