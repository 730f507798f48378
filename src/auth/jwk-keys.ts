/**
 * The verification keys of one JWK set, by the identifier a token names them with
 * (`key_identify_strategy`), imported once for the validator's algorithm.
 *
 * KrakenD's rules (krakend-jose `jwk.go:47` SecretProvider, `key_cacher.go`, go-auth0
 * `jwk_client.go:63` GetKey): without `cache` the set is downloaded for every token; with it, keys
 * are kept `cache_duration` after the download that brought them, and a token naming an unknown key
 * downloads the set again; `failed_jwk_key_cooldown` stops asking again for an identifier that failed
 * within that time. A `jwk_local_path` set is read once and never downloaded.
 *
 * Bounded where KrakenD is not, so a flood of tokens with random identifiers cannot hammer the JWK
 * server nor grow memory: one download at a time (every token waiting for keys shares it), at most one
 * download per second caused by unknown identifiers while the keys are fresh or after a failed
 * download, at most 100 keys kept, at
 * most 1,024 identifiers in cooldown, and identifiers over 256 characters never looked up. A download
 * replaces the whole set, so a key removed from it stops verifying at once (KrakenD keeps it until its
 * cache duration ends).
 */
import { performance } from 'node:perf_hooks';
import { importJWK, type CryptoKey } from 'jose';
import type { JwtAlgorithm, KeyIdentifyStrategy } from '../config/namespaces/auth-validator.js';

export type VerifyKey = CryptoKey;

export type KeyLookup =
  | { readonly ok: true; readonly key: VerifyKey }
  | { readonly ok: false; readonly reason: 'unknown key' | 'jwk unavailable' };

export interface JwkSourceOptions {
  readonly alg: JwtAlgorithm;
  readonly strategy: KeyIdentifyStrategy;
  /** 0: keys serve only the tokens waiting for the download that brought them. */
  readonly cacheMs: number;
  readonly cooldownMs: number;
  /** Least time between two downloads caused by unknown identifiers while the keys are fresh. */
  readonly refreshFloorMs: number;
  /** The JWK objects of the set (a download, or the local file read at start). */
  readonly load: () => Promise<readonly unknown[]>;
  /** True for `jwk_local_path`: loaded once, never again. */
  readonly local: boolean;
  /** A download failed (for a rate-limited log line). */
  readonly onError: (err: unknown) => void;
  readonly now?: () => number;
}

export const MAX_KEYS = 100;
const MAX_COOLDOWNS = 1024;
const MAX_ID_LENGTH = 256;
/** RSA, EC and OKP members that make a JWK private: dropped, so a private JWK verifies as go-jose lets it. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'];
const HMAC_HASH: Readonly<Record<string, string>> = { HS256: 'SHA-256', HS384: 'SHA-384', HS512: 'SHA-512' };

export class JwkSource {
  readonly #opts: JwkSourceOptions;
  readonly #now: () => number;
  #keys: ReadonlyMap<string, VerifyKey> = new Map();
  #fetchedAt = -Infinity;
  #refreshedAt = -Infinity;
  #failedAt = -Infinity;
  #inflight: Promise<boolean> | undefined;
  readonly #cooldowns = new Map<string, number>();

  constructor(opts: JwkSourceOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? (() => performance.now());
  }

  /** Worth loading at start: a local set, or a downloaded one that is kept (`cache`). */
  get warmable(): boolean {
    return this.#opts.local || this.#opts.cacheMs > 0;
  }

  /** The key for `id` if it may be used now without waiting: local, or fresh in the cache. */
  peek(id: string): VerifyKey | undefined {
    return this.#fresh(this.#now()) ? this.#keys.get(id) : undefined;
  }

  async lookup(id: string): Promise<KeyLookup> {
    if (id.length > MAX_ID_LENGTH) return { ok: false, reason: 'unknown key' };
    const now = this.#now();
    const fresh = this.#fresh(now);
    const known = fresh ? this.#keys.get(id) : undefined;
    if (known !== undefined) return { ok: true, key: known };
    if (this.#opts.local && this.#fetchedAt !== -Infinity) return { ok: false, reason: 'unknown key' };
    const until = this.#cooldowns.get(id);
    if (until !== undefined && until > now) return { ok: false, reason: 'unknown key' };
    if (this.#inflight === undefined) {
      if (fresh && now - this.#refreshedAt < this.#opts.refreshFloorMs) return { ok: false, reason: 'unknown key' };
      // A failed download is not tried again within the floor: a struggling server gets a pause.
      if (!fresh && now - this.#failedAt < this.#opts.refreshFloorMs) return { ok: false, reason: 'jwk unavailable' };
    }
    const loaded = await this.refresh();
    const key = this.#keys.get(id);
    if (loaded && key !== undefined) return { ok: true, key };
    this.#cooldown(id);
    return { ok: false, reason: loaded ? 'unknown key' : 'jwk unavailable' };
  }

  /** Loads the set (sharing a load in flight); false when it failed. */
  refresh(): Promise<boolean> {
    this.#inflight ??= this.#load().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  #fresh(now: number): boolean {
    if (this.#opts.local) return this.#fetchedAt !== -Infinity;
    return now - this.#fetchedAt < this.#opts.cacheMs;
  }

  async #load(): Promise<boolean> {
    this.#refreshedAt = this.#now();
    try {
      const jwks = await this.#opts.load();
      this.#keys = await importSet(jwks, this.#opts.alg, this.#opts.strategy);
      this.#fetchedAt = this.#now();
      return true;
    } catch (err) {
      this.#failedAt = this.#now();
      this.#opts.onError(err);
      return false;
    }
  }

  #cooldown(id: string): void {
    if (this.#opts.cooldownMs <= 0) return;
    if (this.#cooldowns.size >= MAX_COOLDOWNS) {
      const oldest = this.#cooldowns.keys().next();
      if (oldest.done !== true) this.#cooldowns.delete(oldest.value);
    }
    this.#cooldowns.set(id, this.#now() + this.#opts.cooldownMs);
  }
}

/** The usable keys of a set by identifier (the last one wins, as Go's map assignment). */
async function importSet(
  jwks: readonly unknown[],
  alg: JwtAlgorithm,
  strategy: KeyIdentifyStrategy,
): Promise<Map<string, VerifyKey>> {
  const out = new Map<string, VerifyKey>();
  for (const jwk of jwks.slice(0, MAX_KEYS)) {
    if (typeof jwk !== 'object' || jwk === null) continue;
    const key = await importVerifyKey(jwk as Record<string, unknown>, alg);
    if (key !== undefined) out.set(jwkIdentity(jwk as Record<string, unknown>, strategy), key);
  }
  return out;
}

/** The key a JWK gives for `alg`, or undefined when it cannot verify it (another key type, bad members). */
export async function importVerifyKey(jwk: Record<string, unknown>, alg: JwtAlgorithm): Promise<VerifyKey | undefined> {
  try {
    const hash = HMAC_HASH[alg];
    if (hash !== undefined) {
      if (jwk.kty !== 'oct' || typeof jwk.k !== 'string') return undefined;
      const raw = Buffer.from(jwk.k, 'base64url');
      return (await globalThis.crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash }, false, [
        'verify',
      ])) as VerifyKey;
    }
    if (jwk.kty === 'oct') return undefined;
    const pub: Record<string, unknown> = { ...jwk };
    for (const m of PRIVATE_MEMBERS) delete pub[m];
    delete pub.key_ops;
    delete pub.ext;
    const key = await importJWK(pub, alg);
    return key instanceof Uint8Array ? undefined : key;
  } catch {
    return undefined;
  }
}

/** krakend-jose `key_cacher.go:86-104`: the identifier of a JWK under a strategy. */
export function jwkIdentity(jwk: Record<string, unknown>, strategy: KeyIdentifyStrategy): string {
  const kid = typeof jwk.kid === 'string' ? jwk.kid : '';
  switch (strategy) {
    case 'kid':
      return kid;
    case 'x5t':
      return thumbprint(jwk.x5t, 20);
    case 'x5t#S256':
      return thumbprint(jwk['x5t#S256'], 32);
    case 'kid_x5t':
      return kid + thumbprint(jwk.x5t, 20);
  }
}

/** go-jose reads a thumbprint as base64url (or hex inside base64url) and krakend-jose re-encodes it. */
function thumbprint(v: unknown, size: number): string {
  if (typeof v !== 'string') return '';
  let bytes = Buffer.from(v.replace(/=+$/, ''), 'base64url');
  if (bytes.length === 2 * size && /^[0-9a-fA-F]+$/.test(bytes.toString('latin1')))
    bytes = Buffer.from(bytes.toString('latin1'), 'hex');
  return bytes.toString('base64url');
}

/** krakend-jose `jwk_client.go:27-53`: the identifier a token names its key with. */
export function tokenKeyId(header: Readonly<Record<string, unknown>>, strategy: KeyIdentifyStrategy): string {
  const kid = typeof header.kid === 'string' ? header.kid : '';
  const x5t = typeof header.x5t === 'string' ? header.x5t : kid;
  switch (strategy) {
    case 'kid':
      return kid;
    case 'x5t':
      return x5t;
    case 'x5t#S256':
      return typeof header['x5t#S256'] === 'string' ? header['x5t#S256'] : kid;
    case 'kid_x5t':
      return kid + x5t;
  }
}
