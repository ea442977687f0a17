import { DiffQuoteFields } from './diff-quote-fields.js';
import type { QuoteValue } from './quote-book.js';

/** What one merge patch of an rtn_data does to one instrument's quote. */
export interface QuoteUpdate {
  readonly instrumentId: string;
  /**
   * The quote fields the patch sets (null: no longer set), DIFF keys only;
   * `null` when the patch removes the quote (unsubscribed), or replaces it
   * with something that is not a quote (then it is refused too).
   */
  readonly fields: Readonly<Record<string, QuoteValue | null>> | null;
  /** Quote fields the patch set to a value that was refused, with why: the quote is unusable until they are set again. */
  readonly refused: Readonly<Record<string, string>>;
}

/** Part of an rtn_data that was refused: why, and what it was (bounded in depth: it came through a bounded parser). */
export interface PatchRejection {
  /** The instrument whose quote was refused, when it was one quote. */
  readonly instrumentId: string | undefined;
  readonly reason: string;
  readonly payload: unknown;
}

/** The outcome of {@link readQuotePatches}. */
export interface QuotePatches {
  readonly updates: readonly QuoteUpdate[];
  readonly rejections: readonly PatchRejection[];
}

type JsonObject = Record<string, unknown>;
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

const TEXT_KEYS: ReadonlySet<string> = new Set([
  DiffQuoteFields.keyOf.ts_event,
  DiffQuoteFields.keyOf.trading_day,
  DiffQuoteFields.keyOf.action_day,
]);
const NUMBER_KEYS: ReadonlySet<string> = new Set(Object.values(DiffQuoteFields.keyOf).filter((key) => !TEXT_KEYS.has(key)));
/** Longest text a quote field may hold: a `datetime` is 26 characters, a day 8. */
const MAX_TEXT = 32;
/** Keys and text are quoted at most this long in a reason. */
const MAX_SHOWN = 40;

const cut = (text: string): string => JSON.stringify(text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text);
/** What kind of value `v` is, for a reason: never the value itself, which may be large. */
const kind = (v: unknown): string =>
  v === null ? 'null' : v === undefined ? 'nothing' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
/**
 * How a reason names an instrument: as is when it looks like an id (letters,
 * digits, `.`, `-`, `_`, at most 40), else quoted and cut, since the key may
 * be anything an upstream sent.
 */
export const quoteName = (instrumentId: string): string => (/^[\w.-]{1,40}$/.test(instrumentId) ? instrumentId : cut(instrumentId));
/** How a reason names a key: as is when it is a DIFF quote key, else quoted and cut. */
const keyName = (key: string): string => (TEXT_KEYS.has(key) || NUMBER_KEYS.has(key) ? key : cut(key));

/** A scalar as a reason shows it: a string cut short, a number or boolean as is, anything else by its kind. */
const shown = (value: unknown): string =>
  typeof value === 'string' ? cut(value) : typeof value === 'number' || typeof value === 'boolean' ? String(value) : typeof value;

/** Why `value` cannot be held under `key` of a quote, or undefined when it can. */
function valueProblem(key: string, value: unknown): string | undefined {
  if (typeof value === 'object' && value !== null)
    return `'${keyName(key)}' holds a nested ${Array.isArray(value) ? 'array' : 'object'}; quote fields are numbers, strings, booleans or null`;
  if (value === null) return undefined;
  if (NUMBER_KEYS.has(key) && !(typeof value === 'number' && Number.isFinite(value))) {
    return `'${key}' must be a finite number or null, got ${shown(value)}`;
  }
  if (TEXT_KEYS.has(key) && !(typeof value === 'string' && value.length <= MAX_TEXT)) {
    return `'${key}' must be a string of at most ${MAX_TEXT} characters or null, got ${typeof value === 'string' ? `${value.length} characters` : shown(value)}`;
  }
  return undefined;
}

/**
 * Reads the quotes out of the `data` of a DIFF `rtn_data` (a list of JSON
 * merge patches), checking their shape before anything is merged.
 *
 * In plain words: `data` must be a list of objects; a patch's `quotes`, when
 * it has one, must map instruments to quote objects (or to null, which
 * removes the quote); a quote's fields must be scalars, and the DIFF quote
 * fields of the right type (finite numbers; text of at most 32 characters
 * for `datetime`, `trading_day` and `action_day`). Whatever else a patch
 * carries (accounts, charts) and any key that is not a DIFF quote field is
 * left out, so a quote holds at most the 40 DIFF fields.
 *
 * A refused quote field is reported, the rest of its quote still applies,
 * and the field is listed in `refused`: the receiver knows the upstream's
 * quote now holds a value it cannot use. Anything refused comes back in
 * `rejections` with a reason naming the patch, instrument and field.
 *
 * `data` must come from a bounded parser: nothing here recurses, but the
 * rejections keep parts of it as their payload.
 *
 * @example
 * ```ts
 * const { updates, rejections } = readQuotePatches([{ quotes: { 'SHFE.rb2501': { last_price: 3500, volume: [1] } } }]);
 * console.log(updates[0]?.instrumentId, updates[0]?.fields, Object.keys(updates[0]?.refused ?? {}));
 * // Logs: SHFE.rb2501 { last_price: 3500 } [ 'volume' ]
 * console.log(rejections[0]?.reason);
 * // Logs: quote of SHFE.rb2501: 'volume' holds a nested array; …
 * ```
 */
export function readQuotePatches(data: unknown): QuotePatches {
  const updates: QuoteUpdate[] = [];
  const rejections: PatchRejection[] = [];
  if (!Array.isArray(data))
    return {
      updates,
      rejections: [
        { instrumentId: undefined, reason: `rtn_data 'data' must be an array of merge patches, got ${kind(data)}`, payload: data },
      ],
    };
  data.forEach((patch: unknown, index) => {
    if (!isObject(patch)) {
      rejections.push({ instrumentId: undefined, reason: `merge patch ${index} must be an object, got ${kind(patch)}`, payload: patch });
      return;
    }
    if (!Object.hasOwn(patch, 'quotes')) return;
    const quotes = patch['quotes'];
    if (!isObject(quotes)) {
      rejections.push({
        instrumentId: undefined,
        reason: `merge patch ${index}: 'quotes' must be an object of instrument → quote, got ${kind(quotes)}`,
        payload: quotes,
      });
      return;
    }
    for (const instrumentId of Object.keys(quotes)) {
      const quote = quotes[instrumentId];
      if (quote === null) {
        updates.push({ instrumentId, fields: null, refused: {} });
        continue;
      }
      if (!isObject(quote)) {
        // As a merge patch it replaces the quote: what the upstream held is gone, and what it holds now is no quote.
        updates.push({ instrumentId, fields: null, refused: {} });
        rejections.push({
          instrumentId,
          reason: `quote of ${quoteName(instrumentId)}: must be an object of fields or null, got ${kind(quote)}`,
          payload: quote,
        });
        continue;
      }
      const fields: Record<string, QuoteValue | null> = {};
      const refused: Record<string, string> = {};
      const problems: string[] = [];
      for (const key of Object.keys(quote)) {
        const value = quote[key];
        const problem = valueProblem(key, value);
        if (problem !== undefined) {
          problems.push(problem);
          if (NUMBER_KEYS.has(key) || TEXT_KEYS.has(key)) refused[key] = problem;
        } else if (NUMBER_KEYS.has(key) || TEXT_KEYS.has(key)) {
          fields[key] = value as QuoteValue | null;
        }
      }
      updates.push({ instrumentId, fields, refused });
      if (problems.length > 0) {
        const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
        rejections.push({ instrumentId, reason: `quote of ${quoteName(instrumentId)}: ${problems[0]}${more}`, payload: quote });
      }
    }
  });
  return { updates, rejections };
}
