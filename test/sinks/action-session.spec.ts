import { describe, expect, it } from 'vitest';
import { ActionSession } from '../../sinks/websocket/action-session.js';
import { QuoteBook, type QuoteChange } from '../../protocols/diff/quote-book.js';
import { QuoteFanout } from '../../sinks/websocket/quote-fanout.js';
import { firstQuote, laterQuote } from '../support/websocket-harness.js';

function setup() {
  const book = new QuoteBook();
  const fanout = new QuoteFanout(book);
  for (const id of ['SHFE.rb2501', 'SHFE.rb2505', 'DCE.m2505']) fanout.changed(book.apply(firstQuote(id, 3500)) as QuoteChange);
  return { book, fanout, session: new ActionSession(fanout) };
}

/** The market_data message a session took, parsed as the client parses it. */
function parsed(frame: Buffer | undefined): { action: string; instrument_id: string; quote: Record<string, unknown> } | undefined {
  return frame === undefined ? undefined : (JSON.parse(frame.toString('utf8')) as never);
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
    const pushed = parsed(session.takeMarketData());
    expect(pushed).toMatchObject({
      action: 'market_data',
      instrument_id: 'SHFE.rb2501',
      quote: { last_price: 3500, close: null, bid_price5: null },
    });
    expect(session.takeMarketData()).toBeUndefined();
  });

  it('coalesces many changes of an instrument into one push of its latest quote', () => {
    const { book, fanout, session } = setup();
    session.subscribe(['SHFE.rb2501', 'DCE.m2505'], 10);
    while (session.takeMarketData() !== undefined);
    for (let seq = 2; seq < 1000; seq++) {
      const change = book.apply(laterQuote(seq % 2 === 0 ? 'SHFE.rb2501' : 'DCE.m2505', seq, { last_price: 3000 + seq }));
      if (change !== undefined) fanout.changed(change);
      // Flushes in between (another client took its changes) seal epochs: the session still sends each instrument once.
      if (seq % 100 === 0) fanout.seal();
    }
    const pushes = [parsed(session.takeMarketData()), parsed(session.takeMarketData()), parsed(session.takeMarketData())];
    expect(Object.fromEntries(pushes.slice(0, 2).map((p) => [p?.instrument_id, p?.quote['last_price']]))).toEqual({
      'SHFE.rb2501': 3998,
      'DCE.m2505': 3999,
    });
    expect(pushes[2]).toBeUndefined();
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
