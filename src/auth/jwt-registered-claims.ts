/**
 * The registered claims of a verified token, checked as KrakenD checks them: go-jose v3 decodes them
 * into its `jwt.Claims` (so a registered claim of the wrong type fails the token) and
 * `Claims.ValidateWithLeeway` (github.com/go-jose/go-jose `jwt/validation.go:78`) compares them:
 * `iss` exactly, every configured audience present in `aud`, and `nbf`, `exp`, `iat` against now with
 * the leeway (whole seconds: go-jose's NumericDate truncates).
 */
import type { Claims } from './jwt-claims.js';

export type ClaimProblem =
  'malformed claims' | 'wrong issuer' | 'wrong audience' | 'not yet valid' | 'expired' | 'issued in the future';

export interface ClaimExpectations {
  readonly issuer: string | undefined;
  readonly audience: readonly string[];
  readonly leewaySec: number;
}

const STRING_CLAIMS = ['iss', 'sub', 'jti'] as const;
const DATE_CLAIMS = ['exp', 'nbf', 'iat'] as const;

/** Whether the registered claims have the types go-jose decodes (null is absent, as for its pointers). */
export function wellTyped(c: Claims): boolean {
  for (const k of STRING_CLAIMS) if (c[k] !== undefined && c[k] !== null && typeof c[k] !== 'string') return false;
  for (const k of DATE_CLAIMS) if (c[k] !== undefined && c[k] !== null && typeof c[k] !== 'number') return false;
  const aud = c.aud;
  if (aud === undefined || aud === null || typeof aud === 'string') return true;
  return Array.isArray(aud) && aud.every((a) => typeof a === 'string');
}

/** The first problem in go-jose's order, or undefined; `nowSec` is the current Unix time in seconds. */
export function claimProblem(c: Claims, e: ClaimExpectations, nowSec: number): ClaimProblem | undefined {
  if (e.issuer !== undefined && c.iss !== e.issuer) return 'wrong issuer';
  if (e.audience.length > 0) {
    const aud = c.aud;
    const have = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
    if (!e.audience.every((a) => have.includes(a))) return 'wrong audience';
  }
  const nbf = date(c.nbf);
  if (nbf !== undefined && nowSec + e.leewaySec < nbf) return 'not yet valid';
  const exp = date(c.exp);
  if (exp !== undefined && nowSec - e.leewaySec > exp) return 'expired';
  const iat = date(c.iat);
  if (iat !== undefined && nowSec + e.leewaySec < iat) return 'issued in the future';
  return undefined;
}

function date(v: unknown): number | undefined {
  return typeof v === 'number' ? Math.trunc(v) : undefined;
}
