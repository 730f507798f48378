/**
 * A backend body → the object the merger works on, per backend `encoding` (KrakenD's decoders):
 * `json` needs an object (or an array with `is_collection`), `safejson` wraps anything, `string`
 * wraps the text as `content`.
 */
import { TollgateError } from '../errors/catalogue.js';
import type { Encoding } from '../config/types.js';
import type { JsonObject } from './formatter.js';

export function decodeBody(text: string, encoding: Encoding, isCollection: boolean): JsonObject {
  if (encoding === 'string') return { content: text };
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new TollgateError('TG_ERR_BACKEND_DECODE', 'the backend response is not valid JSON', { cause: err });
  }
  if (Array.isArray(value)) {
    if (isCollection || encoding === 'safejson') return { collection: value };
    throw new TollgateError(
      'TG_ERR_BACKEND_DECODE',
      'the backend returned a JSON array; set "is_collection": true on the backend',
    );
  }
  if (typeof value === 'object' && value !== null) return value as JsonObject;
  if (encoding === 'safejson') return { content: value };
  throw new TollgateError('TG_ERR_BACKEND_DECODE', 'the backend returned a JSON scalar, not an object');
}
