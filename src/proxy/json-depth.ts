/**
 * Nesting bound of backend JSON. V8's JSON.parse takes any depth, but what then walks the value
 * recurses: JSON.stringify of the response overflows the stack past about 4,100 levels, the yaml
 * renderer past about 620 (measured on Node 20's default stack), and the overflow failed the whole
 * response (`TG_ERR_INTERNAL`). KrakenD's decoder, Go's encoding/json, refuses more than 10,000 levels
 * (https://github.com/golang/go/blob/master/src/encoding/json/scanner.go, maxNestingDepth), which
 * fails that backend alone. So does this, below what the endpoint's renderer survives, with one byte
 * scan before JSON.parse.
 */
import type { Encoding } from '../config/types.js';

/** Deepest backend JSON a json (and friends) endpoint takes; a quarter of what JSON.stringify survives. */
export const MAX_JSON_DEPTH = 1_000;
/** The same for `output_encoding: yaml`, a third of what its renderer survives. */
const MAX_JSON_DEPTH_YAML = 200;

export function maxJsonDepth(output: Encoding): number {
  return output === 'yaml' ? MAX_JSON_DEPTH_YAML : MAX_JSON_DEPTH;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Whether `body` opens more than `max` arrays/objects at once; brackets inside strings do not count. */
export function exceedsJsonDepth(body: Buffer, max: number): boolean {
  // Deeper than `max` takes more than `max` opening brackets: a shorter body cannot be.
  if (body.length <= max) return false;
  let depth = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as number;
    if (c === QUOTE) {
      // Jump to the closing quote (memchr), one not escaped by an odd run of backslashes.
      for (;;) {
        const q = body.indexOf(QUOTE, i + 1);
        if (q === -1) return false;
        let b = q - 1;
        while (body[b] === BACKSLASH) b--;
        i = q;
        if ((q - 1 - b) % 2 === 0) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
