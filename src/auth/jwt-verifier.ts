/**
 * A token's signature, verified with `jose` against the key its header names, for one JWK set and
 * one algorithm (shared by every endpoint that validates with both). The header's `alg` must be the
 * configured one before any key is looked up (go-auth0 ValidateTokenHeaders), so `none` and
 * algorithm confusion never reach a key.
 *
 * Verified tokens are remembered (at most 1,024, each up to 8 KiB): the same token with the same key
 * is the same verdict, so a client that sends its token again skips the signature (tens of µs with
 * WebCrypto) and the claims are checked again on every request. An entry counts only while the key it
 * was verified with is still the fresh key for its identifier: a rotated, expired or removed key
 * (or `cache: false`, where no key outlives its request) sends the token through `jose` again.
 */
import { compactVerify, decodeProtectedHeader } from 'jose';
import type { JwtAlgorithm, KeyIdentifyStrategy } from '../config/namespaces/auth-validator.js';
import type { Claims } from './jwt-claims.js';
import { wellTyped } from './jwt-registered-claims.js';
import { tokenKeyId, type JwkSource, type VerifyKey } from './jwk-keys.js';

export type SignatureProblem =
  'malformed token' | 'wrong algorithm' | 'unknown key' | 'jwk unavailable' | 'bad signature' | 'malformed claims';

/** A token whose signature holds; `fresh` when it was verified now (remember it once its claims pass). */
export type SignatureVerdict =
  | { readonly ok: true; readonly claims: Claims; readonly fresh: Verified | undefined }
  | { readonly ok: false; readonly reason: SignatureProblem };

export interface Verified {
  readonly id: string;
  readonly key: VerifyKey;
  readonly claims: Claims;
}

const MAX_REMEMBERED = 1024;
const MAX_REMEMBERED_LENGTH = 8192;
const decoder = new TextDecoder('utf-8', { fatal: true });

export class JwtVerifier {
  readonly #alg: JwtAlgorithm;
  readonly #strategy: KeyIdentifyStrategy;
  readonly #source: JwkSource;
  readonly #remembered = new Map<string, Verified>();

  constructor(alg: JwtAlgorithm, strategy: KeyIdentifyStrategy, source: JwkSource) {
    this.#alg = alg;
    this.#strategy = strategy;
    this.#source = source;
  }

  get source(): JwkSource {
    return this.#source;
  }

  verify(token: string): SignatureVerdict | Promise<SignatureVerdict> {
    const known = this.#remembered.get(token);
    if (known !== undefined && this.#source.peek(known.id) === known.key)
      return { ok: true, claims: known.claims, fresh: undefined };
    let header: Record<string, unknown>;
    try {
      header = decodeProtectedHeader(token) as Record<string, unknown>;
    } catch {
      return { ok: false, reason: 'malformed token' };
    }
    if (header.alg !== this.#alg) return { ok: false, reason: 'wrong algorithm' };
    const id = tokenKeyId(header, this.#strategy);
    const key = this.#source.peek(id);
    if (key !== undefined) return check(token, id, key, this.#alg);
    return this.#source
      .lookup(id)
      .then((found) => (found.ok ? check(token, id, found.key, this.#alg) : { ok: false, reason: found.reason }));
  }

  /** Remembers a token whose claims passed (first in, first out). */
  remember(token: string, verified: Verified): void {
    if (token.length > MAX_REMEMBERED_LENGTH) return;
    if (this.#remembered.size >= MAX_REMEMBERED) {
      const oldest = this.#remembered.keys().next();
      if (oldest.done !== true) this.#remembered.delete(oldest.value);
    }
    this.#remembered.set(token, verified);
  }
}

async function check(token: string, id: string, key: VerifyKey, alg: JwtAlgorithm): Promise<SignatureVerdict> {
  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(token, key, { algorithms: [alg] }));
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return {
      ok: false,
      reason: code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' ? 'bad signature' : 'malformed token',
    };
  }
  let claims: unknown;
  try {
    claims = JSON.parse(decoder.decode(payload));
  } catch {
    return { ok: false, reason: 'malformed claims' };
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims) || !wellTyped(claims as Claims))
    return { ok: false, reason: 'malformed claims' };
  const frozen = Object.freeze(claims as Claims);
  return { ok: true, claims: frozen, fresh: { id, key, claims: frozen } };
}
