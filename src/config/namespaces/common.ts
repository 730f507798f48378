/** Schema pieces and parsers shared by several namespaces. */

/** `:port` (every interface, KrakenD's form), `ip:port` or `[v6]:port` of a side listener. */
// The port alternatives stop at 65535: a larger one passed the schema and threw a RangeError at listen.
export const LISTEN_ADDRESS = {
  type: 'string',
  pattern:
    '^(\\[[0-9a-fA-F:.]+\\]|[^:\\s]*):([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$',
} as const;

/**
 * A side listener's `listen_address` as KrakenD writes it (`:8090`, every interface) or `ip:port`. When
 * it is omitted Tollgate listens on 127.0.0.1 and the namespace's own port: stats, metrics and the
 * dashboard are not exposed to the network unless asked for.
 */
export function parseListenAddress(text: string | undefined, fallbackPort: number): { host: string; port: number } {
  if (text === undefined) return { host: '127.0.0.1', port: fallbackPort };
  const i = text.lastIndexOf(':');
  const host = i <= 0 ? '' : text.slice(0, i).replace(/^\[|\]$/g, '');
  return { host, port: Number(text.slice(i + 1)) };
}
