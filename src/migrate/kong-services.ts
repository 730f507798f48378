/**
 * What a Kong service proxies to, once per service: the backend hosts (its upstream's targets, or its
 * own host and port), the backend/healthcheck of that upstream, and one request deadline. Kong's
 * timeouts are per socket operation (60 s each by default); Tollgate has one deadline per request, so
 * `read_timeout` — the wait for the backend's answer — becomes the endpoint `timeout`.
 */
import { durationText } from './fields.js';
import { upstreamHealthcheck, upstreamTargets } from './kong-health.js';
import type { KongModel, KongService, KongUpstream } from './kong-model.js';
import type { MigrationReport } from './report.js';
import type { RawObject } from '../config/raw.js';

export interface ServiceBackend {
  readonly hosts: string[];
  readonly healthcheck: RawObject | undefined;
  readonly timeout: string;
}

const KONG_TIMEOUT_MS = 60_000;
const KNOWN = new Set([
  'name',
  'id',
  'url',
  'protocol',
  'host',
  'port',
  'path',
  'read_timeout',
  'tags',
  'routes',
  'plugins',
  'enabled',
  'created_at',
  'updated_at',
]);
const NOTES: Readonly<Record<string, string>> = {
  retries: 'not carried over: Tollgate does not retry a failed backend call',
  connect_timeout: 'not carried over: Tollgate has one deadline per request, taken from read_timeout',
  write_timeout: 'not carried over: Tollgate has one deadline per request, taken from read_timeout',
  tls_verify: 'not carried over: Tollgate verifies backend certificates against the system CAs',
  tls_verify_depth: 'not carried over: Tollgate verifies backend certificates against the system CAs',
  ca_certificates: 'not carried over: Tollgate verifies backend certificates against the system CAs',
  client_certificate: 'not carried over: Tollgate does not present client certificates to backends',
};

export class ServiceBackends {
  readonly #model: KongModel;
  readonly #report: MigrationReport;
  readonly #services = new Map<KongService, ServiceBackend | undefined>();
  readonly #upstreams = new Map<string, { targets: string[]; healthcheck: RawObject }>();

  constructor(model: KongModel, r: MigrationReport) {
    this.#model = model;
    this.#report = r;
  }

  /** The backend of a service, or undefined (noted once) when its routes cannot be carried over. */
  get(service: KongService): ServiceBackend | undefined {
    if (!this.#services.has(service)) this.#services.set(service, this.#build(service));
    return this.#services.get(service);
  }

  #build(s: KongService): ServiceBackend | undefined {
    const r = this.#report;
    if (s.raw.enabled === false) {
      r.note([...s.at, 'enabled'], 'false: the disabled service and its routes are not carried over');
      return undefined;
    }
    if (s.protocol !== 'http' && s.protocol !== 'https') {
      r.note(
        s.raw.url !== undefined ? [...s.at, 'url'] : [...s.at, 'protocol'],
        `${s.protocol}: the service and its routes are not carried over: Tollgate proxies HTTP and HTTPS only`,
      );
      return undefined;
    }
    if (s.path !== undefined && /[{}]/.test(s.path)) {
      r.note(
        [...s.at, 'path'],
        `"${s.path}": the service and its routes are not carried over: braces would be read as {placeholders}`,
      );
      return undefined;
    }
    for (const [key, value] of Object.entries(s.raw)) {
      if (value === null || value === undefined || KNOWN.has(key) || key.startsWith('_')) continue;
      if (key === 'retries' && value === 0) continue;
      r.note([...s.at, key], NOTES[key] ?? 'not carried over: Tollgate has no equivalent');
    }
    const up = this.#model.upstreams.find((u) => u.name === s.host);
    const own = `${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`;
    const { targets, healthcheck } =
      up === undefined ? { targets: [own], healthcheck: undefined } : this.#upstream(up, s.protocol);
    if (targets.length === 0) {
      r.note(s.at, `its upstream "${s.host}" has no enabled target: the service and its routes are not carried over`);
      return undefined;
    }
    const read =
      typeof s.raw.read_timeout === 'number' && s.raw.read_timeout > 0 ? s.raw.read_timeout : KONG_TIMEOUT_MS;
    return { hosts: targets.map((t) => `${s.protocol}://${t}`), healthcheck, timeout: durationText(read) };
  }

  /** Targets and health check of an upstream, built (and noted) once however many services use it. */
  #upstream(up: KongUpstream, protocol: string): { targets: string[]; healthcheck: RawObject } {
    let done = this.#upstreams.get(up.name);
    if (done === undefined) {
      done = {
        targets: upstreamTargets(up, this.#report),
        healthcheck: upstreamHealthcheck(up, protocol, this.#report),
      };
      this.#upstreams.set(up.name, done);
    }
    return done;
  }
}
