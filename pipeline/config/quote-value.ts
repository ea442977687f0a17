/**
 * Showing what a user wrote inside an error message, cut short, so that a
 * hostile or mistaken value (a 1 MiB string, a deeply nested list, a mapping
 * with a million keys) never makes a message of its own size.
 */

/** Most characters of a value (or a key, a flag's text) quoted in one message; more is cut and marked with `…`. */
export const MAX_QUOTED_CHARS = 200;

/** Most problems one `ConfigError` lists; the rest are counted in a last line. */
export const MAX_LISTED_PROBLEMS = 100;

/** `text` when at most `max` characters long, else its first `max` characters, `…` and the full length. */
export function cutText(text: string, max = MAX_QUOTED_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}

/**
 * `value` as JSON (numbers that JSON cannot hold as themselves, such as
 * `Infinity`, as JavaScript writes them), cut after `max` characters and
 * marked with `…`.
 *
 * Never builds more than `max` characters and never recurses deeper than
 * that either (each level writes at least one character before it descends),
 * so it is safe on any value: deep, wide, cyclic or with shared parts.
 *
 * @example
 * ```ts
 * console.log(quoteValue('x'.repeat(1000), 10));
 * // Logs: "xxxxxxxxx…
 * console.log(quoteValue([1, [2, { a: true }]]));
 * // Logs: [1,[2,{"a":true}]]
 * ```
 */
export function quoteValue(value: unknown, max = MAX_QUOTED_CHARS): string {
  const out = { text: '', max };
  write(value, out, true);
  return out.text.length > max ? `${out.text.slice(0, max)}…` : out.text;
}

interface Output {
  text: string;
  readonly max: number;
}

/** Appends `value` to `out.text` until it is longer than `out.max`; `top` writes `undefined` instead of skipping it. */
function write(value: unknown, out: Output, top = false): void {
  if (out.text.length > out.max) return;
  const room = out.max + 1 - out.text.length;
  switch (typeof value) {
    case 'string':
      // JSON of a prefix one longer than the room left, so that a longer string always ends up cut.
      out.text += JSON.stringify(value.length > room ? value.slice(0, room) : value);
      return;
    case 'number':
      out.text += Number.isFinite(value) ? JSON.stringify(value) : String(value);
      return;
    case 'boolean':
      out.text += String(value);
      return;
    case 'bigint':
      out.text += `${value}n`;
      return;
    case 'undefined':
    case 'function':
    case 'symbol':
      if (top) out.text += typeof value === 'undefined' ? 'undefined' : `(${typeof value})`;
      else out.text += 'null';
      return;
  }
  if (value === null) {
    out.text += 'null';
    return;
  }
  let shown: unknown = value;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    try {
      // A Date writes its ISO text, a Buffer { type, data } (both come out of YAML's binary and timestamp tags).
      shown = (toJSON as () => unknown).call(value);
    } catch {
      shown = String(Object.prototype.toString.call(value));
    }
    if (typeof shown !== 'object' || shown === null) {
      write(shown, out);
      return;
    }
  }
  if (Array.isArray(shown)) {
    out.text += '[';
    for (let i = 0; i < shown.length && out.text.length <= out.max; i++) {
      if (i > 0) out.text += ',';
      write(shown[i], out);
    }
    out.text += ']';
    return;
  }
  out.text += '{';
  let first = true;
  for (const key in shown as object) {
    if (out.text.length > out.max) break;
    if (!Object.prototype.hasOwnProperty.call(shown, key)) continue;
    const child = (shown as Record<string, unknown>)[key];
    if (child === undefined || typeof child === 'function' || typeof child === 'symbol') continue;
    if (!first) out.text += ',';
    first = false;
    write(key, out);
    out.text += ':';
    write(child, out);
  }
  out.text += '}';
}

/**
 * At most {@link MAX_LISTED_PROBLEMS} of `problems`, the rest counted in a
 * last line, so that a file with ten thousand unknown keys still gives a
 * message one can read.
 */
export function capProblems(problems: readonly string[], max = MAX_LISTED_PROBLEMS): string[] {
  if (problems.length <= max) return [...problems];
  return [...problems.slice(0, max - 1), `… and ${problems.length - (max - 1)} more problems`];
}
