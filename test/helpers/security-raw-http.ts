/**
 * One HTTP/1.1 request written byte for byte on its own connection, as a browser or a proxy would send
 * it (repeated header fields, any Host), and its answer with the header fields as sent: names in their
 * case, repeated fields kept apart. For checks on exact headers, which fetch would merge or refuse.
 */
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface RawAnswer {
  readonly status: number;
  /** Every header field, in order, the name as sent. */
  readonly fields: readonly (readonly [name: string, value: string])[];
  readonly body: string;
  /** The values of one header (case-insensitive name), in order. */
  all(name: string): string[];
  /** The only value of one header, or undefined; throws when the header is repeated. */
  one(name: string): string | undefined;
}

export interface RawRequest {
  readonly method?: string;
  readonly target?: string;
  /** Sent in this order; `Host: gw` first unless a Host is given. */
  readonly headers?: readonly (readonly [string, string])[];
  readonly body?: string | Buffer;
  /** Connect with TLS (certificates not verified). */
  readonly tls?: boolean;
}

export function rawRequest(port: number, r: RawRequest = {}): Promise<RawAnswer> {
  const body = r.body === undefined ? Buffer.alloc(0) : Buffer.from(r.body);
  const headers = [...(r.headers ?? [])];
  if (!headers.some(([n]) => n.toLowerCase() === 'host')) headers.unshift(['Host', 'gw']);
  headers.push(['Connection', 'close']);
  if (r.body !== undefined) headers.push(['Content-Length', String(body.length)]);
  const head = `${r.method ?? 'GET'} ${r.target ?? '/'} HTTP/1.1\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
  return new Promise((resolve, reject) => {
    const onConnect = (): void => {
      // Not half-closed: Node's server drops the requests of a connection whose client ended it.
      s.write(head, 'latin1');
      if (body.length > 0) s.write(body);
    };
    const s =
      r.tls === true
        ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }, onConnect)
        : connect(port, '127.0.0.1', onConnect);
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', reject);
    s.on('close', () => {
      try {
        resolve(parse(Buffer.concat(chunks).toString('latin1')));
      } catch (err) {
        reject(err as Error);
      }
    });
    s.setTimeout(10_000, () => s.destroy(new Error('no answer within 10 s')));
  });
}

function parse(out: string): RawAnswer {
  const end = out.indexOf('\r\n\r\n');
  if (end === -1) throw new Error(`no complete answer: ${JSON.stringify(out.slice(0, 200))}`);
  const lines = out.slice(0, end).split('\r\n');
  const fields = lines.slice(1).map((l) => {
    const c = l.indexOf(':');
    return [l.slice(0, c), l.slice(c + 1).trim()] as const;
  });
  const all = (name: string): string[] =>
    fields.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
  return {
    status: Number((lines[0] ?? '').split(' ')[1]),
    fields,
    body: out.slice(end + 4),
    all,
    one: (name) => {
      const v = all(name);
      if (v.length > 1) throw new Error(`${name} sent ${v.length} times: ${v.join(' | ')}`);
      return v[0];
    },
  };
}
