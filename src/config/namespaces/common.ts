/** Schema pieces shared by several namespaces. */

/** `:port` (every interface, KrakenD's form), `ip:port` or `[v6]:port` of a side listener. */
export const LISTEN_ADDRESS = { type: 'string', pattern: '^(\\[[0-9a-fA-F:.]+\\]|[^:\\s]*):[0-9]{1,5}$' } as const;
