/**
 * Messages between the cluster primary and its workers (IPC with `advanced` serialization, so typed
 * arrays, maps and sets cross as they are).
 */
import type { ConfigOverrides } from '../../config/load.js';
import type { ReportRequest, WorkerReport } from '../../telemetry/telemetry.js';

export type ToWorker =
  /** The config to serve (the primary has validated it). */
  | { readonly t: 'config'; readonly text: string; readonly file: string; readonly overrides: ConfigOverrides }
  /** Send your metrics now (and what else the request names). */
  | { readonly t: 'collect'; readonly id: number; readonly want: ReportRequest }
  /** Stop accepting, finish in-flight requests within the deadline, send `final`, exit. */
  | { readonly t: 'drain'; readonly deadlineMs: number };

export type ToPrimary =
  /** The worker listens for instructions (messages sent before this would be lost). */
  | { readonly t: 'hello' }
  | { readonly t: 'ready'; readonly port: number }
  /** Its start failed: the error's message, and its TG_ERR_* code when it has one. */
  | { readonly t: 'failed'; readonly message: string; readonly code?: string | undefined }
  | { readonly t: 'collected'; readonly id: number; readonly telemetry: WorkerReport }
  /** The last counts, after draining. */
  | { readonly t: 'final'; readonly telemetry: WorkerReport }
  /** A connection the primary handed over never arrived (no descriptor left): replace this worker. */
  | { readonly t: 'handoff-lost' };

function tagged(m: unknown): boolean {
  return typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string';
}

export function isToWorker(m: unknown): m is ToWorker {
  return tagged(m);
}

export function isToPrimary(m: unknown): m is ToPrimary {
  return tagged(m);
}
