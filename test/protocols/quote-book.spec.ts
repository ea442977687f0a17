import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyMergePatch, type JsonValue } from '../../protocols/diff/apply-merge-patch.js';
import { DiffQuoteFields } from '../../protocols/diff/diff-quote-fields.js';
import { InstrumentId, type QuoteDiff } from '../../schemas/generated.js';
import { DiffSession } from '../../sinks/websocket/diff-session.js';
import { FeedBoard } from '../../sinks/websocket/feed-board.js';
import { QuoteBook } from '../../protocols/diff/quote-book.js';
import { QuoteFanout } from '../../sinks/websocket/quote-fanout.js';
import { firstQuote, laterQuote, T0 } from '../support/websocket-harness.js';

describe('QuoteBook', () => {
  it('keeps the first quote of an instrument under DIFF keys, without unset values', () => {
    const book = new QuoteBook();
    const change = book.apply(firstQuote('SHFE.rb2501', 3500));
    expect(change?.isNew).toBe(true);
    const quote = book.quote('SHFE.rb2501');
    expect(quote).toMatchObject({
      instrument_id: 'SHFE.rb2501',
      last_price: 3500,
      highest: 3510,
      lowest: 3480,
      amount: 419_820_000,
      average: 3498.5,
      datetime: '2025-01-02 21:00:00.000000',
    });
    expect(quote).not.toHaveProperty('close');
    expect(quote).not.toHaveProperty('high');
    expect(book.has('SHFE.rb2501')).toBe(true);
    expect(book.size).toBe(1);
  });

  it('returns only what really changed, with null where a value is no longer set', () => {
    const book = new QuoteBook();
    book.apply(firstQuote('SHFE.rb2501', 3500));
    const change = book.apply(laterQuote('SHFE.rb2501', 2, { last_price: 3501, bid_price1: null, volume: 12_000 }));
    expect(change).toEqual({
      instrumentId: 'SHFE.rb2501',
      isNew: false,
      patch: { last_price: 3501, bid_price1: null, datetime: '2025-01-02 21:00:01.000000' },
    });
    expect(book.quote('SHFE.rb2501')).not.toHaveProperty('bid_price1');
    expect(book.apply(laterQuote('SHFE.rb2501', 2, { last_price: 3501, close: null }))).toBeUndefined();
  });

  it('turns DBL_MAX, NaN and infinities into unset values, so they never reach a client', () => {
    const book = new QuoteBook();
    book.apply(firstQuote('SHFE.rb2501', 3500));
    const change = book.apply(
      laterQuote('SHFE.rb2501', 2, {
        last_price: Number.MAX_VALUE,
        ask_price1: Number.NaN,
        bid_price1: Number.POSITIVE_INFINITY,
        open: -Number.MAX_VALUE,
      }),
    );
    expect(change?.patch).toMatchObject({ last_price: null, ask_price1: null, bid_price1: null, open: null });
    expect(JSON.stringify(book.completeQuote('SHFE.rb2501'))).not.toMatch(/e\+308|NaN|Infinity/);
  });

  it('ignores keys that are not quote fields and takes datetime from the record when the changes lack ts_event', () => {
    const book = new QuoteBook();
    const diff: QuoteDiff = {
      instrument_id: InstrumentId('DCE.m2505'),
      ts_event: T0 + 7,
      sequence: 1,
      changes: { last_price: 2800, feed_id: 'a', sequence: 9 },
    };
    book.apply(diff);
    expect(book.quote('DCE.m2505')).toEqual({ instrument_id: 'DCE.m2505', last_price: 2800, datetime: '2025-01-02 21:00:00.000007' });
    // A change of time alone moves datetime.
    expect(book.apply({ ...diff, changes: { ts_event: T0 + 9 } })?.patch).toEqual({ datetime: '2025-01-02 21:00:00.000009' });
  });

  it('gives a complete quote with every DIFF key, null where unset', () => {
    const book = new QuoteBook();
    book.apply(firstQuote('SHFE.rb2501', 3500));
    const complete = book.completeQuote('SHFE.rb2501');
    expect(Object.keys(complete ?? {}).sort()).toEqual(['instrument_id', ...Object.values(DiffQuoteFields.keyOf)].sort());
    expect(complete).toMatchObject({ close: null, bid_price5: null, last_price: 3500 });
    expect(book.completeQuote('nope')).toBeUndefined();
  });

  it('lists instruments sorted and searches ignoring case, with * as a wildcard', () => {
    const book = new QuoteBook();
    for (const id of ['SHFE.rb2505', 'DCE.m2505', 'SHFE.rb2501', 'CZCE.RM505', 'SHFE.cu2501']) book.apply(firstQuote(id, 100));
    expect(book.instruments()).toEqual(['CZCE.RM505', 'DCE.m2505', 'SHFE.cu2501', 'SHFE.rb2501', 'SHFE.rb2505']);
    expect(book.search('rb')).toEqual(['SHFE.rb2501', 'SHFE.rb2505']);
    expect(book.search('RM')).toEqual(['CZCE.RM505']);
    expect(book.search('shfe.*01')).toEqual(['SHFE.cu2501', 'SHFE.rb2501']);
    expect(book.search('*')).toHaveLength(5);
    expect(book.search('.(')).toEqual([]);
    // A pattern that would backtrack badly as a regular expression answers at once.
    const started = performance.now();
    expect(book.search(`${'*a'.repeat(40)}!`)).toEqual([]);
    expect(performance.now() - started).toBeLessThan(50);
  });
});

const INSTRUMENTS = ['SHFE.rb2501', 'DCE.m2505'] as const;
const NEVER_KNOWN = 'CFFEX.IF2501';
/** Clients sharing one fan-out, peeking at their own pace; with a fan-out history of two epochs, a client that falls further behind is sent complete quotes. */
const CLIENTS = 3;
const HISTORY = 2;
const PRICE_FIELDS = ['last_price', 'bid_price1', 'close'] as const;
/** Mostly real prices, often unset ones (null, and the DBL_MAX and NaN a feed may carry), so keys come and go. */
const price = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 3490, max: 3510 }) },
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constantFrom(Number.MAX_VALUE, Number.NaN) },
);

type Op =
  | { kind: 'diff'; instrument: number; changes: Record<string, null | number | string>; ts: number }
  | { kind: 'subscribe'; client: number; ids: string[] }
  | { kind: 'peek'; client: number }
  | { kind: 'feed'; state: 'UP' | 'STALE' | 'DOWN'; lastTick: number | null };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('diff' as const),
      instrument: fc.integer({ min: 0, max: INSTRUMENTS.length - 1 }),
      changes: fc.dictionary(fc.constantFrom(...PRICE_FIELDS, 'volume'), price, { minKeys: 1, maxKeys: 3 }),
      ts: fc.integer({ min: 0, max: 3 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('subscribe' as const),
      client: fc.nat(CLIENTS - 1),
      ids: fc.subarray([...INSTRUMENTS, NEVER_KNOWN]),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('peek' as const), client: fc.nat(CLIENTS - 1) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('feed' as const),
      state: fc.constantFrom('UP', 'STALE', 'DOWN'),
      lastTick: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }),
    }),
  },
);

/** A client as the property test keeps it: its session and what it holds after applying every rtn_data. */
interface HeldClient {
  readonly session: DiffSession;
  held: JsonValue;
  insList: string | undefined;
}

describe('QuoteBook and DiffSession (property)', () => {
  it('clients that apply every rtn_data they receive to an empty snapshot hold exactly the latest quotes of their subscribed instruments, however their peeks interleave', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80, size: 'max' }), (ops) => {
        const book = new QuoteBook();
        const feeds = new FeedBoard();
        const fanout = new QuoteFanout(book, HISTORY);
        const clients = Array.from({ length: CLIENTS }, (): HeldClient => ({
          session: new DiffSession(fanout, feeds),
          held: {},
          insList: undefined,
        }));
        const receive = (client: HeldClient): void => {
          client.session.peekMessage();
          const message = client.session.takeMessage();
          if (message === undefined) return;
          const wire = String(message);
          expect(wire).not.toMatch(/e\+308|NaN|Infinity/);
          for (const patch of (JSON.parse(wire) as { data: JsonValue[] }).data) client.held = applyMergePatch(client.held, patch);
        };
        for (const o of ops) {
          if (o.kind === 'diff') {
            const id = INSTRUMENTS[o.instrument] as string;
            const diff = book.has(id) ? laterQuote(id, o.ts, o.changes) : { ...firstQuote(id, 3500), ts_event: T0 + o.ts };
            const change = book.apply(diff);
            if (change !== undefined) fanout.changed(change);
          } else if (o.kind === 'subscribe') {
            const client = clients[o.client] as HeldClient;
            client.insList = o.ids.join(',');
            expect(client.session.subscribeQuote(client.insList, 10)).toBeUndefined();
          } else if (o.kind === 'feed') {
            const change = feeds.apply({
              feed_id: 'sim-a',
              state: o.state,
              ts_event: T0,
              last_tick_ts: o.lastTick,
              lead_count: 1,
              lag_count: 0,
              gap_count: 0,
              drop_count: 0,
              detail: o.state,
            });
            if (change !== undefined) for (const client of clients) client.session.feedChanged(change);
          } else {
            receive(clients[o.client] as HeldClient);
          }
        }
        for (const client of clients) {
          receive(client);
          const expected: Record<string, unknown> = {};
          for (const id of client.session.subscriptions) if (book.has(id)) expected[id] = book.quote(id);
          const held = client.held as { quotes?: Record<string, unknown>; feeds?: Record<string, unknown>; ins_list?: string };
          expect(held.quotes ?? {}).toEqual(expected);
          expect(held.feeds ?? {}).toEqual(Object.fromEntries(feeds.entries()));
          expect(held.ins_list).toBe(client.insList);
        }
      }),
      { numRuns: 200 },
    );
  });
});
