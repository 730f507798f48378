/**
 * Endpoint path patterns as KrakenD writes them: static segments, `{name}` placeholders that fill a
 * whole segment, and an optional trailing `/*` that takes the rest of the path.
 */
export type PatternSegment =
  { readonly kind: 'static'; readonly value: string } | { readonly kind: 'param'; readonly name: string };

export interface EndpointPattern {
  readonly segments: readonly PatternSegment[];
  readonly wildcard: boolean;
  /** The shape with parameter names erased: two patterns with the same shape collide. */
  readonly shape: string;
  /** KrakenD's normalised form (`/users/:id`), used for telemetry labels. */
  readonly normalized: string;
}

const PARAM = /^\{([A-Za-z0-9_-]+)\}$/;

export function parseEndpointPattern(path: string): EndpointPattern | string {
  let rest = path;
  let wildcard = false;
  if (rest.endsWith('/*')) {
    wildcard = true;
    rest = rest.slice(0, -2);
  }
  const raw = rest === '' || rest === '/' ? [] : rest.slice(1).split('/');
  const segments: PatternSegment[] = [];
  const names = new Set<string>();
  for (const part of raw) {
    const m = PARAM.exec(part);
    if (m !== null) {
      const name = m[1] as string;
      if (names.has(name)) return `placeholder {${name}} is used twice`;
      names.add(name);
      segments.push({ kind: 'param', name });
    } else if (part.includes('{') || part.includes('}')) {
      return `"${part}": a placeholder must fill a whole path segment, like /users/{id}`;
    } else {
      segments.push({ kind: 'static', value: part });
    }
  }
  const shape =
    segments.map((s) => (s.kind === 'param' ? '/{}' : `/${s.value}`)).join('') + (wildcard ? '/*' : '') || '/';
  const normalized =
    segments.map((s) => (s.kind === 'param' ? `/:${s.name}` : `/${s.value}`)).join('') + (wildcard ? '/*' : '') || '/';
  return { segments, wildcard, shape: rest.endsWith('/') && rest.length > 1 ? `${shape}/` : shape, normalized };
}

export function paramNames(pattern: EndpointPattern): string[] {
  return pattern.segments.flatMap((s) => (s.kind === 'param' ? [s.name] : []));
}
