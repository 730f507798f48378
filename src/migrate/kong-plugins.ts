/**
 * Kong plugins → Tollgate settings. `prometheus` becomes the root `telemetry/kong-prometheus` (its
 * five flags, https://github.com/Kong/kong/blob/master/kong/plugins/prometheus/schema.lua) and
 * `key-auth` the root `auth/api-keys` (consumers' credentials as keys, named by username so the `consumer` label stays Kong's) plus a marker on each endpoint it
 * covers. Every other plugin, and every scope Tollgate cannot express, is noted.
 */
import { stringsAt, type RawObject } from '../config/raw.js';
import type { KongConsumer, KongPlugin, KongRoute } from './kong-model.js';
import type { MigrationReport } from './report.js';

const FLAGS = [
  'per_consumer',
  'status_code_metrics',
  'latency_metrics',
  'bandwidth_metrics',
  'upstream_health_metrics',
] as const;
const HANDLED = new Set(['prometheus', 'key-auth']);

/** Enabled instances that apply to a route: global, or scoped to its service or to the route itself. */
function pluginsFor(plugins: readonly KongPlugin[], route: KongRoute, name: string): KongPlugin[] {
  return plugins.filter(
    (p) =>
      p.name === name &&
      p.enabled &&
      p.consumer === undefined &&
      (p.route === route || (p.route === undefined && (p.service === undefined || p.service === route.service))),
  );
}

const scopeOf = (p: KongPlugin): string =>
  p.route !== undefined
    ? `route "${p.route.name ?? p.route.id ?? '?'}"`
    : p.service !== undefined
      ? `service "${p.service.name ?? p.service.host}"`
      : 'global';

/** Notes the instances no endpoint will honour: disabled, consumer-scoped, or plugins without an equivalent. */
export function noteUnhandledPlugins(plugins: readonly KongPlugin[], r: MigrationReport): void {
  for (const p of plugins) {
    if (!HANDLED.has(p.name))
      r.note(p.at, `"${p.name}" (${scopeOf(p)}): not carried over: Tollgate has no equivalent plugin`);
    else if (!p.enabled) r.note([...p.at, 'enabled'], `false: the disabled "${p.name}" instance is not carried over`);
    else if (p.consumer !== undefined)
      r.note(
        [...p.at, 'consumer'],
        `"${p.name}" scoped to consumer "${p.consumer}": not carried over: Tollgate applies it per endpoint, not per consumer`,
      );
  }
}

export function prometheusSettings(plugins: readonly KongPlugin[], r: MigrationReport): RawObject | undefined {
  const live = plugins.filter((p) => p.name === 'prometheus' && p.enabled && p.consumer === undefined);
  const first = live[0];
  if (first === undefined) return undefined;
  const out: RawObject = {};
  for (const flag of FLAGS) out[flag] = live.some((p) => p.config[flag] === true);
  for (const p of live) {
    if (p.service !== undefined || p.route !== undefined)
      r.note(p.at, `scoped to ${scopeOf(p)}: Tollgate records the Kong metrics of every endpoint`);
    const differs = FLAGS.filter((f) => (p.config[f] === true) !== out[f]);
    if (differs.length > 0)
      r.note(
        [...p.at, 'config'],
        `${differs.join(', ')} differ between instances: Tollgate has one setting for every endpoint and turns on each flag any instance turns on`,
      );
    for (const [key, value] of Object.entries(p.config)) {
      if ((FLAGS as readonly string[]).includes(key) || value === false || value === null) continue;
      r.note([...p.at, 'config', key], `${JSON.stringify(value)}: not carried over: Tollgate has no such metrics`);
    }
  }
  return out;
}

/** Kong's key-auth defaults (schema.lua): header or query `apikey`, body off, credentials passed on. */
interface KeyAuthConfig {
  readonly keyNames: string[];
  readonly inHeader: boolean;
  readonly inQuery: boolean;
}

function keyAuthConfig(p: KongPlugin): KeyAuthConfig {
  const names = stringsAt(p.config, 'key_names');
  return {
    keyNames: names !== undefined && names.length > 0 ? names : ['apikey'],
    inHeader: p.config.key_in_header !== false,
    inQuery: p.config.key_in_query !== false,
  };
}

export function apiKeySettings(
  plugins: readonly KongPlugin[],
  consumers: readonly KongConsumer[],
  r: MigrationReport,
): RawObject | undefined {
  const live = plugins.filter((p) => p.name === 'key-auth' && p.enabled && p.consumer === undefined);
  const first = live[0];
  if (first === undefined) return undefined;
  const c = keyAuthConfig(first);
  const identifier = c.keyNames[0] as string;
  const strategy = c.inHeader || !c.inQuery ? 'header' : 'query_string';
  for (const p of live) noteKeyAuth(p, c, identifier, strategy, r);
  const keys = consumerKeys(consumers, r);
  if (keys.length === 0)
    r.note(first.at, 'no consumer has a key-auth credential: every endpoint it covers answers 401');
  return { keys, identifier, strategy };
}

function noteKeyAuth(
  p: KongPlugin,
  chosen: KeyAuthConfig,
  identifier: string,
  strategy: string,
  r: MigrationReport,
): void {
  const c = keyAuthConfig(p);
  const at = [...p.at, 'config'];
  if (c.keyNames.join() !== chosen.keyNames.join() || c.inHeader !== chosen.inHeader || c.inQuery !== chosen.inQuery) {
    r.note(
      at,
      `differs from the first key-auth instance: Tollgate reads every key the same way (${strategy} "${identifier}")`,
    );
  }
  if (c.keyNames.length > 1) r.note([...at, 'key_names'], `only "${identifier}" is read: Tollgate reads one key name`);
  if (c.inHeader && c.inQuery)
    r.note(
      [...at, 'key_in_query'],
      `not carried over: Tollgate reads the key from one place, the "${identifier}" header`,
    );
  if (!c.inHeader && !c.inQuery)
    r.note(at, `the key is read from the body only in Kong: Tollgate reads the "${identifier}" header instead`);
  if (strategy === 'header' && identifier.toLowerCase() === 'authorization')
    r.note(
      [...at, 'key_names'],
      'Tollgate expects "Authorization: Bearer <key>" where Kong took the whole header value as the key',
    );
  const notes: Record<string, [unknown, string]> = {
    key_in_body: [false, 'not carried over: Tollgate does not read keys from the body'],
    hide_credentials: [false, 'not carried over: the key is passed on to the backend'],
    anonymous: [null, 'not carried over: requests without a valid key get 401'],
    run_on_preflight: [true, 'not carried over: OPTIONS requests need a key too'],
    realm: [null, 'not carried over: Tollgate challenges with WWW-Authenticate: Key realm="tollgate"'],
  };
  for (const [key, [dflt, why]] of Object.entries(notes)) {
    const v = p.config[key];
    if (v !== undefined && v !== null && v !== dflt) r.note([...at, key], `${JSON.stringify(v)}: ${why}`);
  }
}

/** Every credential's key, named by the consumer's username (Kong's `consumer` label value). */
function consumerKeys(consumers: readonly KongConsumer[], r: MigrationReport): RawObject[] {
  const keys: RawObject[] = [];
  const seen = new Set<string>();
  for (const c of consumers) {
    const name = c.username ?? c.customId ?? c.id;
    if (c.username === undefined && c.credentials.length > 0) {
      r.note(c.at, `has no username: Kong's consumer label is "" for it; Tollgate labels it "${name ?? ''}"`);
    }
    for (const cred of c.credentials) {
      if (cred.key === undefined || cred.key === '') {
        r.note(
          cred.at,
          'has no key (Kong generated one at start-up): not carried over; set "key" to keep the credential',
        );
        continue;
      }
      if (seen.has(cred.key)) {
        r.note([...cred.at, 'key'], 'is used twice: only the first consumer keeps it');
        continue;
      }
      seen.add(cred.key);
      if (cred.raw.ttl !== undefined && cred.raw.ttl !== null)
        r.note([...cred.at, 'ttl'], 'not carried over: Tollgate keys do not expire');
      keys.push(name === undefined ? { key: cred.key } : { key: cred.key, consumer: name });
    }
  }
  return keys;
}

/** Whether an enabled key-auth instance covers the route (globally, by its service or itself). */
export function isKeyAuthed(plugins: readonly KongPlugin[], route: KongRoute): boolean {
  return pluginsFor(plugins, route, 'key-auth').length > 0;
}
