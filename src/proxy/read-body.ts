/** Bounded body reading for the paths that must buffer (a body sent to several backends, JSON decoding). */
import { TollgateError } from '../errors/catalogue.js';

export async function readBounded(
  stream: AsyncIterable<Buffer | Uint8Array | string>,
  limit: number,
  code: 'TG_ERR_BODY_TOO_LARGE' | 'TG_ERR_BACKEND_DECODE',
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    size += buf.length;
    if (size > limit) {
      throw new TollgateError(
        code,
        code === 'TG_ERR_BODY_TOO_LARGE' ? undefined : `the backend response is larger than ${limit} bytes`,
      );
    }
    chunks.push(buf);
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
}
