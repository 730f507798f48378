/**
 * Reading Grafana dashboards in tests: the panels (rows nest them), their PromQL targets, Grafana's
 * variables filled in, and the upstream both dashboard tests drive traffic through.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from './upstream.js';

export interface GrafanaTarget {
  readonly expr?: string;
  readonly datasource?: { readonly type?: string; readonly uid?: string };
}

export interface GrafanaPanel {
  readonly id?: number;
  readonly type?: string;
  readonly title?: string;
  readonly datasource?: { readonly type?: string; readonly uid?: string };
  readonly targets?: readonly GrafanaTarget[];
  readonly panels?: readonly GrafanaPanel[];
}

/** Every panel of a dashboard, rows' children included. */
export function allPanels(d: { readonly panels?: readonly GrafanaPanel[] }): GrafanaPanel[] {
  const out: GrafanaPanel[] = [];
  const walk = (p: GrafanaPanel): void => {
    out.push(p);
    for (const c of p.panels ?? []) walk(c);
  };
  for (const p of d.panels ?? []) walk(p);
  return out;
}

/** The non-empty PromQL targets of every panel, with the panel's title. */
export function panelQueries(d: { readonly panels?: readonly GrafanaPanel[] }): { title: string; expr: string }[] {
  return allPanels(d).flatMap((p) =>
    (p.targets ?? []).flatMap((t) =>
      t.expr === undefined || t.expr.trim() === '' ? [] : [{ title: p.title ?? '', expr: t.expr }],
    ),
  );
}

/**
 * Replaces `$name` and `${name}` (`${name:format}` too) with `values`; an unknown variable is an
 * error when `strict` (the panel would fail in Grafana), else left as it is.
 */
export function substituteVariables(expr: string, values: ReadonlyMap<string, string>, strict = true): string {
  return expr.replace(
    /\$\{(\w+)(?::\w+)?\}|\$(\w+)/g,
    (whole, braced: string | undefined, bare: string | undefined) => {
      const name = braced ?? bare ?? '';
      const value = values.get(name);
      if (value !== undefined) return value;
      if (strict) throw new Error(`undefined variable $${name} in: ${expr}`);
      return whole;
    },
  );
}

/**
 * The upstream of the dashboard tests: `/chunked` answers without Content-Length (feeds the
 * no-content-length counter), `/slow` after 300 ms, `/down` with 503, anything else a small JSON.
 */
export function dashboardUpstream(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === '/chunked') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"c":1}');
  } else if (req.url === '/slow') setTimeout(() => sendJson(res, 200, { slow: true }), 300);
  else if (req.url === '/down') sendJson(res, 503, {});
  else sendJson(res, 200, { id: 1, name: 'ada' });
}
