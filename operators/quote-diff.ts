import { defer, filter, map, type OperatorFunction } from 'rxjs';
import { DiffQuoteFields, type QuoteField } from '../protocols/diff/diff-quote-fields.js';
import type { QuoteDiff, Tick } from '../schemas/generated.js';

type Changes = Record<string, null | number | string>;

/** Every quote field; `keyOf` is checked to hold exactly the QuoteFields. */
const QUOTE_FIELDS = Object.keys(DiffQuoteFields.keyOf) as readonly QuoteField[];

/**
 * The changed fields of `tick` against `previous`, or undefined when none
 * changed. Generated once as straight-line code, one comparison per field:
 * V8 runs that several times faster than a loop over field names (DESIGN.md
 * §5). The field names are our own constants, never input.
 */
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from our own field names, as said above
const changedFields = new Function(
  'previous',
  'tick',
  `let c;\n${QUOTE_FIELDS.map((f) => `if (previous === undefined || previous.${f} !== tick.${f}) (c ??= {}).${f} = tick.${f};`).join('\n')}\nreturn c;`,
) as (previous: Tick | undefined, tick: Tick) => Changes | undefined;

/**
 * Emits, for each tick, the quote fields that changed since the previous tick
 * of the same instrument.
 *
 * The first tick of an instrument carries every quote field; a later tick
 * carries only the fields whose value differs, with `null` where the exchange
 * no longer sets a price. A tick that changes nothing emits nothing. State is
 * kept per subscription, so every subscriber starts from an empty snapshot.
 *
 * ```
 * source:  --a--b--c--d--|     b: new last_price; c: same quote as b; d: last_price unset
 *   quoteDiff()
 * result:  --A--B-----D--|     A: every field; B: { last_price: 3501 }; D: { last_price: null }
 * ```
 *
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { SimMarket } from '../sources/sim-market.js';
 * const tick = new SimMarket({ instruments: ['SHFE.rb2501'], seed: 1, start: Date.parse('2025-01-03T09:00:00+08:00') * 1000, tickIntervalMs: 500, feedId: 'sim', latencyUs: 0 }).next();
 * const a: Tick = { ...tick, last_price: 3500, sequence: 1 }; // any tick
 * of(a, { ...a, last_price: 3501, sequence: 2 }, { ...a, last_price: 3501, sequence: 3 })
 *   .pipe(quoteDiff())
 *   .subscribe(({ sequence, changes }) => console.log(sequence, Object.keys(changes).length));
 * // Logs: 1 38      (the first tick of an instrument: every field)
 * // Logs: 2 1       (only last_price changed; tick 3 changes nothing, so no diff)
 * ```
 *
 * @returns An operator from ticks to the changes they make to their instrument's quote.
 */
export function quoteDiff(): OperatorFunction<Tick, QuoteDiff> {
  return (source) =>
    defer(() => {
      // Ticks are immutable, so the previous tick itself serves as the instrument's snapshot: nothing is copied.
      const previousByInstrument = new Map<string, Tick>();
      return source.pipe(
        map((tick): QuoteDiff | undefined => {
          const changes = changedFields(previousByInstrument.get(tick.instrument_id), tick);
          if (changes === undefined) return undefined;
          // Before it leaves: a subscriber that feeds a tick back in sees this one as the instrument's latest.
          previousByInstrument.set(tick.instrument_id, tick);
          return { instrument_id: tick.instrument_id, ts_event: tick.ts_event, sequence: tick.sequence, changes };
        }),
        filter((diff) => diff !== undefined),
      );
    });
}
