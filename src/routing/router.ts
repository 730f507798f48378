/**
 * The route table, compiled once at start-up into a segment trie. A lookup walks the path's segments
 * (static before `{param}`, then a trailing `/*`), so its cost does not grow with the number of routes.
 */
import type { EndpointPattern } from './pattern.js';

export interface RouteDefinition {
  readonly id: number;
  readonly method: string;
  readonly pattern: EndpointPattern;
}

export type RouteLookup =
  | { readonly kind: 'found'; readonly id: number; readonly params: string[] }
  | { readonly kind: 'method-not-allowed'; readonly allow: string }
  | { readonly kind: 'not-found' };

interface Leaf {
  readonly byMethod: Map<string, number>;
  allow: string;
}

interface TrieNode {
  readonly children: Map<string, TrieNode>;
  param: TrieNode | undefined;
  leaf: Leaf | undefined;
  wildcard: Leaf | undefined;
}

const NOT_FOUND: RouteLookup = { kind: 'not-found' };

function node(): TrieNode {
  return { children: new Map(), param: undefined, leaf: undefined, wildcard: undefined };
}

function addTo(leaf: Leaf | undefined, method: string, id: number): Leaf {
  const l = leaf ?? { byMethod: new Map(), allow: '' };
  if (!l.byMethod.has(method)) l.byMethod.set(method, id);
  l.allow = [...l.byMethod.keys()].sort().join(', ');
  return l;
}

export class Router {
  readonly #root = node();

  constructor(routes: readonly RouteDefinition[]) {
    for (const r of routes) this.#add(r);
  }

  #add(r: RouteDefinition): void {
    let n = this.#root;
    for (const s of r.pattern.segments) {
      if (s.kind === 'param') {
        n.param ??= node();
        n = n.param;
      } else {
        let next = n.children.get(s.value);
        if (next === undefined) {
          next = node();
          n.children.set(s.value, next);
        }
        n = next;
      }
    }
    if (r.pattern.wildcard) n.wildcard = addTo(n.wildcard, r.method, r.id);
    else n.leaf = addTo(n.leaf, r.method, r.id);
  }

  /**
   * `path` is the raw request path (no query); parameter values are returned still percent-encoded.
   * A branch whose leaf lacks the method is left for the next one (`POST /users/me` may be served by
   * `POST /users/{id}` when only `GET /users/me` exists); 405 only when no branch has the method.
   */
  find(method: string, path: string): RouteLookup {
    const segments = path === '/' ? [] : path.slice(1).split('/');
    const params: string[] = [];
    const state: WalkState = { method, other: undefined };
    const id = this.#walk(this.#root, segments, 0, params, state);
    if (id !== undefined) return { kind: 'found', id, params };
    if (state.other !== undefined) return { kind: 'method-not-allowed', allow: state.other.allow };
    return NOT_FOUND;
  }

  #walk(n: TrieNode, segments: readonly string[], i: number, params: string[], state: WalkState): number | undefined {
    if (i === segments.length) {
      const hit = this.#accept(n.leaf, state) ?? this.#accept(n.wildcard, state);
      if (hit !== undefined) return hit;
    } else {
      const seg = segments[i] as string;
      const child = n.children.get(seg);
      if (child !== undefined) {
        const found = this.#walk(child, segments, i + 1, params, state);
        if (found !== undefined) return found;
      }
      if (n.param !== undefined && seg !== '') {
        params.push(seg);
        const found = this.#walk(n.param, segments, i + 1, params, state);
        if (found !== undefined) return found;
        params.pop();
      }
      return this.#accept(n.wildcard, state);
    }
    return undefined;
  }

  #accept(leaf: Leaf | undefined, state: WalkState): number | undefined {
    if (leaf === undefined) return undefined;
    const id = leaf.byMethod.get(state.method);
    if (id === undefined) state.other ??= leaf;
    return id;
  }
}

interface WalkState {
  readonly method: string;
  other: Leaf | undefined;
}

/**
 * gin (KrakenD's router) redirects `/users/` to `/users` and back when only the other form exists;
 * returns the path to redirect to, if any.
 */
export function trailingSlashAlternative(router: Router, method: string, path: string): string | undefined {
  if (path === '/') return undefined;
  const alt = path.endsWith('/') ? path.slice(0, -1) : `${path}/`;
  return router.find(method, alt).kind === 'found' ? alt : undefined;
}
