/**
 * `auth/api-keys` (KrakenD Enterprise's shape, with Tollgate's `consumer` name per key): its schema, the
 * consumers and roles read from it, and the endpoint's requirement.
 */
import { arrayAt, isObject, stringAt, stringsAt, type RawObject } from '../raw.js';

export const API_KEYS_ROOT_SCHEMA = {
  type: 'object',
  required: ['keys'],
  properties: {
    keys: {
      type: 'array',
      items: {
        type: 'object',
        required: ['key'],
        properties: {
          key: { type: 'string', minLength: 1 },
          consumer: { type: 'string', minLength: 1 },
          roles: { type: 'array', items: { type: 'string' } },
        },
      },
    },
    identifier: { type: 'string', minLength: 1 },
    strategy: { type: 'string', enum: ['header', 'query_string'] },
  },
} as const;

export const API_KEYS_ENDPOINT_SCHEMA = {
  type: 'object',
  properties: {
    roles: { type: 'array', items: { type: 'string' } },
    identifier: { type: 'string' },
    strategy: { type: 'string', enum: ['header', 'query_string'] },
  },
} as const;

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
  return {
    keys,
    strategy,
    identifier: stringAt(raw, 'identifier') ?? (strategy === 'header' ? 'Authorization' : 'key'),
  };
}

export function parseEndpointAuth(raw: unknown): EndpointAuth | undefined {
  if (!isObject(raw)) return undefined;
  return { roles: new Set(stringsAt(raw, 'roles') ?? []) };
}
