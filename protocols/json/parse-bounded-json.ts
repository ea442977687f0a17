/** Bounds on a JSON text received from outside, checked before it is parsed. */
export interface JsonBounds {
  /** Longest text, in UTF-16 code units (about bytes for the ASCII that JSON mostly is). */
  readonly maxLength: number;
  /** Deepest nesting of arrays and objects; a scalar at top level is depth 0. */
  readonly maxDepth: number;
}

/** The outcome of {@link parseBoundedJson}: the value, or why the text was refused. */
export type BoundedJsonResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly reason: string };

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The deepest nesting of arrays and objects in `text`, brackets inside
 * strings not counted; stops counting once `limit` is passed. One linear
 * scan with no allocation, so a hostile text costs no more than its length.
 */
export function jsonNestingDepth(text: string, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > deepest && (deepest = depth) > limit) return deepest;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return deepest;
}

/**
 * Parses JSON received from outside (a client frame, an upstream message, a
 * control body) only when it is within `bounds`: its length is checked
 * first, its nesting depth by a scan before `JSON.parse`, so nothing deeper
 * than `maxDepth` is ever built, walked, merged or quoted (a few KB of `[`
 * would otherwise overflow the stack of the first recursive walk).
 *
 * @example
 * ```ts
 * console.log(parseBoundedJson('[[[1]]]', { maxLength: 1024, maxDepth: 2 }));
 * // Logs: { ok: false, reason: 'nested deeper than 2 levels' }
 * ```
 */
export function parseBoundedJson(text: string, bounds: JsonBounds): BoundedJsonResult {
  if (text.length > bounds.maxLength) return { ok: false, reason: `longer than ${bounds.maxLength} characters (${text.length})` };
  if (jsonNestingDepth(text, bounds.maxDepth) > bounds.maxDepth)
    return { ok: false, reason: `nested deeper than ${bounds.maxDepth} levels` };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message}` };
  }
}

/**
 * The depth of a value already built (from YAML, say), counted the same
 * way; stops descending once `limit` is passed, so it never recurses deeper
 * than `limit + 1` frames whatever the value.
 */
export function valueNestingDepth(value: unknown, limit: number): number {
  if (typeof value !== 'object' || value === null) return 0;
  if (limit < 0) return 1;
  let deepest = 0;
  for (const child of Object.values(value)) {
    const d = valueNestingDepth(child, limit - 1);
    if (d > deepest) deepest = d;
    if (deepest > limit) break;
  }
  return deepest + 1;
}
