/**
 * The DNS lookup and TLS handshake of every connection a backend pool opens, timed in the connector
 * and handed to the request the new connection was opened for, as krakend-otel reads them from Go's
 * httptrace hooks (krakend-otel http/client/transport_tracking.go:118-160): DNSStart → DNSDone and
 * TLSHandshakeStart → TLSHandshakeDone. Those hooks fire only when the transport dials, yet the
 * durations are recorded on every round trip (transport_metrics.go:220-224), so a request that reuses
 * a pooled connection reports 0 for both, and so does a host given as an IP address (no lookup) or an
 * `http:` one (no handshake).
 *
 * The hand-over needs no lookup table: undici calls the connector's callback, and from inside it,
 * synchronously, writes the first queued request of that client on the new socket, which calls the
 * request handler's `onRequestStart` (undici lib/dispatcher/client.js connect → client[kResume] →
 * client-h1.js writeH1 → request.onConnect). A failed connection errors the client's queued requests
 * from inside the callback the same way (client.js handleConnectError → onError). So the timings are
 * offered for exactly the duration of the callback, and the first handler that claims them is the
 * request the connection was opened for; with `pipelining: 1` a connecting client holds one request.
 */
import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { buildConnector } from 'undici';

/** Where a request keeps the set-up times of the connection it opened (ms; 0 = not done). */
export interface ConnectTimingSink {
  dnsMs: number;
  tlsMs: number;
}

/** The timings of the connection whose connector callback is running, if any. */
let offered: ConnectTimingSink | undefined;

/**
 * Called by a request handler when undici starts it on a socket (`onRequestStart`) or fails it before
 * that (`onResponseError`): copies the set-up times of the connection just opened for it, if this is
 * that moment, and otherwise leaves the sink as it is (a reused connection: 0).
 */
export function claimNewConnection(into: ConnectTimingSink): void {
  const t = offered;
  if (t === undefined) return;
  offered = undefined;
  into.dnsMs = t.dnsMs;
  into.tlsMs = t.tlsMs;
}

/**
 * undici's own connector (buildConnector: timeouts, TLS session cache, keep-alive) with the timing
 * around it. DNS runs from the connect call to the socket's `lookup` event (emitted on failure too);
 * TLS from the TCP `connect` to `secureConnect`, or to the error that ended the handshake. The
 * listeners are prepended so the times are set before undici's own listeners call back.
 */
export function timedConnector(options: buildConnector.BuildOptions): buildConnector.connector {
  const connect = buildConnector(options);
  return (opts, callback) => {
    const started = performance.now();
    const timing: ConnectTimingSink = { dnsMs: 0, tlsMs: 0 };
    let tcpAt = 0;
    // undici's connector returns the socket it opens (lib/core/connect.js), though its types say void.
    const socket = connect(opts, (...args) => {
      offered = timing;
      try {
        callback(...args);
      } finally {
        offered = undefined;
      }
    }) as unknown as Socket | undefined;
    if (!(socket instanceof Socket)) return socket;
    socket.prependOnceListener('lookup', () => (timing.dnsMs = performance.now() - started));
    if (opts.protocol === 'https:') {
      socket.prependOnceListener('connect', () => (tcpAt = performance.now()));
      const handshakeEnd = (): void => {
        if (tcpAt !== 0 && timing.tlsMs === 0) timing.tlsMs = performance.now() - tcpAt;
      };
      socket.prependOnceListener('secureConnect', handshakeEnd);
      socket.prependOnceListener('error', handshakeEnd);
    }
    return socket;
  };
}
