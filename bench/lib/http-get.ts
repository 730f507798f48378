// Minimal one-shot HTTP GET used for readiness polling and the correctness
// probe. It deliberately uses node:http with `agent: false` (a fresh
// connection, closed afterwards) so the driver never holds pooled sockets
// open against the targets it is about to load-test.

import { request } from 'node:http';

export interface GetResult {
  readonly status: number;
  readonly bodyBytes: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** GET `url` on a fresh connection, with `headers` (none by default). */
export function httpGet(
  url: string,
  timeoutMs: number,
  headers: Readonly<Record<string, string>> = {},
): Promise<GetResult> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', agent: false, timeout: timeoutMs, headers }, (res) => {
      let bodyBytes = 0;
      res.on('data', (chunk: Buffer) => {
        bodyBytes += chunk.length;
      });
      res.once('end', () => resolve({ status: res.statusCode ?? 0, bodyBytes, headers: res.headers }));
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.once('error', reject);
    req.end();
  });
}
