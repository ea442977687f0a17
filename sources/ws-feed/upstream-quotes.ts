import { checkInstrumentId } from '../../domain/tick-sanity.js';
import type { QuoteValue } from '../../protocols/diff/quote-book.js';
import type { QuoteUpdate } from '../../protocols/diff/read-quote-patches.js';

/** Why a quote update was refused as a whole (nothing held changed). */
export interface QuoteRefusal {
  readonly reason: 'malformed' | 'instrument-limit';
  readonly detail: string;
}

/** One instrument's quote as held: the fields that are set, and the fields whose latest value upstream was refused. */
export interface HeldQuote {
  readonly fields: Readonly<Record<string, QuoteValue>>;
  /** The first field the upstream last set to a value that was refused, if any: no tick can be built while there is one. */
  readonly refusedField: string | undefined;
}

interface MutableQuote {
  readonly fields: Record<string, QuoteValue>;
  readonly refused: Set<string>;
}

/**
 * The quotes a `ws-feed` holds of its upstream, per instrument, mirroring
 * the upstream's own snapshot. What an upstream can make it hold is bounded:
 * at most `maxInstruments` instruments, each named by a valid instrument id
 * (`EXCHANGE.symbol`, at most 40 characters), each holding at most the 40
 * DIFF quote fields as scalars (the updates carry nothing else).
 *
 * A field the upstream set to a refused value is not held, and stays marked
 * refused until the upstream sets it again: a tick built meanwhile would
 * carry the value from before the refused change, so none is built.
 */
export class UpstreamQuotes {
  private readonly quotes = new Map<string, MutableQuote>();

  constructor(private readonly maxInstruments: number) {}

  /** Instruments held. */
  get size(): number {
    return this.quotes.size;
  }

  /** Forgets every quote (a new connection starts from a fresh snapshot). */
  clear(): void {
    this.quotes.clear();
  }

  /**
   * Applies one quote update. Returns why it was refused when it names an
   * instrument that is not an instrument id, or a new instrument beyond
   * `maxInstruments`; then nothing changed.
   */
  apply(update: QuoteUpdate): QuoteRefusal | undefined {
    const { instrumentId, fields, refused } = update;
    if (fields === null) {
      this.quotes.delete(instrumentId);
      return undefined;
    }
    let quote = this.quotes.get(instrumentId);
    if (quote === undefined) {
      const problem = checkInstrumentId(instrumentId);
      if (problem !== undefined) return { reason: 'malformed', detail: problem };
      if (this.quotes.size >= this.maxInstruments)
        return { reason: 'instrument-limit', detail: `the feed already holds max_instruments (${this.maxInstruments}) quotes` };
      quote = { fields: {}, refused: new Set() };
      this.quotes.set(instrumentId, quote);
    }
    for (const [key, value] of Object.entries(fields)) {
      quote.refused.delete(key);
      if (value === null) delete quote.fields[key];
      else quote.fields[key] = value;
    }
    for (const key of Object.keys(refused)) {
      quote.refused.add(key);
      delete quote.fields[key];
    }
    return undefined;
  }

  /** The quote of an instrument, or `undefined` when none is held. Do not change its fields. */
  quote(instrumentId: string): HeldQuote | undefined {
    const quote = this.quotes.get(instrumentId);
    if (quote === undefined) return undefined;
    return { fields: quote.fields, refusedField: quote.refused.values().next().value };
  }
}
