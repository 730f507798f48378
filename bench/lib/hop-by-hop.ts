// Hop-by-hop header filtering (RFC 9110 §7.6.1) for the floor proxy.
// These headers describe one TCP hop, not the message, so a proxy must not
// forward them; any header named in `Connection` is hop-by-hop too.

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export type HeaderMap = Record<string, string | string[]>;

/**
 * Returns a copy of `headers` without hop-by-hop entries, undefined values or
 * the names in `drop` (lower-case). Header names are assumed lower-case, which
 * holds for both node:http and undici header objects.
 */
export function stripHopByHop(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  drop: ReadonlySet<string> = new Set(),
): HeaderMap {
  const connection = headers['connection'];
  // Fast path: the common case has no Connection-listed extras to parse.
  const listed =
    connection === undefined
      ? undefined
      : new Set(
          (Array.isArray(connection) ? connection.join(',') : connection)
            .split(',')
            .map((name) => name.trim().toLowerCase())
            .filter((name) => name !== ''),
        );
  const out: HeaderMap = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (HOP_BY_HOP.has(name) || drop.has(name) || listed?.has(name) === true) continue;
    out[name] = value;
  }
  return out;
}
