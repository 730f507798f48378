/**
 * KrakenD's root `tls` block on the data listener: one or more certificate/key pairs (chosen by SNI
 * against each certificate's names), TLS version bounds, and optional mutual TLS with `ca_certs`.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext, type TlsOptions } from 'node:tls';
import type { TlsConfig } from '../config/types.js';

interface NamedContext {
  readonly names: readonly string[];
  readonly context: SecureContext;
}

export function tlsServerOptions(tls: TlsConfig): TlsOptions {
  const base = {
    minVersion: tls.minVersion,
    maxVersion: tls.maxVersion,
    ...(tls.enableMtls
      ? { requestCert: true, rejectUnauthorized: true, ca: tls.caCerts.map((f) => readFileSync(f)) }
      : {}),
  };
  const pairs = tls.keys.map((k) => ({ cert: readFileSync(k.publicKey), key: readFileSync(k.privateKey) }));
  const first = pairs[0];
  if (first === undefined) throw new Error('tls: no certificate');
  if (pairs.length === 1) return { ...base, ...first };
  const named: NamedContext[] = pairs.map((p) => ({
    names: certificateNames(p.cert),
    context: createSecureContext({ ...base, ...p }),
  }));
  return {
    ...base,
    ...first,
    SNICallback: (servername, cb) => {
      const hit = named.find((n) => n.names.some((pattern) => matchesHost(pattern, servername)));
      cb(null, hit?.context ?? (named[0] as NamedContext).context);
    },
  };
}

function certificateNames(pem: Buffer): string[] {
  const cert = new X509Certificate(pem);
  const san = (cert.subjectAltName ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4).toLowerCase());
  const cn = /CN=([^\n,]+)/.exec(cert.subject)?.[1]?.toLowerCase();
  return san.length > 0 ? san : cn !== undefined ? [cn] : [];
}

function matchesHost(pattern: string, host: string): boolean {
  const h = host.toLowerCase();
  if (pattern.startsWith('*.')) {
    const dot = h.indexOf('.');
    return dot > 0 && h.slice(dot + 1) === pattern.slice(2);
  }
  return pattern === h;
}
