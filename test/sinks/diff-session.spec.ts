import { describe, expect, it } from 'vitest';
import { applyMergePatch, type JsonValue } from '../../protocols/diff/apply-merge-patch.js';
import type { FeedStatus, QuoteDiff } from '../../schemas/generated.js';
import { DiffSession } from '../../sinks/websocket/diff-session.js';
import { FeedBoard } from '../../sinks/websocket/feed-board.js';
import { QuoteBook, type QuoteChange } from '../../protocols/diff/quote-book.js';
import type { OrderEvent } from '../../schemas/generated.js';
import { QuoteFanout } from '../../sinks/websocket/quote-fanout.js';
import { TradeBook } from '../../sinks/websocket/trade-book.js';
import {
  ACCOUNT,
  feedStatus,
  firstQuote,
  laterQuote,
  orderAccepted,
  orderCanceled,
  orderDenied,
  orderFilled,
  orderSubmitted,
} from '../support/websocket-harness.js';

/** An rtn_data as the client reads it. */
type RtnData = { aid: 'rtn_data'; data: { [key: string]: JsonValue }[] };

/** The encoded message a session took, parsed as the client parses it. */
function parsed(frame: string | Buffer | undefined): RtnData | undefined {
  return frame === undefined ? undefined : (JSON.parse(String(frame)) as RtnData);
}

/** A book, its fan-out, a feed board and one session, wired as the server wires them. */
function setup(...known: string[]) {
  const book = new QuoteBook();
  const fanout = new QuoteFanout(book);
  const feeds = new FeedBoard();
  const trade = new TradeBook({ maxTerminalOrders: 3, maxDenials: 2 });
  for (const [i, id] of known.entries()) fanout.changed(book.apply(firstQuote(id, 3500 + i * 100)) as QuoteChange);
  const session = new DiffSession(fanout, feeds, trade);
  return {
    book,
    fanout,
    feeds,
    trade,
    session,
    order(...events: OrderEvent[]) {
      for (const event of events) session.tradeChanged(trade.apply(event).changes);
    },
    quote(diff: QuoteDiff) {
      const change = book.apply(diff);
      if (change !== undefined) fanout.changed(change);
    },
    feed(status: FeedStatus) {
      const change = feeds.apply(status);
      if (change !== undefined) session.feedChanged(change);
    },
    /** peek_message and whatever the session answers at once. */
    peek() {
      session.peekMessage();
      return parsed(session.takeMessage());
    },
  };
}

describe('DiffSession', () => {
  it('answers the first peek at once with the snapshot, then mdhis_more_data false as a later element', () => {
    expect(setup('SHFE.rb2501').peek()).toEqual({ aid: 'rtn_data', data: [{ quotes: {} }, { mdhis_more_data: false }] });
    // A client that connects later finds the feeds known so far in its snapshot.
    const s = setup('SHFE.rb2501');
    s.feed(feedStatus('sim-a', 'UP'));
    const later = new DiffSession(s.fanout, s.feeds);
    later.peekMessage();
    const message = parsed(later.takeMessage());
    expect(message?.data).toHaveLength(2);
    expect(message?.data[0]).toMatchObject({ quotes: {}, feeds: { 'sim-a': { state: 'UP', lead_count: 10 } } });
    expect(message?.data[1]).toEqual({ mdhis_more_data: false });
    expect(parsed(later.takeMessage())).toBeUndefined();
  });

  it('subscribe_quote echoes ins_list verbatim and carries the full quotes of known instruments; unknown ones are absent', () => {
    const s = setup('SHFE.rb2501', 'DCE.m2505');
    expect(s.session.subscribeQuote('SHFE.rb2501,CFFEX.IF2501,DCE.m2505', 10)).toBeUndefined();
    const message = s.peek();
    const root = message?.data[0] as { ins_list: string; quotes: Record<string, unknown> };
    expect(root.ins_list).toBe('SHFE.rb2501,CFFEX.IF2501,DCE.m2505');
    expect(Object.keys(root.quotes).sort()).toEqual(['DCE.m2505', 'SHFE.rb2501']);
    expect(root.quotes['SHFE.rb2501']).toEqual(s.book.quote('SHFE.rb2501'));
    expect(message?.data[1]).toEqual({ mdhis_more_data: false });
    expect([...s.session.subscriptions]).toEqual(['SHFE.rb2501', 'CFFEX.IF2501', 'DCE.m2505']);
  });

  it('subscribe_quote replaces the subscription: dropped instruments become null, kept ones are not resent', () => {
    const s = setup('SHFE.rb2501', 'DCE.m2505', 'SHFE.cu2501');
    s.session.subscribeQuote('SHFE.rb2501,DCE.m2505', 10);
    s.peek();
    s.session.subscribeQuote('DCE.m2505,SHFE.cu2501', 10);
    const message = s.peek();
    expect(message?.data).toEqual([
      { ins_list: 'DCE.m2505,SHFE.cu2501', quotes: { 'SHFE.rb2501': null, 'SHFE.cu2501': s.book.quote('SHFE.cu2501') } },
    ]);
    // Changes of the dropped instrument no longer reach the client.
    s.quote(laterQuote('SHFE.rb2501', 2, { last_price: 3333 }));
    expect(s.peek()).toBeUndefined();
  });

  it('holds a peek until something changes, then answers it once', () => {
    const s = setup('SHFE.rb2501');
    s.session.subscribeQuote('SHFE.rb2501', 10);
    s.peek();
    expect(s.peek()).toBeUndefined();
    expect(s.session.isPeekHeld).toBe(true);
    s.quote(laterQuote('SHFE.rb2501', 2, { last_price: 3501, ask_price1: null }));
    expect(parsed(s.session.takeMessage())).toEqual({
      aid: 'rtn_data',
      data: [{ quotes: { 'SHFE.rb2501': { last_price: 3501, ask_price1: null, datetime: '2025-01-02 21:00:01.000000' } } }],
    });
    expect(s.session.isPeekHeld).toBe(false);
    s.quote(laterQuote('SHFE.rb2501', 3, { last_price: 3502 }));
    // No peek, no message: the change waits in the pending patch.
    expect(parsed(s.session.takeMessage())).toBeUndefined();
    expect(s.peek()?.data).toEqual([{ quotes: { 'SHFE.rb2501': { last_price: 3502, datetime: '2025-01-02 21:00:01.500000' } } }]);
  });

  it('sends an instrument that appears after it was subscribed, whole', () => {
    const s = setup();
    s.session.subscribeQuote('SHFE.rb2501', 10);
    expect(s.peek()?.data[0]).toEqual({ ins_list: 'SHFE.rb2501', quotes: {} });
    expect(s.peek()).toBeUndefined();
    s.quote(firstQuote('SHFE.rb2501', 3500));
    expect(parsed(s.session.takeMessage())?.data).toEqual([{ quotes: { 'SHFE.rb2501': s.book.quote('SHFE.rb2501') } }]);
  });

  it('replaces every key of a quote dropped and subscribed again before the client heard of the drop', () => {
    const s = setup('SHFE.rb2501');
    let client: JsonValue = {};
    const receive = (): void => {
      for (const patch of s.peek()?.data ?? []) client = applyMergePatch(client, JSON.parse(JSON.stringify(patch)) as JsonValue);
    };
    s.session.subscribeQuote('SHFE.rb2501', 10);
    receive();
    s.session.subscribeQuote('', 10);
    s.quote(laterQuote('SHFE.rb2501', 2, { bid_price1: null }));
    s.session.subscribeQuote('SHFE.rb2501', 10);
    receive();
    expect((client as { quotes: Record<string, unknown> }).quotes['SHFE.rb2501']).toEqual(s.book.quote('SHFE.rb2501'));
    expect(s.book.quote('SHFE.rb2501')).not.toHaveProperty('bid_price1');
  });

  it('refuses a list over the limit and keeps the subscription it had', () => {
    const s = setup('SHFE.rb2501', 'DCE.m2505', 'SHFE.cu2501');
    s.session.subscribeQuote('SHFE.rb2501', 2);
    expect(s.session.subscribeQuote('SHFE.rb2501,DCE.m2505,SHFE.cu2501', 2)).toMatchObject({
      code: 'TOO_MANY_SUBSCRIPTIONS',
      message: expect.stringContaining('3 instruments'),
    });
    expect([...s.session.subscriptions]).toEqual(['SHFE.rb2501']);
    // Duplicates and blanks do not count.
    expect(s.session.subscribeQuote(' SHFE.rb2501, SHFE.rb2501,,DCE.m2505', 2)).toBeUndefined();
    expect([...s.session.subscriptions]).toEqual(['SHFE.rb2501', 'DCE.m2505']);
  });

  it('sends feed status under feeds, merged, with null deleting an unset value', () => {
    const s = setup();
    s.peek();
    s.feed(feedStatus('sim-a', 'UP'));
    s.feed(feedStatus('sim-a', 'STALE', { last_tick_ts: null, detail: 'no tick for 3 s' }));
    s.feed(feedStatus('sim-b', 'UP'));
    expect(s.peek()?.data).toEqual([
      {
        feeds: {
          'sim-a': {
            state: 'STALE',
            ts_event: feedStatus('a', 'UP').ts_event,
            last_tick_ts: null,
            lead_count: 10,
            lag_count: 2,
            gap_count: 0,
            drop_count: 2,
            detail: 'no tick for 3 s',
          },
          'sim-b': expect.objectContaining({ state: 'UP' }),
        },
      },
    ]);
  });

  it('keeps ONE merged pending patch for a client that does not peek: 10,000 changes cost no more than the fields', () => {
    const s = setup('SHFE.rb2501', 'DCE.m2505');
    s.session.subscribeQuote('SHFE.rb2501,DCE.m2505', 10);
    s.peek();
    for (let seq = 2; seq <= 10_001; seq++) {
      s.quote(
        laterQuote(seq % 2 === 0 ? 'SHFE.rb2501' : 'DCE.m2505', seq, {
          last_price: 3000 + (seq % 97),
          volume: 12_000 + seq,
          bid_price1: seq % 5 === 0 ? null : 3000 + (seq % 89),
          ask_volume1: seq % 13,
        }),
      );
      if (seq % 1000 === 0) expect(s.session.pendingValueCount()).toBeLessThanOrEqual(2 * 5);
    }
    const message = s.peek();
    expect(message?.data).toHaveLength(1);
    const wire = JSON.stringify(message);
    expect(wire.length).toBeLessThan(600);
    const quotes = (message?.data[0] as { quotes: Record<string, Record<string, unknown>> }).quotes;
    expect(quotes['SHFE.rb2501']).toMatchObject({ last_price: s.book.quote('SHFE.rb2501')?.['last_price'], volume: 22_000 });
    expect(quotes['DCE.m2505']).toMatchObject({ volume: 22_001 });
  });

  it('never puts DBL_MAX or NaN on the wire: unset prices are deletions', () => {
    const s = setup('SHFE.rb2501');
    s.session.subscribeQuote('SHFE.rb2501', 10);
    s.peek();
    s.quote(laterQuote('SHFE.rb2501', 2, { last_price: Number.MAX_VALUE, bid_price1: Number.NaN, ask_price1: null }));
    const wire = JSON.stringify(s.peek());
    expect(wire).not.toMatch(/e\+308|NaN|Infinity/);
    expect(JSON.parse(wire)).toEqual({
      aid: 'rtn_data',
      data: [
        { quotes: { 'SHFE.rb2501': { last_price: null, bid_price1: null, ask_price1: null, datetime: '2025-01-02 21:00:01.000000' } } },
      ],
    });
  });

  it("sends every account's trade state under trade: the whole of it in the snapshot, then merge patches", () => {
    const s = setup();
    s.order(orderSubmitted('o-1', 'SHFE.rb2505', 'BUY', 2, 3500), orderAccepted('o-1', 'SHFE.rb2505'));
    const later = new DiffSession(s.fanout, s.feeds, s.trade);
    later.peekMessage();
    const snapshot = parsed(later.takeMessage());
    expect(snapshot?.data[0]).toEqual({ quotes: {}, trade: { [ACCOUNT]: { orders: { 'o-1': s.trade.view(ACCOUNT, 'orders', 'o-1') } } } });
    s.peek();
    s.order(
      orderFilled('o-1', 'SHFE.rb2505', 'BUY', 2, 3501, 2, 0),
      orderDenied('o-2', 'SHFE.rb2505', 'PRICE_OUT_OF_BAND', 'price 3900 beyond the limit 3770', {
        event_id: 'risk-1',
        account_id: 'acc-2',
      }),
    );
    const update = s.peek();
    expect(update?.data).toEqual([
      {
        trade: {
          [ACCOUNT]: {
            orders: { 'o-1': { status: 'FILLED', filled: 2, average_fill_price: 3501, datetime: expect.any(String) } },
            positions: {
              'SHFE.rb2505': {
                instrument_id: 'SHFE.rb2505',
                net: 2,
                volume_long: 2,
                volume_short: 0,
                open_price_long: 3501,
                datetime: expect.any(String),
              },
            },
          },
          'acc-2': {
            orders: { 'o-2': expect.objectContaining({ status: 'DENIED', reason: 'price 3900 beyond the limit 3770' }) },
            denials: { 'risk-1': expect.objectContaining({ reason_code: 'PRICE_OUT_OF_BAND', instrument_id: 'SHFE.rb2505' }) },
          },
        },
      },
    ]);
  });

  it('deletes what the client holds with null, never sends what lived and died between two peeks, and replaces a key that came back whole', () => {
    const s = setup();
    let client: JsonValue = {};
    const receive = (): void => {
      for (const patch of s.peek()?.data ?? []) client = applyMergePatch(client, JSON.parse(JSON.stringify(patch)) as JsonValue);
    };
    s.order(orderSubmitted('o-1', 'SHFE.rb2505', 'BUY', 1, 3500), orderCanceled('o-1', 'SHFE.rb2505', 0));
    receive();
    // Three more terminal orders push o-1 out (the bound is 3); o-2 lives and dies before the next peek.
    s.order(
      ...['o-2', 'o-3', 'o-4'].flatMap((id) => [orderSubmitted(id, 'SHFE.rb2505', 'SELL', 1, null), orderCanceled(id, 'SHFE.rb2505', 0)]),
    );
    s.order(orderSubmitted('o-5', 'SHFE.rb2505', 'BUY', 1, 3500), orderCanceled('o-5', 'SHFE.rb2505', 0));
    const message = s.peek();
    for (const patch of message?.data ?? []) client = applyMergePatch(client, JSON.parse(JSON.stringify(patch)) as JsonValue);
    const orders = (message?.data[0] as { trade: Record<string, { orders: Record<string, unknown> }> }).trade[ACCOUNT]?.orders;
    expect(Object.keys(orders ?? {}).sort()).toEqual(['o-1', 'o-3', 'o-4', 'o-5']);
    expect(orders?.['o-1']).toBeNull();
    // o-1 comes back (a new order under the old id) after the client got it once more: every key replaced.
    s.order(orderSubmitted('o-6', 'SHFE.rb2505', 'BUY', 1, 3500));
    receive();
    s.order(orderSubmitted('o-1', 'SHFE.rb2505', 'SELL', 4, null));
    s.order(
      ...['o-6', 'o-7', 'o-8'].flatMap((id) =>
        id === 'o-6'
          ? [orderCanceled(id, 'SHFE.rb2505', 0)]
          : [orderSubmitted(id, 'SHFE.rb2505', 'SELL', 1, null), orderCanceled(id, 'SHFE.rb2505', 0)],
      ),
    );
    receive();
    const trade = (client as { trade: Record<string, { orders: Record<string, Record<string, unknown>> }> }).trade[ACCOUNT];
    expect(trade?.orders['o-1']).toEqual(s.trade.view(ACCOUNT, 'orders', 'o-1'));
    expect(trade?.orders['o-1']).not.toHaveProperty('price');
    expect(trade?.orders).toEqual(JSON.parse(JSON.stringify(s.trade.snapshot()[ACCOUNT]?.orders)));
  });

  it('keeps the pending trade patch bounded for a client that does not peek: 5,000 orders cost no more than the book holds', () => {
    const s = setup();
    s.peek();
    for (let i = 1; i <= 5000; i++) {
      const id = `o-${i}`;
      s.order(
        orderSubmitted(id, 'SHFE.rb2505', 'BUY', 1, 3500),
        orderAccepted(id, 'SHFE.rb2505'),
        orderFilled(id, 'SHFE.rb2505', 'BUY', 1, 3500 + (i % 7), 1, 0),
      );
      s.order(orderDenied(`d-${i}`, 'SHFE.rb2505', 'RATE_LIMIT_EXCEEDED', 'too fast', { event_id: `risk-${i}` }));
      // 3 terminal orders + 2 denials (+ d- orders, terminal too) + 1 position, at most 16 keys each.
      if (i % 500 === 0) expect(s.session.pendingValueCount()).toBeLessThanOrEqual((3 + 2 + 1) * 16);
    }
    const wire = JSON.stringify(s.peek());
    expect(wire.length).toBeLessThan(4000);
    expect(JSON.parse(wire).data[0].trade[ACCOUNT].positions['SHFE.rb2505']).toMatchObject({ net: 5000, volume_long: 5000 });
  });
});
