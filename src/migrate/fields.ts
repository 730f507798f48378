/** Small readers shared by the migrations: leftover fields, host names out of addresses, durations. */
import type { PathSegment } from '../config/json-path.js';
import { isCommentKey, type RawObject } from '../config/raw.js';
import type { MigrationReport } from './report.js';

/** One note per field of `raw` that the migration did not use (comment keys are never notes). */
export function noteUnused(
  raw: RawObject,
  used: readonly string[],
  at: readonly PathSegment[],
  r: MigrationReport,
  why = 'dropped: no equivalent',
): void {
  for (const key of Object.keys(raw)) {
    if (!used.includes(key) && !isCommentKey(key)) r.note([...at, key], why);
  }
}

/** `@comment`-style keys, kept where the migrated object goes (KrakenD files use them as comments). */
export function commentsOf(raw: RawObject): RawObject {
  return Object.fromEntries(Object.entries(raw).filter(([k]) => isCommentKey(k)));
}

/** The host name in a URL (`http://jaeger:14268/api`) or an address (`jaeger:6831`), if any. */
export function hostOf(address: unknown): string | undefined {
  if (typeof address !== 'string' || address.trim() === '') return undefined;
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(address) ? address : `http://${address}`;
  try {
    const host = new URL(text).hostname;
    return host === '' ? undefined : host;
  } catch {
    return undefined;
  }
}

/** Milliseconds as a KrakenD duration string: `60s`, `1500ms`. */
export function durationText(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

export const isPort = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535;

export const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
