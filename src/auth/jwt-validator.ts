/**
 * One endpoint's `auth/validator`, in krakend-jose's order (`gin/jose.go:130-178`): the token (401
 * without one), its signature with the configured algorithm (401), its registered claims (401), then
 * the roles (403) and the scopes (403). Synchronous when the answer needs no key download and no
 * signature check (a remembered token, a missing or malformed one), a promise otherwise.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { JwtValidatorSettings } from '../config/namespaces/auth-validator.js';
import { hasRole, hasScopes, type Claims } from './jwt-claims.js';
import { claimProblem, type ClaimProblem } from './jwt-registered-claims.js';
import { tokenOf } from './jwt-token.js';
import type { JwtVerifier, SignatureProblem, SignatureVerdict } from './jwt-verifier.js';

/** Why a request was refused: fixed words for a log line (never the token nor a claim). */
export type JwtRejection = 'no token' | SignatureProblem | ClaimProblem | 'missing role' | 'missing scope';

export type JwtVerdict =
  | { readonly ok: true; readonly claims: Claims }
  | { readonly ok: false; readonly status: 401 | 403; readonly reason: JwtRejection };

/** Unix seconds from a monotonic clock: one `Date.now()` read at start, `performance.now()` after. */
const EPOCH_MS = Date.now() - performance.now();
const nowSec = (): number => (EPOCH_MS + performance.now()) / 1000;

export class JwtValidator {
  readonly #s: JwtValidatorSettings;
  readonly #verifier: JwtVerifier;
  readonly #now: () => number;

  constructor(settings: JwtValidatorSettings, verifier: JwtVerifier, now: () => number = nowSec) {
    this.#s = settings;
    this.#verifier = verifier;
    this.#now = now;
  }

  get settings(): JwtValidatorSettings {
    return this.#s;
  }

  check(headers: IncomingHttpHeaders): JwtVerdict | Promise<JwtVerdict> {
    const token = tokenOf(headers, this.#s.authHeader, this.#s.cookieKey);
    if (token === undefined) return { ok: false, status: 401, reason: 'no token' };
    const v = this.#verifier.verify(token);
    return v instanceof Promise ? v.then((r) => this.#decide(token, r)) : this.#decide(token, v);
  }

  #decide(token: string, v: SignatureVerdict): JwtVerdict {
    if (!v.ok) return { ok: false, status: 401, reason: v.reason };
    const s = this.#s;
    const problem = claimProblem(v.claims, s, this.#now());
    if (problem !== undefined) return { ok: false, status: 401, reason: problem };
    if (v.fresh !== undefined) this.#verifier.remember(token, v.fresh);
    if (!hasRole(v.claims, s.rolesKey, s.rolesNested, s.roles))
      return { ok: false, status: 403, reason: 'missing role' };
    if (!hasScopes(v.claims, s.scopesKey, s.scopesAll, s.scopes))
      return { ok: false, status: 403, reason: 'missing scope' };
    return { ok: true, claims: v.claims };
  }
}
