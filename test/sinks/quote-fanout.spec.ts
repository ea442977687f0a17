import { describe, expect, it } from 'vitest';
import { QuoteBook } from '../../protocols/diff/quote-book.js';
import type { QuoteDiff } from '../../schemas/generated.js';
import { ActionSession } from '../../sinks/websocket/action-session.js';
import { DiffSession } from '../../sinks/websocket/diff-session.js';
import { FeedBoard } from '../../sinks/websocket/feed-board.js';
import { QuoteFanout } from '../../sinks/websocket/quote-fanout.js';
import { firstQuote, laterQuote } from '../support/websocket-harness.js';

const RB = 'SHFE.rb2501';
const M = 'DCE.m2505';
const CU = 'SHFE.cu2501';

function setup(history?: number) {
  const book = new QuoteBook();
  const fanout = new QuoteFanout(book, history);
  const feeds = new FeedBoard();
  const apply = (diff: QuoteDiff): void => {
    const change = book.apply(diff);
    if (change !== undefined) fanout.changed(change);
  };
  for (const [i, id] of [RB, M, CU].entries()) apply(firstQuote(id, 3500 + i));
  /** A DIFF client past its snapshot, subscribed to `insList`, with a peek held. */
  const client = (insList: string): DiffSession => {
    const session = new DiffSession(fanout, feeds);
    session.subscribeQuote(insList, 10);
    session.peekMessage();
    session.takeMessage();
    session.peekMessage();
    return session;
  };
  return { book, fanout, apply, client };
}

describe('QuoteFanout', () => {
  it('encodes a change once for every client in the same position: 1,000 clients of one subscription get the same frame', () => {
    const s = setup();
    const clients = Array.from({ length: 1000 }, (_, i) => s.client(i % 2 === 0 ? `${RB},${M}` : `${M},${RB}`));
    s.apply(laterQuote(RB, 2, { last_price: 3601 }));
    const frames = clients.map((c) => c.takeMessage());
    // Text for the first, then one Buffer for the other 999.
    expect(new Set(frames.slice(1)).size).toBe(1);
    expect(Buffer.isBuffer(frames[1])).toBe(true);
    expect(String(frames[1])).toBe(frames[0]);
    expect(JSON.parse(String(frames[0]))).toEqual({
      aid: 'rtn_data',
      data: [{ quotes: { [RB]: { last_price: 3601, datetime: '2025-01-02 21:00:01.000000' } } }],
    });
    // A client of another subscription that the change touches gets its own frame; one it does not touch, none.
    const other = s.client(`${RB},${CU}`);
    const untouched = s.client(CU);
    s.apply(laterQuote(RB, 3, { last_price: 3602 }));
    expect(JSON.parse(String(other.takeMessage())).data[0].quotes).toEqual({
      [RB]: { last_price: 3602, datetime: '2025-01-02 21:00:01.500000' },
    });
    expect(untouched.takeMessage()).toBeUndefined();
  });

  it('holds one merged patch per instrument and epoch, whatever the clients: a client that never peeks costs nothing per change', () => {
    const s = setup(4);
    const idle = Array.from({ length: 100 }, () => s.client(`${RB},${M}`));
    const busy = s.client(`${RB},${M}`);
    for (let seq = 2; seq <= 2001; seq++) {
      s.apply(laterQuote(seq % 2 === 0 ? RB : M, seq, { last_price: 3000 + (seq % 97), volume: 12_000 + seq }));
      if (seq % 10 === 0) {
        busy.takeMessage();
        busy.peekMessage();
      }
      // Kept: 4 sealed epochs and the open one, 2 instruments, 3 values (last_price, volume, datetime) each.
      expect(s.fanout.retainedValueCount()).toBeLessThanOrEqual(5 * 2 * 3 + 3 * 40);
      expect(idle[0]?.pendingValueCount()).toBe(0);
    }
    // Far behind the kept epochs, the idle clients get the complete quotes: every key, the latest values.
    const frame = JSON.parse(String(idle[0]?.takeMessage())) as { data: [{ quotes: Record<string, Record<string, unknown>> }] };
    expect(frame.data[0].quotes[RB]).toMatchObject({ last_price: s.book.quote(RB)?.['last_price'], volume: 14_000, ask_price5: null });
    expect(frame.data[0].quotes[M]).toMatchObject({ volume: 14_001 });
  });

  it('forgets a subscription when its last session lets go', () => {
    const s = setup();
    const a = s.client(`${RB},${M}`);
    const b = s.client(`${M},${RB}`);
    const subscription = s.fanout.subscribe([RB, M]);
    expect(subscription.holders).toBe(3);
    a.dispose();
    b.dispose();
    s.fanout.release(subscription);
    expect(s.fanout.subscribe([M, RB])).not.toBe(subscription);
  });

  it('serves the action protocol the same way: one market_data message per change of an instrument, shared', () => {
    const s = setup();
    const sessions = [new ActionSession(s.fanout), new ActionSession(s.fanout)];
    for (const session of sessions) {
      session.subscribe([RB], 10);
      while (session.takeMarketData() !== undefined);
    }
    s.apply(laterQuote(RB, 2, { last_price: 3701 }));
    const [first, second] = sessions.map((session) => session.takeMarketData());
    expect(first).toBe(second);
    expect(JSON.parse(String(first))).toMatchObject({ action: 'market_data', instrument_id: RB, quote: { last_price: 3701 } });
  });
});
