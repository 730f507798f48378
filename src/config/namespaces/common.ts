/** Schema pieces shared by several namespaces. */

/** `:port` (every interface, KrakenD's form), `ip:port` or `[v6]:port` of a side listener. */
// The port alternatives stop at 65535: a larger one passed the schema and threw a RangeError at listen.
export const LISTEN_ADDRESS = { type: 'string', pattern: '^(\\[[0-9a-fA-F:.]+\\]|[^:\\s]*):([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$' } as const;
