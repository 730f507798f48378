/** The merged object → response body, per endpoint `output_encoding`. */
import { stringify as toYaml } from 'yaml';
import type { Encoding } from '../config/types.js';
import type { JsonObject } from './formatter.js';

export interface Rendered {
  readonly body: string;
  readonly contentType: string;
}

export function renderOutput(data: JsonObject, encoding: Encoding): Rendered {
  switch (encoding) {
    case 'json-collection':
      return {
        body: JSON.stringify(Array.isArray(data.collection) ? data.collection : []),
        contentType: 'application/json; charset=utf-8',
      };
    case 'string':
      return {
        body: typeof data.content === 'string' ? data.content : JSON.stringify(data),
        contentType: 'text/plain; charset=utf-8',
      };
    case 'yaml':
      return { body: toYaml(data), contentType: 'application/yaml; charset=utf-8' };
    default:
      return { body: JSON.stringify(data), contentType: 'application/json; charset=utf-8' };
  }
}
