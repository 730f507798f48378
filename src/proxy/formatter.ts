/**
 * Response manipulation of one backend, in lura's order: `target` extraction, then `allow` (or else
 * `deny`), then `mapping` renames, then `group` wrapping. Dot paths reach nested objects and apply
 * to every element of an array met on the way.
 */
import type { BackendConfig } from '../config/types.js';

export type JsonObject = Record<string, unknown>;

function isObj(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface Formatter {
  (data: JsonObject): JsonObject;
}

export function compileFormatter(b: BackendConfig): Formatter {
  const target = b.target?.split('.');
  const allow = b.allow.length > 0 ? compileTree(b.allow) : undefined;
  const deny = allow === undefined && b.deny.length > 0 ? b.deny.map((d) => d.split('.')) : undefined;
  const mapping = Object.entries(b.mapping);
  const group = b.group;
  return (input) => {
    let data = input;
    if (target !== undefined) data = extractTarget(data, target);
    if (allow !== undefined) data = pick(data, allow) as JsonObject;
    else if (deny !== undefined) for (const path of deny) remove(data, path, 0);
    for (const [from, to] of mapping) {
      if (from in data) {
        data[to] = data[from];
        if (from !== to) delete data[from];
      }
    }
    return group === undefined ? data : { [group]: data };
  };
}

function extractTarget(data: JsonObject, path: readonly string[]): JsonObject {
  let cur: unknown = data;
  for (const part of path) {
    if (!isObj(cur)) return {};
    cur = cur[part];
  }
  return isObj(cur) ? cur : {};
}

/** An allow list as a tree: `a.b` and `a.c` share `a`; a leaf (`true`) keeps the whole value. */
type AllowTree = Map<string, AllowTree | true>;

function compileTree(paths: readonly string[]): AllowTree {
  const root: AllowTree = new Map();
  for (const p of paths) {
    const parts = p.split('.');
    let n = root;
    parts.forEach((part, i) => {
      const last = i === parts.length - 1;
      const cur = n.get(part);
      if (last) {
        n.set(part, true);
      } else if (cur === true) {
        return;
      } else {
        const next: AllowTree = cur ?? new Map();
        n.set(part, next);
        n = next;
      }
    });
  }
  return root;
}

function pick(value: unknown, tree: AllowTree): unknown {
  if (Array.isArray(value)) return value.map((v) => pick(v, tree));
  if (!isObj(value)) return value;
  const out: JsonObject = {};
  for (const [key, sub] of tree) {
    if (!(key in value)) continue;
    out[key] = sub === true ? value[key] : pick(value[key], sub);
  }
  return out;
}

function remove(value: unknown, path: readonly string[], i: number): void {
  if (Array.isArray(value)) {
    for (const v of value) remove(v, path, i);
    return;
  }
  if (!isObj(value)) return;
  const key = path[i] as string;
  if (i === path.length - 1) delete value[key];
  else remove(value[key], path, i + 1);
}
