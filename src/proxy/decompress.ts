/**
 * Backends may compress when the client's Accept-Encoding is forwarded; JSON merging needs plain text.
 * The limit bounds the decoded bytes (what is held in memory), not the bytes on the wire: a few hundred
 * KB of gzip inflate to gigabytes. zlib stops and frees its engine as soon as its output passes
 * `maxOutputLength`, so a bomb costs the limit, not its inflated size.
 */
import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate } from 'node:zlib';
import { TollgateError } from '../errors/catalogue.js';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);
const brotliAsync = promisify(brotliDecompress);

export async function decompress(
  body: Buffer,
  contentEncoding: string | string[] | undefined,
  limit: number,
): Promise<Buffer> {
  const enc = (Array.isArray(contentEncoding) ? contentEncoding.join(',') : (contentEncoding ?? ''))
    .trim()
    .toLowerCase();
  try {
    switch (enc) {
      case '':
      case 'identity':
        return body;
      case 'gzip':
      case 'x-gzip':
        return await gunzipAsync(body, { maxOutputLength: Math.max(1, limit) });
      case 'deflate':
        return await inflateAsync(body, { maxOutputLength: Math.max(1, limit) });
      case 'br':
        return await brotliAsync(body, { maxOutputLength: Math.max(1, limit) });
      default:
        throw new Error(`unsupported content-encoding "${enc}"`);
    }
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new TollgateError(
        'TG_ERR_BACKEND_DECODE',
        `the backend response is larger than ${limit} bytes once decompressed`,
        { cause: err },
      );
    }
    throw new TollgateError('TG_ERR_BACKEND_DECODE', 'the backend response could not be decompressed', { cause: err });
  }
}
