// The key pair, JWK set file and bearer token of the `jwt` gateway of
// bench/cpu-per-request.ts: a real RS256 key made with `jose` for each run,
// its public half written as the JWK set the endpoint's `jwk_local_path`
// reads, and one token carrying every claim the validator checks (issuer,
// audience, roles, exp/nbf/iat), so the whole check runs on each request.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

/** What the token carries and the validator demands. */
export const BENCH_JWT = {
  alg: 'RS256',
  kid: 'tollgate-cpu-bench',
  issuer: 'https://idp.tollgate-bench.invalid',
  audience: 'tollgate-cpu-bench',
  role: 'bench-user',
} as const;

export interface BenchJwt {
  /** The JWK set file (public key only). */
  readonly jwksPath: string;
  /** The signed token, without the `Bearer ` prefix. */
  readonly token: string;
}

/** A fresh RS256 key, its JWK set in `dir`/jwks.json, and a token valid for `validSeconds` from now. */
export async function writeBenchJwt(dir: string, validSeconds: number): Promise<BenchJwt> {
  const { privateKey, publicKey } = await generateKeyPair(BENCH_JWT.alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: BENCH_JWT.kid, alg: BENCH_JWT.alg, use: 'sig' };
  const jwksPath = join(dir, 'jwks.json');
  await writeFile(jwksPath, `${JSON.stringify({ keys: [jwk] })}\n`);
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ roles: [BENCH_JWT.role], scope: 'read' })
    .setProtectedHeader({ alg: BENCH_JWT.alg, kid: BENCH_JWT.kid, typ: 'JWT' })
    .setIssuer(BENCH_JWT.issuer)
    .setAudience(BENCH_JWT.audience)
    .setSubject('bench-client')
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + validSeconds)
    .sign(privateKey);
  return { jwksPath, token };
}
