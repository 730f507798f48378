/** The merged object → response body, per endpoint `output_encoding`. */
import { stringify as toYaml } from 'yaml';
import type { Encoding } from '../config/types.js';
import type { JsonObject } from './formatter.js';
import { goLess, type GoJsonWriter } from './go-json.js';

/**
 * yaml.v2/v3 marshal a map with its keys sorted too (KrakenD's `yaml` output, lura router/gin/render.go);
 * their order compares runs of digits as numbers, this one by bytes (docs/differences.md).
 */
const YAML_OPTIONS = {
  sortMapEntries: (a: { key: unknown }, b: { key: unknown }) =>
    goLess(String(a.key), String(b.key)) ? -1 : goLess(String(b.key), String(a.key)) ? 1 : 0,
};

export interface Rendered {
  readonly body: string;
  readonly contentType: string;
}

/** `json` is the endpoint's writer, which remembers the shapes of its backends' objects. */
export function renderOutput(data: JsonObject, encoding: Encoding, json: GoJsonWriter): Rendered {
  switch (encoding) {
    case 'json-collection':
      return {
        body: json.write(Array.isArray(data.collection) ? data.collection : []),
        contentType: 'application/json; charset=utf-8',
      };
    case 'string':
      // lura writes "" unless the merged data has a string `content` (router/gin/render.go stringRender).
      return {
        body: typeof data.content === 'string' ? data.content : '',
        contentType: 'text/plain; charset=utf-8',
      };
    case 'yaml':
      return { body: toYaml(data, YAML_OPTIONS), contentType: 'application/yaml; charset=utf-8' };
    default:
      return { body: json.write(data), contentType: 'application/json; charset=utf-8' };
  }
}
