import fc from 'fast-check';
import { Subject, from } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { quoteDiff } from '../../operators/quote-diff.js';
import { DiffQuoteFields, type QuoteField } from '../../protocols/diff/diff-quote-fields.js';
import type { QuoteDiff, Tick } from '../../schemas/generated.js';
import { createTestScheduler } from '../support/marbles.js';
import { makeTick } from '../support/make-tick.js';

const QUOTE_FIELDS = Object.keys(DiffQuoteFields.keyOf) as QuoteField[];
const HALF_SECOND = 500_000;

/** Every quote field of a tick: what a first diff carries and what a snapshot must end up as. */
function quoteFieldsOf(tick: Tick): Record<string, null | number | string> {
  return Object.fromEntries(QUOTE_FIELDS.map((field) => [field, tick[field]]));
}

function diffOf(tick: Tick, changes: Record<string, null | number | string>): QuoteDiff {
  return { instrument_id: tick.instrument_id, ts_event: tick.ts_event, sequence: tick.sequence, changes };
}

const a = makeTick({ sequence: 1 });
const b = makeTick({ sequence: 2, ts_event: a.ts_event + HALF_SECOND, last_price: 3501, volume: 12_004 });
/** The same quote as b, delivered again. */
const c = { ...b, sequence: 3, ts_recv: b.ts_recv + 100 };
/** The exchange stops setting the last price. */
const d = makeTick({ sequence: 4, ts_event: b.ts_event + HALF_SECOND, last_price: null, volume: 12_004 });
/** Still unset, and nothing else moved but the time. */
const e = { ...d, sequence: 5, ts_event: d.ts_event + HALF_SECOND };
/** The last price is set again, and the close appears. */
const f = { ...e, sequence: 6, last_price: 3502, close: 3502 };
/** Another instrument, interleaved with rb. */
const m = makeTick({ instrument_id: 'DCE.m2501', sequence: 7, last_price: 2800, bid_price1: 2799, ask_price1: 2800 });
const n = { ...m, sequence: 8, ts_event: m.ts_event + HALF_SECOND, bid_price1: 2800, ask_price1: 2801 };

const ticks = { a, b, c, d, e, f, m, n };
const diffs = {
  A: diffOf(a, quoteFieldsOf(a)),
  B: diffOf(b, { ts_event: b.ts_event, last_price: 3501, volume: 12_004 }),
  D: diffOf(d, { ts_event: d.ts_event, last_price: null }),
  E: diffOf(e, { ts_event: e.ts_event }),
  F: diffOf(f, { last_price: 3502, close: 3502 }),
  M: diffOf(m, quoteFieldsOf(m)),
  N: diffOf(n, { ts_event: n.ts_event, bid_price1: 2800, ask_price1: 2801 }),
};

describe('quoteDiff', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = createTestScheduler();
  });

  it('emits nothing for never', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold<Tick>('-');
      const e1subs = '       ^';
      const expected = '     -';
      expectObservable(e1.pipe(quoteDiff())).toBe(expected);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('completes on empty', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold<Tick>('|');
      const e1subs = '       (^!)';
      const expected = '     |';
      expectObservable(e1.pipe(quoteDiff())).toBe(expected);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('carries every quote field on the first tick of an instrument', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  --a--|', ticks);
      const e1subs = '   ^----!';
      const expected = ' --A--|';
      expectObservable(e1.pipe(quoteDiff())).toBe(expected, diffs);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
    expect(Object.keys(diffs.A.changes)).toHaveLength(38);
  });

  it('carries only the changed fields after the first tick, and nothing for a tick that changes none', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -a-b-c-|', ticks);
      const e1subs = '   ^------!';
      const expected = ' -A-B---|';
      expectObservable(e1.pipe(quoteDiff())).toBe(expected, diffs);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('carries null when the exchange stops setting a price, and the price when it sets one again', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  -a-b-d-e-f-|', ticks);
      const expected = ' -A-B-D-E-F-|';
      expectObservable(e1.pipe(quoteDiff())).toBe(expected, diffs);
    });
  });

  it('keeps each instrument apart', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  -a-m-b-n-c-|', ticks);
      const expected = ' -A-M-B-N---|';
      expectObservable(e1.pipe(quoteDiff())).toBe(expected, diffs);
    });
  });

  it('starts every subscription from an empty snapshot', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  -a-b-|', ticks);
      const diffed = e1.pipe(quoteDiff());
      const expected = ' -A-B-|';
      expectObservable(diffed).toBe(expected, diffs);
      expectObservable(diffed).toBe(expected, diffs);
    });
  });

  it('passes an error through', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -a-b-#', ticks, new Error('feed lost'));
      const e1subs = '   ^----!';
      const expected = ' -A-B-#';
      expectObservable(e1.pipe(quoteDiff())).toBe(expected, diffs, new Error('feed lost'));
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('follows a source that never ends, and unsubscribes early', () => {
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const e1 = hot('  -a-b-c-d-e-', ticks);
      const unsub = '   ------!    ';
      const e1subs = '  ^-----!    ';
      const expected = '-A-B---    ';
      expectObservable(e1.pipe(quoteDiff()), unsub).toBe(expected, diffs);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('counts a tick fed back in by its subscriber against the state that tick left', () => {
    scheduler.run(() => {
      const source = new Subject<Tick>();
      const seen: QuoteDiff[] = [];
      source.pipe(quoteDiff()).subscribe((diff) => {
        seen.push(diff);
        // The repeat of b must find b already in the snapshot; d then differs from b, not from a.
        if (diff.sequence === b.sequence) {
          source.next(c);
          source.next(d);
        }
      });
      source.next(a);
      source.next(b);
      expect(seen).toEqual([diffs.A, diffs.B, diffs.D]);
    });
  });

  it('rebuilds the latest quote of every instrument from its diffs applied in order', () => {
    const price = fc.constantFrom(null, 3500, 3501);
    const volume = fc.integer({ min: 0, max: 2 });
    const tickChanges = fc.record({
      instrument_id: fc.constantFrom('SHFE.rb2501', 'DCE.m2501', 'CZCE.SR501'),
      trading_day: fc.constantFrom('20250103', '20250106'),
      ts_event: fc.integer({ min: 0, max: 3 }).map((halfSeconds) => a.ts_event + halfSeconds * HALF_SECOND),
      last_price: price,
      close: price,
      bid_price1: price,
      ask_price5: price,
      volume,
      bid_volume1: volume,
      open_interest: volume,
    });
    fc.assert(
      fc.property(fc.array(tickChanges, { maxLength: 40 }), (changesList) => {
        // Sequence i marks tick i, so each diff is matched to the tick that caused it.
        const input = changesList.map((changes, i) => makeTick({ ...changes, sequence: i }));
        const diffsBySequence = new Map<number, QuoteDiff>();
        // A fresh scheduler per generated case, as beforeEach gives one per test.
        createTestScheduler().run(() => {
          from(input)
            .pipe(quoteDiff())
            .subscribe((diff) => diffsBySequence.set(diff.sequence, diff));
        });
        const snapshots = new Map<string, Record<string, null | number | string>>();
        for (const tick of input) {
          const snapshot = snapshots.get(tick.instrument_id) ?? {};
          snapshots.set(tick.instrument_id, snapshot);
          const diff = diffsBySequence.get(tick.sequence);
          if (diff !== undefined) {
            expect(diff.instrument_id).toBe(tick.instrument_id);
            // Minimal: a diff names no field that kept its value.
            for (const [field, value] of Object.entries(diff.changes)) expect(snapshot[field]).not.toBe(value);
            Object.assign(snapshot, diff.changes);
          }
          // Complete: after every tick, emitting or not, the snapshot is that tick's quote.
          expect(snapshot).toEqual(quoteFieldsOf(tick));
        }
      }),
      { numRuns: 200 },
    );
  });
});
