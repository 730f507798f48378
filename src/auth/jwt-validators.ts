/**
 * Builds every endpoint's JWT validator at start-up. Endpoints that read the same JWK set the same
 * way (URL or file, TLS settings, algorithm, key strategy, cache, cooldown) share one key source,
 * one download at a time and one memory of verified tokens: 200 endpoints behind one identity
 * provider cost one cache, as KrakenD's shared cache (`shared_cache_duration`) intends.
 */
import type { JwtValidatorSettings } from '../config/namespaces/auth-validator.js';
import { RateLimitedLog, type Logger } from '../log/logger.js';
import { fetchJwks, type JwkFetchOptions } from './jwk-fetch.js';
import { JwkSource } from './jwk-keys.js';
import { JwtValidator } from './jwt-validator.js';
import { JwtVerifier } from './jwt-verifier.js';

export interface JwtValidatorDeps {
  readonly userAgent: string;
  readonly logger: Logger;
  /** Least time between downloads caused by unknown key identifiers (1 s unless a test says otherwise). */
  readonly refreshFloorMs?: number;
  /** One download's deadline (10 s unless a test says otherwise). */
  readonly fetchTimeoutMs?: number;
}

const FETCH_TIMEOUT_MS = 10_000;
const MAX_JWKS_BYTES = 1024 * 1024;
const REFRESH_FLOOR_MS = 1_000;

export class JwtValidators {
  readonly #deps: JwtValidatorDeps;
  readonly #verifiers = new Map<string, JwtVerifier>();
  readonly #failures = new RateLimitedLog();

  constructor(deps: JwtValidatorDeps) {
    this.#deps = deps;
  }

  forEndpoint(settings: JwtValidatorSettings): JwtValidator {
    return new JwtValidator(settings, this.#verifier(settings));
  }

  /**
   * Loads the local sets and downloads the cached ones once, as KrakenD does when a validator with
   * `cache` is built (`jwk.go:76`); a failure is logged and the first token tries again. Never rejects.
   */
  async start(): Promise<void> {
    const sources = [...this.#verifiers.values()].map((v) => v.source);
    await Promise.all(sources.filter((s) => s.warmable).map((s) => s.refresh()));
  }

  #verifier(s: JwtValidatorSettings): JwtVerifier {
    const o = s.origin;
    const where =
      o.kind === 'file'
        ? ['file', o.path]
        : ['url', o.url, o.insecure, o.localCa ?? '', o.fingerprints.map((f) => f.toString('hex'))];
    const id = JSON.stringify([...where, s.alg, s.strategy, s.cacheMs, s.cooldownMs]);
    let verifier = this.#verifiers.get(id);
    if (verifier === undefined) {
      verifier = new JwtVerifier(s.alg, s.strategy, this.#source(s));
      this.#verifiers.set(id, verifier);
    }
    return verifier;
  }

  #source(s: JwtValidatorSettings): JwkSource {
    const o = s.origin;
    const common = {
      alg: s.alg,
      strategy: s.strategy,
      cacheMs: s.cacheMs,
      cooldownMs: s.cooldownMs,
      refreshFloorMs: this.#deps.refreshFloorMs ?? REFRESH_FLOOR_MS,
    };
    if (o.kind === 'file') {
      const keys = (o.jwks as { keys?: unknown }).keys;
      const list = Array.isArray(keys) ? (keys as unknown[]) : [];
      return new JwkSource({ ...common, local: true, load: () => Promise.resolve(list), onError: () => undefined });
    }
    const fetch: JwkFetchOptions = {
      url: o.url,
      insecure: o.insecure,
      localCa: o.localCa,
      fingerprints: o.fingerprints,
      userAgent: this.#deps.userAgent,
      timeoutMs: this.#deps.fetchTimeoutMs ?? FETCH_TIMEOUT_MS,
      maxBytes: MAX_JWKS_BYTES,
    };
    return new JwkSource({
      ...common,
      local: false,
      load: () => fetchJwks(fetch),
      onError: (err) => this.#logFailure(o.url, err),
    });
  }

  /** The URL without its query or credentials: a JWK URL may carry a key. */
  #logFailure(url: string, err: unknown): void {
    const u = new URL(url);
    const where = `${u.origin}${u.pathname}`;
    this.#failures.maybe(where, (suppressed) =>
      this.#deps.logger.warn(
        { code: 'TG_ERR_JWK_FETCH', jwk_url: where, detail: (err as Error).message, suppressed },
        'JWK set download failed',
      ),
    );
  }
}
