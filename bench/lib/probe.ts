// Correctness gate before any load: a target must return 200 with exactly
// the upstream's body length. Without it a misrouted proxy answering a fast
// 404 (or an empty 200) would post a spectacular, meaningless req/s.

import { httpGet } from './http-get.js';

export async function probeTarget(url: string, payloadBytes: number): Promise<string | undefined> {
  try {
    const { status, bodyBytes } = await httpGet(url, 5000);
    if (status !== 200 || bodyBytes !== payloadBytes) {
      return `probe GET ${url}: expected 200 with ${payloadBytes}-byte body, got ${status} with ${bodyBytes} bytes`;
    }
    return undefined;
  } catch (error) {
    return `probe GET ${url} failed: ${error instanceof Error ? error.message : String(error)}`;
  }
}
