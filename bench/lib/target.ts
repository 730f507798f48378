// What a benchmark target is: something that, once started, serves the
// upstream's /payload at some loopback URL. Start failures are values, not
// exceptions, because an absent optional target (no nginx, no dist/) must
// become an explanatory "unavailable" row while the rest of the run goes on.

export interface StartContext {
  /** e.g. http://127.0.0.1:41234 — no trailing slash. */
  readonly upstreamOrigin: string;
  readonly upstreamPort: number;
  /** Per-run scratch directory for generated config files; removed on exit. */
  readonly tempDir: string;
  /** Absolute path of the Tollgate launcher (normally <repo>/bin/tollgate.js). */
  readonly tollgateBin: string;
  /** Worker processes/threads for nginx and HAProxy. */
  readonly nativeWorkers: number;
  /** Upper bound on any child's lifetime, enforced independently of the driver. */
  readonly leashSeconds: number;
}

export interface RunningTarget {
  /** Full URL the load generator hits. */
  readonly url: string;
  /** Version or implementation detail worth recording in the results. */
  readonly detail?: string;
  stop(): Promise<void>;
}

export type TargetStart =
  { readonly ok: true; readonly running: RunningTarget } | { readonly ok: false; readonly reason: string };

export interface TargetSpec {
  /** Row label in the table and key in the JSON. */
  readonly name: string;
  /** One line saying what the row measures. */
  readonly description: string;
  start(context: StartContext): Promise<TargetStart>;
}
