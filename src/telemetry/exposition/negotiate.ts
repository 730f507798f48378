/**
 * Picks the exposition format from the scraper's Accept header: OpenMetrics 1.0 when it is listed
 * with a q-value at least as high as the text format (Prometheus sends
 * `application/openmetrics-text;version=1.0.0;q=0.5,…,text/plain;version=0.0.4;q=0.3`), else text.
 */
export type ExpositionFormat = 'openmetrics' | 'text';

export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (accept === undefined || !accept.includes('application/openmetrics-text')) return 'text';
  let om = -1;
  let text = -1;
  for (const part of accept.split(',')) {
    const [type, ...params] = part
      .trim()
      .split(';')
      .map((s) => s.trim());
    const q = Number(params.find((p) => p.startsWith('q='))?.slice(2) ?? '1');
    const version = params.find((p) => p.startsWith('version='))?.slice(8);
    if (
      type === 'application/openmetrics-text' &&
      (version === undefined || version.startsWith('1.0') || version.startsWith('0.0.1'))
    )
      om = Math.max(om, q);
    else if (type === 'text/plain' || type === '*/*') text = Math.max(text, q);
  }
  return om >= 0 && om >= text ? 'openmetrics' : 'text';
}
