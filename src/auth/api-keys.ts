/**
 * API keys (`auth/api-keys`): a key identifies a consumer (the name Kong-style metrics report with
 * `per_consumer`) and carries roles. An endpoint with `auth/api-keys` requires a key: 401 without a
 * valid one, 403 when the key has none of the endpoint's roles. Unknown keys never reach a label.
 * Keys are secrets: they are never logged.
 */
import type { IncomingMessage } from 'node:http';
import type { ApiKeySettings, Consumer, EndpointAuth } from '../config/namespaces/api-keys.js';

/**
 * A refusal: the status, the message of the error body and, on a 401, the `WWW-Authenticate`
 * challenge (RFC 9110 §11.6.1 requires one on every 401).
 */
export type AuthRefusal = {
  readonly ok: false;
  readonly status: 401 | 403;
  readonly message?: string;
  readonly challenge?: string;
};

export type AuthResult = { readonly ok: true; readonly consumer: Consumer } | AuthRefusal;

/**
 * Kong's key-auth answers, so clients written against Kong read the same thing
 * (github.com/Kong/kong/blob/master/kong/plugins/key-auth/handler.lua): a key in a header of its own
 * or in the query string is challenged with the `Key` scheme; a key read from `Authorization: Bearer`
 * is challenged with `Bearer` (RFC 6750 §3), the scheme the client has to use there.
 */
const NO_KEY = 'No API key found in request';
const BAD_KEY = 'Invalid authentication credentials';
const KEY_CHALLENGE = 'Key realm="tollgate"';

export class ApiKeyAuth {
  readonly #settings: ApiKeySettings;
  readonly #header: string;
  readonly #challenge: string;

  constructor(settings: ApiKeySettings) {
    this.#settings = settings;
    this.#header = settings.identifier.toLowerCase();
    this.#challenge = settings.strategy === 'header' && this.#header === 'authorization' ? 'Bearer' : KEY_CHALLENGE;
  }

  /** Every consumer name, in configuration order (the bounded set of `consumer` label values). */
  get consumers(): string[] {
    return [...new Set([...this.#settings.keys.values()].map((c) => c.name))];
  }

  check(req: IncomingMessage, rawQuery: string, endpoint: EndpointAuth): AuthResult {
    const key = this.#extract(req, rawQuery);
    if (key === undefined || key === '') return { ok: false, status: 401, message: NO_KEY, challenge: this.#challenge };
    const consumer = this.#settings.keys.get(key);
    if (consumer === undefined) return { ok: false, status: 401, message: BAD_KEY, challenge: this.#challenge };
    if (endpoint.roles.size > 0 && ![...endpoint.roles].some((r) => consumer.roles.has(r)))
      return { ok: false, status: 403 };
    return { ok: true, consumer };
  }

  #extract(req: IncomingMessage, rawQuery: string): string | undefined {
    if (this.#settings.strategy === 'query_string')
      return new URLSearchParams(rawQuery).get(this.#settings.identifier) ?? undefined;
    const v = req.headers[this.#header];
    if (typeof v !== 'string') return undefined;
    if (this.#header === 'authorization') return v.startsWith('Bearer ') ? v.slice(7).trim() : undefined;
    return v;
  }
}
