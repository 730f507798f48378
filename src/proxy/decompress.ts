/** Backends may compress when the client's Accept-Encoding is forwarded; JSON merging needs plain text. */
import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate } from 'node:zlib';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);
const brotliAsync = promisify(brotliDecompress);

export async function decompress(body: Buffer, contentEncoding: string | string[] | undefined): Promise<Buffer> {
  const enc = (Array.isArray(contentEncoding) ? contentEncoding.join(',') : (contentEncoding ?? '')).trim().toLowerCase();
  switch (enc) {
    case '':
    case 'identity':
      return body;
    case 'gzip':
    case 'x-gzip':
      return gunzipAsync(body);
    case 'deflate':
      return inflateAsync(body);
    case 'br':
      return brotliAsync(body);
    default:
      throw new Error(`unsupported content-encoding "${enc}"`);
  }
}
