import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyMergePatch, type JsonValue } from '../../protocols/diff/apply-merge-patch.js';
import { QuoteBook } from '../../protocols/diff/quote-book.js';
import type { OrderEvent } from '../../schemas/generated.js';
import { DiffSession } from '../../sinks/websocket/diff-session.js';
import { FeedBoard } from '../../sinks/websocket/feed-board.js';
import { QuoteFanout } from '../../sinks/websocket/quote-fanout.js';
import { TradeBook, type TradeEntityChange } from '../../sinks/websocket/trade-book.js';
import {
  ACCOUNT,
  orderAccepted,
  orderCanceled,
  orderCancelRejected,
  orderDenied,
  orderFilled,
  orderPendingCancel,
  orderSubmitted,
} from '../support/websocket-harness.js';

const RB = 'SHFE.rb2505';
const CU = 'SHFE.cu2505';

/** Applies events in order; returns every change they made and fails on any ignored one. */
function applyAll(book: TradeBook, ...events: OrderEvent[]): TradeEntityChange[] {
  const changes: TradeEntityChange[] = [];
  for (const event of events) {
    const update = book.apply(event);
    expect(update.ignored, `${event.type} ${event.client_order_id}`).toBeUndefined();
    changes.push(...update.changes);
  }
  return changes;
}

/** A book with one accepted order `id`. */
function working(
  book: TradeBook,
  id: string,
  side: 'BUY' | 'SELL',
  lots: number,
  price: number,
  instrument = RB,
  effect: 'OPEN' | 'CLOSE' = 'OPEN',
): void {
  applyAll(book, orderSubmitted(id, instrument, side, lots, price, { position_effect: effect }), orderAccepted(id, instrument));
}

describe('TradeBook', () => {
  it('keeps a submitted, accepted order with the fields a client needs and the state machine status', () => {
    const book = new TradeBook();
    const [created] = applyAll(book, orderSubmitted('o-1', RB, 'BUY', 3, 3500));
    expect(created).toMatchObject({
      accountId: ACCOUNT,
      section: 'orders',
      key: 'o-1',
      isNew: true,
      patch: { instrument_id: RB, side: 'BUY', price: 3500, quantity: 3, filled: 0, status: 'SUBMITTED' },
    });
    const [accepted] = applyAll(book, orderAccepted('o-1', RB));
    expect(accepted?.patch).toEqual({
      status: 'ACCEPTED',
      venue_order_id: 'v-o-1',
      datetime: expect.stringMatching(/^2025-01-02 21:00:00\.\d{6}$/),
    });
    expect(book.view(ACCOUNT, 'orders', 'o-1')).toMatchObject({
      client_order_id: 'o-1',
      strategy_id: 'strat-1',
      position_effect: 'OPEN',
      order_type: 'LIMIT',
      status: 'ACCEPTED',
    });
    expect(book.workingOrders(ACCOUNT)).toHaveLength(1);
    // A market order has no price: absent, never null.
    applyAll(book, orderSubmitted('o-2', RB, 'SELL', 1, null));
    expect(book.view(ACCOUNT, 'orders', 'o-2')).not.toHaveProperty('price');
    expect(book.view(ACCOUNT, 'orders', 'o-2')).toMatchObject({ order_type: 'MARKET' });
  });

  it('turns fills into positions with a volume-weighted average open price; closes leave the average as it was', () => {
    const book = new TradeBook();
    working(book, 'o-1', 'BUY', 3, 3500);
    const partial = applyAll(book, orderFilled('o-1', RB, 'BUY', 2, 3500, 2, 1));
    // The order first, then the position it made.
    expect(partial.map((c) => `${c.section}:${c.key}`)).toEqual(['orders:o-1', 'positions:SHFE.rb2505']);
    expect(book.view(ACCOUNT, 'orders', 'o-1')).toMatchObject({ status: 'PARTIALLY_FILLED', filled: 2, average_fill_price: 3500 });
    applyAll(book, orderFilled('o-1', RB, 'BUY', 1, 3503, 3, 0));
    expect(book.view(ACCOUNT, 'orders', 'o-1')).toMatchObject({ status: 'FILLED', filled: 3, average_fill_price: 3501 });
    expect(book.view(ACCOUNT, 'positions', RB)).toMatchObject({
      instrument_id: RB,
      net: 3,
      volume_long: 3,
      volume_short: 0,
      open_price_long: 3501,
    });

    working(book, 'o-2', 'SELL', 2, 3510, RB, 'CLOSE');
    applyAll(book, orderFilled('o-2', RB, 'SELL', 2, 3510, 2, 0));
    expect(book.view(ACCOUNT, 'positions', RB)).toMatchObject({ net: 1, volume_long: 1, open_price_long: 3501 });

    // A short opened beside the long (China futures hold both sides apart).
    working(book, 'o-3', 'SELL', 4, 3520);
    applyAll(book, orderFilled('o-3', RB, 'SELL', 1, 3520, 1, 3), orderFilled('o-3', RB, 'SELL', 3, 3524, 4, 0));
    expect(book.view(ACCOUNT, 'positions', RB)).toMatchObject({
      net: -3,
      volume_long: 1,
      volume_short: 4,
      open_price_long: 3501,
      open_price_short: 3523,
    });

    // Closing a side to zero removes its average price (null in the patch).
    working(book, 'o-4', 'SELL', 1, 3490, RB, 'CLOSE');
    const closed = applyAll(book, orderFilled('o-4', RB, 'SELL', 1, 3490, 1, 0));
    expect(closed.find((c) => c.section === 'positions')?.patch).toMatchObject({ net: -4, volume_long: 0, open_price_long: null });
    expect(book.view(ACCOUNT, 'positions', RB)).not.toHaveProperty('open_price_long');
    expect(book.unmatchedCloseLots).toBe(0);

    // A close beyond what is held (a position from before the book started) stops at zero and is counted.
    working(book, 'o-5', 'BUY', 6, 3480, RB, 'CLOSE');
    applyAll(book, orderFilled('o-5', RB, 'BUY', 6, 3480, 6, 0));
    expect(book.view(ACCOUNT, 'positions', RB)).toMatchObject({ net: 0, volume_long: 0, volume_short: 0 });
    expect(book.unmatchedCloseLots).toBe(2);
  });

  it('takes a canceled order off the working list, keeping what it filled', () => {
    const book = new TradeBook();
    working(book, 'o-1', 'BUY', 5, 3500);
    working(book, 'o-2', 'SELL', 1, 3600);
    applyAll(book, orderFilled('o-1', RB, 'BUY', 2, 3500, 2, 3), orderPendingCancel('o-1', RB));
    expect(book.view(ACCOUNT, 'orders', 'o-1')).toMatchObject({ status: 'PENDING_CANCEL' });
    expect(book.workingOrders(ACCOUNT).map((o) => o['client_order_id'])).toEqual(['o-1', 'o-2']);
    // Race: a fill the venue made before it saw the cancel; the cancel is still pending.
    applyAll(book, orderFilled('o-1', RB, 'BUY', 1, 3499, 3, 2));
    expect(book.view(ACCOUNT, 'orders', 'o-1')).toMatchObject({ status: 'PENDING_CANCEL', filled: 3 });
    applyAll(book, orderCanceled('o-1', RB, 3));
    expect(book.view(ACCOUNT, 'orders', 'o-1')).toMatchObject({ status: 'CANCELED', filled: 3 });
    expect(book.workingOrders(ACCOUNT).map((o) => o['client_order_id'])).toEqual(['o-2']);
    expect(book.view(ACCOUNT, 'positions', RB)).toMatchObject({ volume_long: 3 });
  });

  it('ignores and counts events that are not valid transitions; the state does not move', () => {
    const book = new TradeBook();
    // A fill of an order never submitted.
    expect(book.apply(orderFilled('ghost', RB, 'BUY', 1, 3500, 1, 0))).toEqual({
      changes: [],
      ignored: expect.stringMatching(/order ghost: Fill is not valid in state INITIALIZED/),
    });
    expect(book.view(ACCOUNT, 'orders', 'ghost')).toBeUndefined();
    expect(book.view(ACCOUNT, 'positions', RB)).toBeUndefined();
    working(book, 'o-1', 'BUY', 1, 3500);
    applyAll(book, orderCanceled('o-1', RB, 0));
    const before = book.snapshot();
    // Events after a terminal state, and a second submit of the same id.
    for (const event of [
      orderAccepted('o-1', RB),
      orderFilled('o-1', RB, 'BUY', 1, 3500, 1, 0),
      orderSubmitted('o-1', RB, 'BUY', 9, 3400),
    ]) {
      expect(book.apply(event).ignored).toMatch(/in state CANCELED/);
    }
    expect(book.snapshot()).toEqual(before);
    expect(book.invalidTransitions).toBe(4);
    // A cancel reject that arrives after the order filled is a known race, not an error.
    working(book, 'o-2', 'BUY', 1, 3500);
    applyAll(
      book,
      orderPendingCancel('o-2', RB),
      orderFilled('o-2', RB, 'BUY', 1, 3500, 1, 0),
      orderCancelRejected('o-2', RB, 'order already filled'),
    );
    expect(book.view(ACCOUNT, 'orders', 'o-2')).toMatchObject({ status: 'FILLED', reason: 'order already filled' });
    expect(book.invalidTransitions).toBe(4);
  });

  it('lists denials; a denied submit is a DENIED order, a denied cancel leaves its order as it was', () => {
    const book = new TradeBook();
    const changes = applyAll(
      book,
      orderDenied('o-1', CU, 'MAX_POSITION_EXCEEDED', 'position would be 12 lots; limit 10', { event_id: 'risk-1' }),
    );
    expect(changes.map((c) => `${c.section}:${c.key}`)).toEqual(['orders:o-1', 'denials:risk-1']);
    expect(book.view(ACCOUNT, 'orders', 'o-1')).toMatchObject({
      instrument_id: CU,
      status: 'DENIED',
      reason: 'position would be 12 lots; limit 10',
    });
    expect(book.view(ACCOUNT, 'denials', 'risk-1')).toEqual({
      client_order_id: 'o-1',
      instrument_id: CU,
      strategy_id: 'strat-1',
      reason_code: 'MAX_POSITION_EXCEEDED',
      reason: 'position would be 12 lots; limit 10',
      datetime: expect.stringMatching(/^2025-01-02 21:00:00\.\d{6}$/),
    });
    expect(book.workingOrders(ACCOUNT)).toEqual([]);

    working(book, 'o-2', 'BUY', 1, 3500);
    applyAll(book, orderDenied('o-2', RB, 'CANCEL_RATE_EXCEEDED', 'more than 5 cancels a second', { event_id: 'risk-2' }));
    expect(book.view(ACCOUNT, 'orders', 'o-2')).toMatchObject({ status: 'ACCEPTED' });
    expect(book.view(ACCOUNT, 'orders', 'o-2')).not.toHaveProperty('reason');
    expect(book.view(ACCOUNT, 'denials', 'risk-2')).toMatchObject({ reason_code: 'CANCEL_RATE_EXCEEDED' });
    expect(book.invalidTransitions).toBe(0);
  });

  it('keeps the latest 50 denials per account and deletes older ones with null', () => {
    const book = new TradeBook();
    const deleted: string[] = [];
    for (let i = 1; i <= 60; i++) {
      const update = book.apply(orderDenied(`o-${i}`, RB, 'RATE_LIMIT_EXCEEDED', `order ${i}`, { event_id: `risk-${i}` }));
      deleted.push(...update.changes.filter((c) => c.section === 'denials' && c.patch === null).map((c) => c.key));
    }
    expect(deleted).toEqual(Array.from({ length: 10 }, (_, i) => `risk-${i + 1}`));
    const denials = Object.keys(book.snapshot()[ACCOUNT]?.denials ?? {});
    expect(denials).toHaveLength(50);
    expect(denials[0]).toBe('risk-11');
    expect(denials.at(-1)).toBe('risk-60');
    // Another account keeps its own 50.
    book.apply(orderDenied('x-1', RB, 'TRADING_HALTED', 'halted', { event_id: 'risk-x', account_id: 'acc-2' }));
    expect(Object.keys(book.snapshot()['acc-2']?.denials ?? {})).toEqual(['risk-x']);
    expect(Object.keys(book.snapshot()[ACCOUNT]?.denials ?? {})).toHaveLength(50);
  });

  it('keeps the latest 200 terminal orders per account; working orders are never deleted', () => {
    const book = new TradeBook();
    working(book, 'keep', 'BUY', 1, 3400);
    const deleted: string[] = [];
    for (let i = 1; i <= 205; i++) {
      working(book, `o-${i}`, 'BUY', 1, 3500);
      const update = book.apply(orderCanceled(`o-${i}`, RB, 0));
      deleted.push(...update.changes.filter((c) => c.patch === null).map((c) => c.key));
    }
    expect(deleted).toEqual(['o-1', 'o-2', 'o-3', 'o-4', 'o-5']);
    const orders = book.snapshot()[ACCOUNT]?.orders ?? {};
    expect(Object.keys(orders)).toHaveLength(201);
    expect(orders['keep']).toMatchObject({ status: 'ACCEPTED' });
    expect(orders['o-6']).toMatchObject({ status: 'CANCELED' });
    // An event of a deleted order is unknown to the book now: ignored and counted.
    expect(book.apply(orderCanceled('o-1', RB, 0)).ignored).toMatch(/INITIALIZED/);
  });

  it('completeView names every key of the section, null where unset', () => {
    const book = new TradeBook();
    applyAll(book, orderSubmitted('o-1', RB, 'BUY', 1, null));
    const complete = book.completeView(ACCOUNT, 'orders', 'o-1');
    expect(complete).toMatchObject({ price: null, average_fill_price: null, reason: null, venue_order_id: null, status: 'SUBMITTED' });
    expect(Object.keys(complete ?? {})).toHaveLength(16);
    expect(book.completeView(ACCOUNT, 'orders', 'nope')).toBeUndefined();
  });
});

/** Drops empty objects, so a client that deleted every entry of a section compares equal to a book without it. */
function pruned(value: JsonValue | undefined): JsonValue | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const out: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(value)) {
    const p = pruned(v);
    if (p !== undefined) out[k] = p;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

describe('TradeBook and DiffSession (property)', () => {
  const ids = ['a', 'b', 'c', 'd'];
  // Peeks are rare enough that entities are often created, changed and deleted between two of them.
  const step = fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        kind: fc.constant('event' as const),
        id: fc.constantFrom(...ids),
        account: fc.constantFrom('acc-1', 'acc-2'),
        what: fc.integer({ min: 0, max: 8 }),
        lots: fc.integer({ min: 1, max: 3 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('peek' as const) }) },
  );

  it('a client that applies every rtn_data holds exactly the book, whatever the events, deletions and recreations', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200, size: 'max' }), (steps) => {
        const book = new TradeBook({ maxTerminalOrders: 2, maxDenials: 2 });
        const session = new DiffSession(new QuoteFanout(new QuoteBook()), new FeedBoard(), book);
        // Each order id gets fresh client ids after a terminal event so that orders are submitted, deleted and come back.
        const generation = new Map<string, number>();
        let client: JsonValue = {};
        let maxPending = 0;
        const receive = (): void => {
          session.peekMessage();
          const frame = session.takeMessage();
          const message = frame === undefined ? undefined : (JSON.parse(String(frame)) as { data: JsonValue[] });
          for (const patch of message?.data ?? []) client = applyMergePatch(client, JSON.parse(JSON.stringify(patch)) as JsonValue);
        };
        for (const s of steps) {
          if (s.kind === 'peek') {
            receive();
            continue;
          }
          const gen = generation.get(s.id) ?? 0;
          const id = `${s.id}${gen % 3}`;
          const extra = { account_id: s.account };
          const sides = ['BUY', 'SELL'] as const;
          const side = sides[s.lots % 2] as 'BUY' | 'SELL';
          const events: OrderEvent[] = [
            orderSubmitted(id, RB, side, 3, 3500 + s.lots, { ...extra, position_effect: s.lots === 3 ? 'CLOSE' : 'OPEN' }),
            orderAccepted(id, RB, extra),
            orderFilled(id, RB, side, 1, 3500 + s.lots, 1, 2, extra),
            orderFilled(id, RB, side, s.lots, 3500, 3, 0, extra),
            orderPendingCancel(id, RB, extra),
            orderCanceled(id, RB, 1, extra),
            orderDenied(id, RB, 'RATE_LIMIT_EXCEEDED', `denied ${id}`, extra),
            orderCancelRejected(id, RB, 'too late', extra),
            orderSubmitted(id, CU, 'SELL', 1, null, extra),
          ];
          const event = events[s.what] as OrderEvent;
          const update = book.apply(event);
          session.tradeChanged(update.changes);
          if (
            book.view(s.account, 'orders', id) === undefined ||
            ['FILLED', 'CANCELED', 'DENIED'].includes(String(book.view(s.account, 'orders', id)?.['status']))
          ) {
            generation.set(s.id, gen + 1);
          }
          maxPending = Math.max(maxPending, session.pendingValueCount());
        }
        receive();
        expect(pruned((client as { trade?: JsonValue }).trade)).toEqual(pruned(JSON.parse(JSON.stringify(book.snapshot())) as JsonValue));
        // Bounded: 2 accounts × (≤ 12 orders + 2 positions + 2 denials, and as many deletions) × ≤ 16 keys.
        expect(maxPending).toBeLessThanOrEqual(2 * 2 * (12 + 2 + 2) * 16);
      }),
      { numRuns: 200 },
    );
  });
});
