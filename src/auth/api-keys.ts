/**
 * API keys (`auth/api-keys`): a key identifies a consumer (the name Kong-style metrics report with
 * `per_consumer`) and carries roles. An endpoint with `auth/api-keys` requires a key: 401 without a
 * valid one, 403 when the key has none of the endpoint's roles. Unknown keys never reach a label.
 * Keys are secrets: they are never logged.
 */
import type { IncomingMessage } from 'node:http';
import { arrayAt, isObject, stringAt, stringsAt, type RawObject } from '../config/raw.js';

export interface Consumer {
  readonly name: string;
  /** Position in the configured consumer names (0-based): views index cells by it. */
  readonly index: number;
  readonly roles: ReadonlySet<string>;
}

export interface ApiKeySettings {
  readonly keys: ReadonlyMap<string, Consumer>;
  readonly identifier: string;
  readonly strategy: 'header' | 'query_string';
}

export interface EndpointAuth {
  readonly roles: ReadonlySet<string>;
}

export function parseApiKeys(raw: RawObject): ApiKeySettings {
  const keys = new Map<string, Consumer>();
  const names: string[] = [];
  arrayAt(raw, 'keys').forEach((k, i) => {
    if (!isObject(k) || typeof k.key !== 'string') return;
    const name = stringAt(k, 'consumer') ?? `consumer-${i + 1}`;
    let index = names.indexOf(name);
    if (index === -1) index = names.push(name) - 1;
    keys.set(k.key, { name, index, roles: new Set(stringsAt(k, 'roles') ?? []) });
  });
  const strategy = raw.strategy === 'query_string' ? 'query_string' : 'header';
  return { keys, strategy, identifier: stringAt(raw, 'identifier') ?? (strategy === 'header' ? 'Authorization' : 'key') };
}

export function parseEndpointAuth(raw: unknown): EndpointAuth | undefined {
  if (!isObject(raw)) return undefined;
  return { roles: new Set(stringsAt(raw, 'roles') ?? []) };
}

export type AuthResult = { readonly ok: true; readonly consumer: Consumer } | { readonly ok: false; readonly status: 401 | 403 };

export class ApiKeyAuth {
  readonly #s: ApiKeySettings;
  readonly #header: string;

  constructor(settings: ApiKeySettings) {
    this.#s = settings;
    this.#header = settings.identifier.toLowerCase();
  }

  /** Every consumer name, in configuration order (the bounded set of `consumer` label values). */
  get consumers(): string[] {
    return [...new Set([...this.#s.keys.values()].map((c) => c.name))];
  }

  check(req: IncomingMessage, rawQuery: string, endpoint: EndpointAuth): AuthResult {
    const key = this.#extract(req, rawQuery);
    const consumer = key === undefined ? undefined : this.#s.keys.get(key);
    if (consumer === undefined) return { ok: false, status: 401 };
    if (endpoint.roles.size > 0 && ![...endpoint.roles].some((r) => consumer.roles.has(r))) return { ok: false, status: 403 };
    return { ok: true, consumer };
  }

  #extract(req: IncomingMessage, rawQuery: string): string | undefined {
    if (this.#s.strategy === 'query_string') return new URLSearchParams(rawQuery).get(this.#s.identifier) ?? undefined;
    const v = req.headers[this.#header];
    if (typeof v !== 'string') return undefined;
    if (this.#header === 'authorization') return v.startsWith('Bearer ') ? v.slice(7).trim() : undefined;
    return v;
  }
}
