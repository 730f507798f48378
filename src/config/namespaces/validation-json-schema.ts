/**
 * `validation/json-schema` (endpoint level): the namespace's value is itself a JSON Schema, which the
 * request body must match. KrakenD CE 2.x compiles it with santhosh-tekuri/jsonschema v6
 * (krakend-jsonschema, branch replace_jsonschema_validator `jsonschema.go:41-47`): the draft is the
 * one `$schema` names, 2020-12 without one (`roots.go:19`, draftLatest); `format` is an annotation
 * under 2019-09 and 2020-12 and an assertion under draft-07 and earlier (`compiler.go:47-53`);
 * `pattern` is Go's regular expression syntax. Here ajv compiles it once at start-up with the same
 * choices (go-regexp.ts translates the patterns).
 *
 * Tollgate refuses at start-up what it cannot run as KrakenD would (KrakenD logs the compile error and
 * then forwards every body unchecked, `jsonschema.go:43`): a schema that does not compile, a
 * `$schema` other than draft-06, draft-07, 2019-09 or 2020-12, and a `format` under draft-06/07
 * (format assertions need the ajv-formats package, not installed).
 */
import { createRequire } from 'node:module';
import { Ajv, type Options } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ConfigIssue } from '../issue.js';
import { formatPath } from '../json-path.js';
import { goRegExp } from '../go-regexp.js';
import { arrayAt, isObject, type RawObject } from '../raw.js';

export const VALIDATION_JSON_SCHEMA = 'validation/json-schema';

/** krakend-schema types it as an object; a boolean schema (`true`, `false`) compiles too. */
export const VALIDATION_JSON_SCHEMA_SCHEMA = { type: ['object', 'boolean'] } as const;

/** Whether a decoded JSON body matches the endpoint's schema. */
export type BodySchema = (doc: unknown) => boolean;

type Draft = 'draft-06' | 'draft-07' | '2019-09' | '2020-12';

const DRAFTS: readonly (readonly [RegExp, Draft])[] = [
  [/^http:\/\/json-schema\.org\/draft-06\/schema#?$/, 'draft-06'],
  [/^http:\/\/json-schema\.org\/draft-07\/schema#?$/, 'draft-07'],
  [/^https:\/\/json-schema\.org\/draft\/2019-09\/schema#?$/, '2019-09'],
  [/^https:\/\/json-schema\.org\/draft\/2020-12\/schema#?$/, '2020-12'],
];

/** ajv calls this for every `pattern` and `patternProperties` key: RE2 syntax, as Go compiles them. */
const goPatterns = Object.assign((pattern: string) => goRegExp(pattern), { code: 'goRegExp' });

const require = createRequire(import.meta.url);

function draftOf(schema: unknown): Draft | string {
  if (!isObject(schema) || typeof schema.$schema !== 'string') return '2020-12';
  const named = schema.$schema;
  return DRAFTS.find(([re]) => re.test(named))?.[1] ?? named;
}

/**
 * Compiles endpoint schemas, one ajv per draft shared by every endpoint of a file (an ajv costs
 * tens of milliseconds to build; a compilation, well under one). Schemas are compiled from a copy
 * (the config is frozen, and ajv keeps what it compiles) and not registered by their `$id`, so two
 * endpoints may use the same one.
 */
export class BodySchemaCompiler {
  readonly #ajv = new Map<Draft, Ajv | Ajv2019 | Ajv2020>();
  /** ajv's reports of formats it cannot check (draft-06/07 assert them), for the schema being compiled. */
  readonly #warnings: string[] = [];

  /** The schema compiled, or throws an Error saying why it cannot be. */
  compile(raw: unknown): BodySchema {
    const draft = draftOf(raw);
    const ajv = this.#instance(draft);
    this.#warnings.length = 0;
    const validate = ajv.compile(structuredClone(raw) as object | boolean);
    const unknown = this.#warnings.find((m) => m.includes('unknown format'));
    if (unknown !== undefined)
      throw new Error(`${draft} asserts "format", which Tollgate cannot check yet (${unknown.replace(/"/g, "'")})`);
    return (doc) => validate(doc) === true;
  }

  #instance(draft: Draft | string): Ajv | Ajv2019 | Ajv2020 {
    if (!isDraft(draft))
      throw new Error(
        `"$schema": "${draft}" is not a draft Tollgate runs (draft-06, draft-07, 2019-09 and 2020-12 are)`,
      );
    let ajv = this.#ajv.get(draft);
    if (ajv !== undefined) return ajv;
    const options: Options = {
      strict: false,
      allErrors: false,
      addUsedSchema: false,
      code: { regExp: goPatterns },
      logger: {
        log: () => undefined,
        error: () => undefined,
        warn: (msg: unknown) => void this.#warnings.push(String(msg)),
      },
    };
    if (draft === '2020-12') ajv = new Ajv2020({ ...options, validateFormats: false });
    else if (draft === '2019-09') ajv = new Ajv2019({ ...options, validateFormats: false });
    else {
      ajv = new Ajv(options);
      if (draft === 'draft-06') ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as object);
    }
    this.#ajv.set(draft, ajv);
    return ajv;
  }
}

function isDraft(d: string): d is Draft {
  return DRAFTS.some(([, name]) => name === d);
}

/** One schema compiled on its own (tests, one-off checks). */
export function compileBodySchema(raw: unknown): BodySchema {
  return new BodySchemaCompiler().compile(raw);
}

/** Every endpoint's schema compiled once at load, so a file that cannot run is refused with the paths. */
export function checkJsonSchemas(root: RawObject): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const compiler = new BodySchemaCompiler();
  arrayAt(root, 'endpoints').forEach((ep, i) => {
    if (!isObject(ep) || !isObject(ep.extra_config) || !(VALIDATION_JSON_SCHEMA in ep.extra_config)) return;
    try {
      compiler.compile(ep.extra_config[VALIDATION_JSON_SCHEMA]);
    } catch (err) {
      issues.push({
        path: formatPath(['endpoints', i, 'extra_config', VALIDATION_JSON_SCHEMA]),
        message: `is not a JSON Schema Tollgate can run: ${(err as Error).message}`,
      });
    }
  });
  return issues;
}
