/**
 * Where an `exporters.otlp[]` entry sends, and how. `host` may carry `http://` (plaintext) or
 * `https://` (TLS) — for gRPC too, which KrakenD CE cannot do (krakend-otel #37); no scheme means
 * plaintext. A path in `host` is ignored, as in CE. Default port 4317 for gRPC, 4318 for HTTP.
 */
import type { OtlpExporterSettings } from '../otel/settings.js';

export interface OtlpEndpoint {
  readonly tls: boolean;
  /** `scheme://host:port` */
  readonly base: string;
}

export function otlpEndpoint(s: Pick<OtlpExporterSettings, 'host' | 'port'>): OtlpEndpoint {
  const m = /^(https?):\/\//i.exec(s.host);
  const tls = m?.[1]?.toLowerCase() === 'https';
  const rest = m === null ? s.host : s.host.slice(m[0].length);
  const hostPort = rest.split('/')[0] ?? rest;
  const u = new URL(`http://${hostPort}`);
  // `host: "collector:4317"` (a port in host) is honoured; otherwise `port` (or its default).
  const port = u.port !== '' ? Number(u.port) : s.port;
  return { tls, base: `${tls ? 'https' : 'http'}://${u.hostname.includes(':') ? `[${u.hostname}]` : u.hostname}:${port}` };
}
