/** Narrow helpers for reading the raw (schema-checked but untyped) config. */
export type RawObject = Record<string, unknown>;

export function isObject(v: unknown): v is RawObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function objectAt(o: RawObject, key: string): RawObject {
  const v = o[key];
  return isObject(v) ? v : {};
}

export function arrayAt(o: RawObject, key: string): unknown[] {
  const v = o[key];
  return Array.isArray(v) ? v : [];
}

export function stringAt(o: RawObject, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' ? v : undefined;
}

export function stringsAt(o: RawObject, key: string): string[] | undefined {
  const v = o[key];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;
}

/** Keys starting with `@`, `$`, `_` or `#` are comments in KrakenD files. */
export function isCommentKey(key: string): boolean {
  return /^[@$_#]/.test(key);
}
