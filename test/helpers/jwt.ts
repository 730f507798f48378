/** Real keys and signed tokens made by the tests with `jose`, and a JWK server on 127.0.0.1:0. */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { exportJWK, generateKeyPair, generateSecret, SignJWT, type CryptoKey, type JWK } from 'jose';
import { closeServer } from './upstream.js';

export type TestAlg = 'RS256' | 'RS384' | 'PS256' | 'ES256' | 'ES384' | 'HS256' | 'HS512' | 'EdDSA';

export interface TestKey {
  readonly alg: TestAlg;
  readonly kid: string;
  readonly signing: CryptoKey | Uint8Array;
  /** What a JWK set publishes: the public key (the secret for HMAC) with its kid. */
  readonly jwk: JWK;
}

export async function makeKey(alg: TestAlg, kid: string): Promise<TestKey> {
  if (alg.startsWith('HS')) {
    const secret = await generateSecret(alg, { extractable: true });
    return { alg, kid, signing: secret, jwk: { ...(await exportJWK(secret)), kid } };
  }
  const { privateKey, publicKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}),
  });
  return { alg, kid, signing: privateKey, jwk: { ...(await exportJWK(publicKey)), kid, use: 'sig' } };
}

/** A token signed with `key` (header `alg` and `kid` unless `header` says otherwise). */
export function sign(
  key: TestKey,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, ...header }).sign(key.signing);
}

export const nowSec = (): number => Math.floor(Date.now() / 1000);

export interface JwkServer {
  url: string;
  /** Requests received, in order. */
  readonly hits: { readonly userAgent: string | undefined }[];
  /** The keys served from now on. */
  keys: JWK[];
  status: number;
  contentType: string;
  /** Milliseconds to wait before answering. */
  delayMs: number;
  /** Raw body to send instead of the key set. */
  body: string | undefined;
}

/** A JWK set server on 127.0.0.1:0 (HTTPS when given a certificate), closed after the test. */
export async function startJwkServer(
  t: TestContext,
  keys: JWK[],
  tls?: { readonly cert: Buffer; readonly key: Buffer },
): Promise<JwkServer> {
  const state: JwkServer = {
    url: '',
    hits: [],
    keys,
    status: 200,
    contentType: 'application/jwk-set+json',
    delayMs: 0,
    body: undefined,
  };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    state.hits.push({ userAgent: req.headers['user-agent'] });
    const answer = (): void => {
      const text = state.body ?? JSON.stringify({ keys: state.keys });
      res.writeHead(state.status, { 'content-type': state.contentType, 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (state.delayMs > 0) setTimeout(answer, state.delayMs);
    else answer();
  };
  const server = tls === undefined ? createHttpServer(handler) : createHttpsServer(tls, handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  t.after(() => closeServer(server));
  state.url = `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}/jwks.json`;
  return state;
}
