import { DiffQuoteFields, type QuoteField } from './diff-quote-fields.js';
import type { QuoteDiff } from '../../schemas/generated.js';

/** A value a DIFF quote holds. Unset values are absent, never null, NaN or DBL_MAX. */
export type QuoteValue = number | string;

/** A quote keyed by DIFF names (`last_price`, `highest`, `datetime`, …), plus its `instrument_id`. */
export type DiffQuote = Readonly<Record<string, QuoteValue>>;

/** A JSON merge patch of one quote: a new value, or null where the value is no longer set. */
export type QuotePatch = Readonly<Record<string, QuoteValue | null>>;

/** What applying one QuoteDiff did to the book. */
export interface QuoteChange {
  readonly instrumentId: string;
  /** Only the keys whose value really changed. */
  readonly patch: QuotePatch;
  /** The instrument was not in the book before: clients subscribed to it get its full quote. */
  readonly isNew: boolean;
}

const keyOf: Readonly<Record<string, string>> = DiffQuoteFields.keyOf;
const DIFF_KEYS = Object.values(DiffQuoteFields.keyOf);
const TS_EVENT: QuoteField = 'ts_event';
const DATETIME = DiffQuoteFields.keyOf.ts_event;

/**
 * A number the exchange did not really set becomes null: CTP marks unset
 * prices with DBL_MAX, and NaN or infinities cannot travel in JSON.
 */
function sanitize(value: null | number | string): QuoteValue | null {
  if (typeof value !== 'number') return value;
  return Number.isFinite(value) && Math.abs(value) < Number.MAX_VALUE ? value : null;
}

/** Whether `text` contains the segments of a `*` glob in order (case already folded). */
function globIncludes(text: string, segments: readonly string[]): boolean {
  let from = 0;
  for (const segment of segments) {
    const at = text.indexOf(segment, from);
    if (at < 0) return false;
    from = at + segment.length;
  }
  return true;
}

/**
 * The latest quote of every instrument, keyed as the DIFF protocol names
 * quote fields, built by applying QuoteDiffs. Instruments appear with their
 * first QuoteDiff and are never removed. A value set to null (or to CTP's
 * DBL_MAX, or NaN) is removed from the quote, so a merge patch deletes it on
 * the client too.
 */
export class QuoteBook {
  private readonly quotes = new Map<string, Record<string, QuoteValue>>();
  private sortedIds: readonly string[] | undefined;

  /** Number of instruments in the book. */
  get size(): number {
    return this.quotes.size;
  }

  /**
   * Applies one QuoteDiff. Returns what changed, or `undefined` when nothing
   * did (a known instrument whose values are already these). Keys that are not
   * quote fields (`feed_id`, …) are ignored: a quote's keys are a closed set.
   */
  apply(diff: QuoteDiff): QuoteChange | undefined {
    let quote = this.quotes.get(diff.instrument_id);
    const isNew = quote === undefined;
    if (quote === undefined) {
      quote = { instrument_id: diff.instrument_id };
      this.quotes.set(diff.instrument_id, quote);
      this.sortedIds = undefined;
    }
    let patch: Record<string, QuoteValue | null> | undefined;
    const set = (key: string, value: QuoteValue | null): void => {
      if (value === null ? !(key in quote) : quote[key] === value) return;
      if (value === null) delete quote[key];
      else quote[key] = value;
      (patch ??= {})[key] = value;
    };
    for (const [field, raw] of Object.entries(diff.changes)) {
      const key = keyOf[field];
      if (key === undefined || field === TS_EVENT) continue;
      set(key, sanitize(raw));
    }
    // The quote's time is the event time of the tick that changed it: from the changes when they carry it, else from the record.
    const ts = diff.changes[TS_EVENT];
    if (typeof ts === 'number') set(DATETIME, DiffQuoteFields.formatDatetime(ts));
    else if (patch !== undefined || isNew) set(DATETIME, DiffQuoteFields.formatDatetime(diff.ts_event));
    if (patch === undefined && !isNew) return undefined;
    return { instrumentId: diff.instrument_id, patch: patch ?? {}, isNew };
  }

  has(instrumentId: string): boolean {
    return this.quotes.has(instrumentId);
  }

  /** The latest quote, set values only; `undefined` for an unknown instrument. Do not change it. */
  quote(instrumentId: string): DiffQuote | undefined {
    return this.quotes.get(instrumentId);
  }

  /**
   * The latest quote with every DIFF key present and null where the value is
   * not set: the shape the action protocol sends, and, as a merge patch, a
   * complete replacement of whatever a client held for the instrument.
   */
  completeQuote(instrumentId: string): Readonly<Record<string, QuoteValue | null>> | undefined {
    const quote = this.quotes.get(instrumentId);
    if (quote === undefined) return undefined;
    const complete: Record<string, QuoteValue | null> = { instrument_id: instrumentId };
    for (const key of DIFF_KEYS) complete[key] = quote[key] ?? null;
    return complete;
  }

  /** Every instrument in the book, sorted. */
  instruments(): readonly string[] {
    return (this.sortedIds ??= [...this.quotes.keys()].sort());
  }

  /**
   * The instruments whose id contains `pattern`, ignoring case; `*` in the
   * pattern matches any run of characters (`rb*01` finds `SHFE.rb2501`).
   * Matching is by substring search, not a regular expression, so no pattern
   * can make it slow.
   */
  search(pattern: string): readonly string[] {
    const segments = pattern
      .toLowerCase()
      .split('*')
      .filter((s) => s !== '');
    return this.instruments().filter((id) => globIncludes(id.toLowerCase(), segments));
  }
}
