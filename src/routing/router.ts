/**
 * The route table, compiled once at start-up into a segment trie. A lookup walks the path's segments
 * (static before `{param}`, then a trailing `/*`), so its cost does not grow with the number of routes.
 * A match returns the route object itself (routing/route.ts), not an index to look up again.
 */
import type { EndpointPattern } from '../config/endpoint-pattern.js';

export interface RouteDefinition {
  readonly id: number;
  readonly method: string;
  readonly pattern: EndpointPattern;
}

export type RouteLookup<R extends RouteDefinition = RouteDefinition> =
  | { readonly kind: 'found'; readonly route: R; readonly params: string[] }
  | { readonly kind: 'method-not-allowed'; readonly allow: string }
  | { readonly kind: 'not-found' };

interface Leaf<R> {
  readonly byMethod: Map<string, R>;
  allow: string;
}

interface TrieNode<R> {
  readonly children: Map<string, TrieNode<R>>;
  param: TrieNode<R> | undefined;
  leaf: Leaf<R> | undefined;
  wildcard: Leaf<R> | undefined;
}

const NOT_FOUND = { kind: 'not-found' } as const;

function node<R>(): TrieNode<R> {
  return { children: new Map(), param: undefined, leaf: undefined, wildcard: undefined };
}

function addTo<R>(leaf: Leaf<R> | undefined, method: string, route: R): Leaf<R> {
  const l = leaf ?? { byMethod: new Map<string, R>(), allow: '' };
  if (!l.byMethod.has(method)) l.byMethod.set(method, route);
  l.allow = [...l.byMethod.keys()].sort().join(', ');
  return l;
}

export class Router<R extends RouteDefinition = RouteDefinition> {
  readonly #root = node<R>();

  constructor(routes: readonly R[]) {
    for (const r of routes) this.#add(r);
  }

  #add(r: R): void {
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
    if (r.pattern.wildcard) n.wildcard = addTo(n.wildcard, r.method, r);
    else n.leaf = addTo(n.leaf, r.method, r);
  }

  /**
   * `path` is the raw request path (no query); parameter values are returned still percent-encoded.
   * A branch whose leaf lacks the method is left for the next one (`POST /users/me` may be served by
   * `POST /users/{id}` when only `GET /users/me` exists); 405 only when no branch has the method.
   */
  find(method: string, path: string): RouteLookup<R> {
    const segments = path === '/' ? [] : path.slice(1).split('/');
    const params: string[] = [];
    const state: WalkState<R> = { method, other: undefined };
    const route = this.#walk(this.#root, segments, 0, params, state);
    if (route !== undefined) return { kind: 'found', route, params };
    if (state.other !== undefined) return { kind: 'method-not-allowed', allow: state.other.allow };
    return NOT_FOUND;
  }

  #walk(n: TrieNode<R>, segments: readonly string[], i: number, params: string[], state: WalkState<R>): R | undefined {
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

  /**
   * gin's RedirectFixedPath (`findCaseInsensitivePath` with `fixTrailingSlash`,
   * https://github.com/gin-gonic/gin/blob/dcaa4296d111981ffb31ac3eba90bb63e1eb5ab9/gin.go#L797-L808):
   * the registered path that `path`, cleaned (`cleanPath`), matches for `method` when case is ignored,
   * also with its trailing slash added or removed. Static segments take the registered spelling,
   * parameters keep the request's. Only runs for requests no route took, so a slower walk is fine.
   */
  fixedPath(method: string, path: string): string | undefined {
    const clean = cleanPath(path);
    const found = this.#caseInsensitive(method, clean);
    if (found !== undefined || clean === '/') return found;
    return this.#caseInsensitive(method, clean.endsWith('/') ? clean.slice(0, -1) : `${clean}/`);
  }

  #caseInsensitive(method: string, path: string): string | undefined {
    const segments = path === '/' ? [] : path.slice(1).split('/');
    const out: string[] = [];
    return this.#walkFold(this.#root, segments, 0, out, method) ? `/${out.join('/')}` : undefined;
  }

  #walkFold(n: TrieNode<R>, segments: readonly string[], i: number, out: string[], method: string): boolean {
    if (i === segments.length)
      return n.leaf?.byMethod.has(method) === true || n.wildcard?.byMethod.has(method) === true;
    const seg = segments[i] as string;
    const lower = seg.toLowerCase();
    for (const [name, child] of n.children) {
      if (name.toLowerCase() !== lower) continue;
      out.push(name);
      if (this.#walkFold(child, segments, i + 1, out, method)) return true;
      out.pop();
    }
    if (n.param !== undefined && seg !== '') {
      out.push(seg);
      if (this.#walkFold(n.param, segments, i + 1, out, method)) return true;
      out.pop();
    }
    if (n.wildcard?.byMethod.has(method) === true) {
      out.push(...segments.slice(i));
      return true;
    }
    return false;
  }

  #accept(leaf: Leaf<R> | undefined, state: WalkState<R>): R | undefined {
    if (leaf === undefined) return undefined;
    const route = leaf.byMethod.get(state.method);
    if (route === undefined) state.other ??= leaf;
    return route;
  }
}

interface WalkState<R> {
  readonly method: string;
  other: Leaf<R> | undefined;
}

/**
 * gin (KrakenD's router) redirects `/users/` to `/users` and back when only the other form exists;
 * returns the path to redirect to, if any.
 */
export function trailingSlashAlternative<R extends RouteDefinition>(
  router: Router<R>,
  method: string,
  path: string,
): string | undefined {
  if (path === '/') return undefined;
  const alt = path.endsWith('/') ? path.slice(0, -1) : `${path}/`;
  return router.find(method, alt).kind === 'found' ? alt : undefined;
}

/**
 * gin's cleanPath (httprouter's CleanPath,
 * https://github.com/gin-gonic/gin/blob/dcaa4296d111981ffb31ac3eba90bb63e1eb5ab9/path.go#L21): one `/`
 * between segments, `.` removed, `..` removed with the segment before it (never above the root); a
 * trailing slash (or a trailing `.` segment) is kept. The result always starts with exactly one `/`.
 */
export function cleanPath(p: string): string {
  const parts = p.split('/');
  const out: string[] = [];
  let trailing = p.length > 1 && p.endsWith('/');
  for (let i = 0; i < parts.length; i++) {
    const s = parts[i] as string;
    if (s === '') continue;
    if (s === '.') {
      if (i === parts.length - 1) trailing = true;
    } else if (s === '..') out.pop();
    else out.push(s);
  }
  const joined = `/${out.join('/')}`;
  return trailing && joined.length > 1 ? `${joined}/` : joined;
}
