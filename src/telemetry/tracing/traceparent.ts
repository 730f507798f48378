/**
 * The canonical W3C `traceparent` read by hand: version 00, exactly 55 characters, lowercase hex
 * (https://www.w3.org/TR/trace-context/#traceparent-header-field-values). That is the form nearly
 * every caller sends, and for it the answer is the one OTel JS's W3CTraceContextPropagator gives
 * (@opentelemetry/core src/trace/W3CTraceContextPropagator.ts, `TRACE_PARENT_REGEX`): valid when the
 * ids are lowercase hex and not all zeros and the flags are two lowercase hex digits; anything else of
 * that shape is ignored. Every other shape (another version, surrounding whitespace, extra fields,
 * uppercase) is not decided here: the caller hands it to that propagator.
 */

/** Not of the canonical shape: let the OTel propagator decide. */
export const NOT_CANONICAL = -1;
/** Of the canonical shape but invalid: ignored, as the OTel propagator ignores it. */
export const INVALID = -2;

const LENGTH = 55;

/** Whether `c` is a lowercase hex digit's char code. */
function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102);
}

function hexValue(c: number): number {
  return c <= 57 ? c - 48 : c - 87;
}

/** Whether `s[from, to)` is lowercase hex, not all `0`. */
function validId(s: string, from: number, to: number): boolean {
  let nonZero = false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (!isHex(c)) return false;
    if (c !== 48) nonZero = true;
  }
  return nonZero;
}

/**
 * The trace flags (0–255) of a canonical `traceparent`, `INVALID` for one of that shape the
 * propagator would reject, or `NOT_CANONICAL`. The ids are `s.slice(3, 35)` and `s.slice(36, 52)`.
 */
export function canonicalTraceparentFlags(s: string): number {
  // "00-": the only version whose fields are fixed; the propagator also refuses a suffix after it.
  if (s.length !== LENGTH || s.charCodeAt(0) !== 48 || s.charCodeAt(1) !== 48 || s.charCodeAt(2) !== 45)
    return NOT_CANONICAL;
  if (s.charCodeAt(35) !== 45 || s.charCodeAt(52) !== 45) return INVALID;
  if (!validId(s, 3, 35) || !validId(s, 36, 52)) return INVALID;
  const f1 = s.charCodeAt(53);
  const f2 = s.charCodeAt(54);
  if (!isHex(f1) || !isHex(f2)) return INVALID;
  return hexValue(f1) * 16 + hexValue(f2);
}
