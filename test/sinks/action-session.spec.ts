import { describe, expect, it } from 'vitest';
import { ActionSession } from '../../sinks/websocket/action-session.js';
import { QuoteBook } from '../../protocols/diff/quote-book.js';
import { firstQuote, laterQuote } from '../support/websocket-harness.js';

function setup() {
  const book = new QuoteBook();
  for (const id of ['SHFE.rb2501', 'SHFE.rb2505', 'DCE.m2505']) book.apply(firstQuote(id, 3500));
  return { book, session: new ActionSession(book) };
}

describe('ActionSession', () => {
  it('subscribes known instruments, reports unknown ones, and queues the current quote of each', () => {
    const { session } = setup();
    expect(session.subscribe(['SHFE.rb2501', 'CFFEX.IF2501', 'SHFE.rb2501'], 10)).toEqual({
      action: 'subscribed',
      instruments: ['SHFE.rb2501'],
      unknown: ['CFFEX.IF2501'],
      count: 1,
    });
    const pushed = session.takeMarketData();
    expect(pushed).toMatchObject({
      action: 'market_data',
      instrument_id: 'SHFE.rb2501',
      quote: { last_price: 3500, close: null, bid_price5: null },
    });
    expect(session.takeMarketData()).toBeUndefined();
  });

  it('coalesces many changes of an instrument into one push of its latest quote', () => {
    const { book, session } = setup();
    session.subscribe(['SHFE.rb2501', 'DCE.m2505'], 10);
    while (session.takeMarketData() !== undefined);
    for (let seq = 2; seq < 1000; seq++) {
      const change = book.apply(laterQuote(seq % 2 === 0 ? 'SHFE.rb2501' : 'DCE.m2505', seq, { last_price: 3000 + seq }));
      if (change !== undefined) session.quoteChanged(change.instrumentId);
    }
    const pushes = [session.takeMarketData(), session.takeMarketData(), session.takeMarketData()];
    expect(pushes.map((p) => p?.quote['last_price'])).toEqual([3998, 3999, undefined]);
  });

  it('refuses a subscription over the limit without applying any of it', () => {
    const { session } = setup();
    session.subscribe(['SHFE.rb2501'], 2);
    expect(session.subscribe(['SHFE.rb2505', 'DCE.m2505'], 2)).toMatchObject({ code: 'TOO_MANY_SUBSCRIPTIONS' });
    expect([...session.subscriptions]).toEqual(['SHFE.rb2501']);
  });

  it('unsubscribes, lists and searches', () => {
    const { session } = setup();
    session.subscribe(['SHFE.rb2501', 'DCE.m2505'], 10);
    expect(session.unsubscribe(['DCE.m2505', 'SHFE.rb2505'])).toEqual({
      action: 'unsubscribed',
      instruments: ['DCE.m2505'],
      unknown: ['SHFE.rb2505'],
      count: 1,
    });
    expect(session.listInstruments()).toEqual({
      action: 'instruments',
      instruments: ['DCE.m2505', 'SHFE.rb2501', 'SHFE.rb2505'],
      count: 3,
    });
    expect(session.searchInstruments('RB*05')).toEqual({ action: 'instruments', instruments: ['SHFE.rb2505'], count: 1 });
  });
});
