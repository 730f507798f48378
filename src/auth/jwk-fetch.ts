/**
 * One download of a JWK set (go-auth0 `jwk_client.go:83` downloadKeys, over the transport of
 * krakend-jose `jwk.go:140`): GET the URL, require a JSON content type (`application/json` or
 * `application/jwk-set+json`) and a non-empty `keys` list. TLS as krakend-jose sets it up: the system
 * CAs plus `jwk_local_ca`, verification off with `disable_jwk_security`, and with `jwk_fingerprints`
 * one certificate of the chain must carry a pinned public key (`jwk.go:238`).
 *
 * Bounded where Go's client is not: one deadline for the whole exchange, a body cap, no redirects, a
 * fresh connection closed after each download (no pool to close on shutdown), and sockets and timers
 * that never keep the process alive.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates, type DetailedPeerCertificate, type TLSSocket } from 'node:tls';

export interface JwkFetchOptions {
  readonly url: string;
  readonly insecure: boolean;
  /** PEM text trusted besides the system CAs. */
  readonly localCa: string | undefined;
  readonly fingerprints: readonly Buffer[];
  readonly userAgent: string;
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

/** Why a download failed, in words for a log line (never a key or a token). */
export class JwkFetchError extends Error {
  override readonly name = 'JwkFetchError';
}

const JSON_TYPES = ['application/json', 'application/jwk-set+json'];

/** Resolves with the JWK objects of the set. */
export function fetchJwks(opts: JwkFetchOptions): Promise<readonly unknown[]> {
  return new Promise((resolve, reject) => {
    const url = new URL(opts.url);
    const fail = (message: string): void => {
      req.destroy();
      reject(new JwkFetchError(message));
    };
    const headers = { 'user-agent': opts.userAgent, accept: 'application/jwk-set+json, application/json' };
    const req: ClientRequest =
      url.protocol === 'https:'
        ? httpsRequest(url, {
            agent: false,
            headers,
            rejectUnauthorized: !opts.insecure,
            ...(opts.localCa === undefined ? {} : { ca: [...rootCertificates, opts.localCa] }),
          })
        : httpRequest(url, { agent: false, headers });
    const timer = setTimeout(() => fail(`no answer within ${opts.timeoutMs} ms`), opts.timeoutMs);
    timer.unref();
    req.on('socket', (socket) => {
      socket.unref();
      if (opts.fingerprints.length > 0 && url.protocol === 'https:')
        socket.once('secureConnect', () => {
          if (!pinned((socket as TLSSocket).getPeerCertificate(true), opts.fingerprints))
            fail('no certificate of the JWK server has a pinned public key (jwk_fingerprints)');
        });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new JwkFetchError(err.code ?? err.message));
    });
    req.on('response', (res) => {
      readSet(res, opts.maxBytes).then(
        (keys) => {
          clearTimeout(timer);
          resolve(keys);
        },
        (err: Error) => {
          clearTimeout(timer);
          fail(err.message);
        },
      );
    });
    req.end();
  });
}

async function readSet(res: IncomingMessage, maxBytes: number): Promise<readonly unknown[]> {
  const status = res.statusCode ?? 0;
  const type = res.headers['content-type'] ?? '';
  if (status < 200 || status > 299) throw new Error(`the JWK server answered ${status}`);
  // go-auth0 compares prefixes, case-sensitively.
  if (!JSON_TYPES.some((t) => type.startsWith(t))) throw new Error(`content type "${type}" is not JSON`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new Error(`the JWK set is larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  let set: unknown;
  try {
    set = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new Error('the JWK set is not JSON');
  }
  const keys = typeof set === 'object' && set !== null ? (set as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys) || keys.length === 0) throw new Error('the JWK set has no keys');
  return keys;
}

/** Whether a certificate of the chain has one of the pinned SHA-256 public key digests. */
function pinned(cert: DetailedPeerCertificate, fingerprints: readonly Buffer[]): boolean {
  const seen = new Set<DetailedPeerCertificate>();
  for (let c: DetailedPeerCertificate | undefined = cert; c !== undefined && !seen.has(c); c = c.issuerCertificate) {
    seen.add(c);
    // Go hashes x509.MarshalPKIXPublicKey: the SubjectPublicKeyInfo DER (Node's `pubkey` is not it for EC keys).
    const spki = new X509Certificate(c.raw).publicKey.export({ type: 'spki', format: 'der' });
    const digest = createHash('sha256').update(spki).digest();
    if (fingerprints.some((f) => f.equals(digest))) return true;
  }
  return false;
}
