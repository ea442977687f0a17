import { Subject, config, map, type Observable } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ProductSpec } from '../../../domain/product-table.js';
import { TradingSessions } from '../../../domain/trading-sessions.js';
import { paperVenue, type PaperVenueOptions } from '../../../operators/router/paper-venue.js';
import { paperVenueOperator } from '../../../operators/router/paper-venue-operator.js';
import { validateConfig } from '../../../pipeline/config/validate-config.js';
import { ConfigError } from '../../../errors/errors.js';
import { SchemaCatalog } from '../../../pipeline/schemas/schema-catalog.js';
import type { CancelOrder, OrderCommand, OrderEvent, SubmitOrder, Tick } from '../../../schemas/generated.js';
import { createTestScheduler } from '../../support/marbles.js';
import { makeTick } from '../../support/make-tick.js';
import { fromPlainIds, type PlainIds } from '../../support/plain-ids.js';
import { testContext } from '../../support/test-context.js';
import { validateComponentConfig } from '../../../pipeline/components/validate-component-config.js';

/** 2025-01-02 21:00:00 +08:00, a Thursday night session: trading day 20250103. */
const T0 = makeTick().ts_event;
const HOUR = 3_600_000_000;
const at = (frame: number): number => frame * 1000;

/** A quote of SHFE.rb2501 (bid 3499 x 10, ask 3500 x 12 unless changed). */
const quote = (changes: Partial<PlainIds<Tick>> = {}): Tick => makeTick(changes);

/** A SubmitOrder the router has routed to `paper`: buy 2 rb2501 GFD at 3500 unless changed. */
function order(id: string, changes: Partial<PlainIds<SubmitOrder>> = {}): SubmitOrder {
  return fromPlainIds<SubmitOrder>({
    type: 'SubmitOrder',
    command_id: `cmd-${id}`,
    client_order_id: id,
    strategy_id: 'ma',
    account_id: 'ACC1',
    instrument_id: 'SHFE.rb2501',
    side: 'BUY',
    order_type: 'LIMIT',
    time_in_force: 'GFD',
    position_effect: 'OPEN',
    quantity: 2,
    price: 3500,
    venue: 'paper',
    ts_init: T0,
    causation_id: null,
    ...changes,
  });
}

function cancel(id: string, changes: Partial<PlainIds<CancelOrder>> = {}): CancelOrder {
  return fromPlainIds<CancelOrder>({
    type: 'CancelOrder',
    command_id: `cmd-cancel-${id}`,
    client_order_id: id,
    strategy_id: 'ma',
    account_id: 'ACC1',
    instrument_id: 'SHFE.rb2501',
    venue: 'paper',
    ts_init: T0,
    causation_id: null,
    ...changes,
  });
}

/** A report in one line: what happened to which order, with the figures that matter. */
function summary(e: OrderEvent): string {
  switch (e.type) {
    case 'OrderAccepted':
      return `accepted ${e.client_order_id}`;
    case 'OrderRejected':
      return `rejected ${e.client_order_id}: ${e.reason}`;
    case 'OrderFilled':
      return `filled ${e.client_order_id} ${e.last_quantity}@${e.last_price} cum ${e.cum_quantity} leaves ${e.leaves_quantity}`;
    case 'OrderCanceled':
      return `canceled ${e.client_order_id} after ${e.filled_quantity}`;
    case 'OrderExpired':
      return `expired ${e.client_order_id} after ${e.filled_quantity}`;
    case 'OrderCancelRejected':
      return `cancel rejected ${e.client_order_id}: ${e.reason}`;
    default:
      return `${e.type} ${e.client_order_id}`;
  }
}

/** The problems of the ConfigError `f` throws, joined as the venue joins them. */
function problemsOf(f: () => unknown): string {
  try {
    f();
  } catch (error: unknown) {
    return (error as ConfigError).problems.join('; ');
  }
  throw new Error('expected a ConfigError');
}

const ids = (id: string, n: number) => ({
  event_id: `paper-event-${n}`,
  client_order_id: id,
  strategy_id: 'ma',
  account_id: 'ACC1',
  instrument_id: 'SHFE.rb2501',
});

describe('paperVenue', () => {
  let scheduler: TestScheduler;
  let options: PaperVenueOptions;
  /** Errors RxJS would have thrown as uncaught exceptions. */
  let uncaught: unknown[];
  beforeEach(() => {
    scheduler = createTestScheduler();
    options = { scheduler };
    uncaught = [];
    config.onUnhandledError = (error) => uncaught.push(error);
  });
  afterEach(() => {
    config.onUnhandledError = null;
  });

  const venue = (
    commands: Observable<OrderCommand>,
    ticks: Observable<Tick>,
    extra: Partial<PaperVenueOptions> = {},
  ): Observable<OrderEvent> => paperVenue({ ...options, ...extra })({ commands, ticks });
  const summarized = (
    commands: Observable<OrderCommand>,
    ticks: Observable<Tick>,
    extra: Partial<PaperVenueOptions> = {},
  ): Observable<string> => venue(commands, ticks, extra).pipe(map(summary));

  it('emits nothing for never', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold<OrderCommand>('-');
      const e2 = cold<Tick>('        -');
      const e1subs = '               ^';
      const expected = '             -';
      expectObservable(venue(e1, e2)).toBe(expected);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
      expectSubscriptions(e2.subscriptions).toBe(e1subs);
    });
  });

  it('completes when commands and ticks are empty', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold<OrderCommand>('|');
      const e2 = cold<Tick>('        |');
      const e1subs = '               (^!)';
      const expected = '             |';
      expectObservable(venue(e1, e2)).toBe(expected);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
      expectSubscriptions(e2.subscriptions).toBe(e1subs);
    });
  });

  it('acknowledges and fills one order that crosses at once, with every field right', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const e2 = hot('   a-----', { a: quote() });
      const e1 = hot('   --s---', { s: order('o1') });
      const expected = ' --(AF)';
      expectObservable(venue(e1, e2)).toBe(expected, {
        A: {
          type: 'OrderAccepted',
          ...ids('o1', 1),
          venue_order_id: 'paper-order-1',
          ts_event: at(2),
          ts_init: at(2),
          causation_id: 'cmd-o1',
        },
        F: {
          type: 'OrderFilled',
          ...ids('o1', 2),
          venue_order_id: 'paper-order-1',
          trade_id: 'paper-1',
          side: 'BUY',
          last_quantity: 2,
          last_price: 3500,
          cum_quantity: 2,
          leaves_quantity: 0,
          ts_event: at(2),
          ts_init: at(2),
          causation_id: 'cmd-o1',
        },
      });
    });
  });

  it('rests a limit order until the quote crosses, fills at the quote’s price, then cancels the rest', () => {
    const ticks = { a: quote({ ask_price1: 3501 }), b: quote({ ask_price1: 3499, ask_volume1: 1, ts_event: T0 + 500_000 }) };
    scheduler.run(({ hot, expectObservable }) => {
      const e2 = hot('   -a----b------', ticks);
      const e1 = hot('   --s-------c--', { s: order('o1'), c: cancel('o1') });
      const expected = ' --A---F---X--';
      expectObservable(venue(e1, e2)).toBe(expected, {
        A: {
          type: 'OrderAccepted',
          ...ids('o1', 1),
          venue_order_id: 'paper-order-1',
          ts_event: at(2),
          ts_init: at(2),
          causation_id: 'cmd-o1',
        },
        // A tick's fill carries the tick's event time.
        F: {
          type: 'OrderFilled',
          ...ids('o1', 2),
          venue_order_id: 'paper-order-1',
          trade_id: 'paper-1',
          side: 'BUY',
          last_quantity: 1,
          last_price: 3499,
          cum_quantity: 1,
          leaves_quantity: 1,
          ts_event: T0 + 500_000,
          ts_init: at(6),
          causation_id: 'cmd-o1',
        },
        X: {
          type: 'OrderCanceled',
          ...ids('o1', 3),
          venue_order_id: 'paper-order-1',
          filled_quantity: 1,
          ts_event: at(10),
          ts_init: at(10),
          causation_id: 'cmd-cancel-o1',
        },
      });
    });
  });

  it('fills a sell limit when bid1 reaches the limit', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const e2 = hot('   a--b-', { a: quote(), b: quote({ bid_price1: 3502, bid_volume1: 3 }) });
      const e1 = hot('   -s---', { s: order('o1', { side: 'SELL', price: 3501 }) });
      const expected = ' -a-f-';
      expectObservable(summarized(e1, e2)).toBe(expected, { a: 'accepted o1', f: 'filled o1 2@3502 cum 2 leaves 0' });
    });
  });

  it('fills a market order at the opposite best price, and never rests what is left', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const e2 = hot('   a-------', { a: quote() });
      const e1 = hot('   -s----t-', {
        s: order('o1', { side: 'SELL', order_type: 'MARKET', price: null, quantity: 4 }),
        t: order('o2', { order_type: 'MARKET', price: null, quantity: 15 }),
      });
      const expected = ' -(ab)-(cde)';
      expectObservable(summarized(e1, e2)).toBe(expected, {
        a: 'accepted o1',
        b: 'filled o1 4@3499 cum 4 leaves 0',
        c: 'accepted o2',
        d: 'filled o2 12@3500 cum 12 leaves 3',
        e: 'canceled o2 after 12',
      });
    });
  });

  it('cancels a market order when the opposite side of the book is empty', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const e2 = hot('   a---', { a: quote({ ask_price1: null, ask_volume1: 0 }) });
      const e1 = hot('   -s--', { s: order('o1', { order_type: 'MARKET', price: null }) });
      expectObservable(summarized(e1, e2)).toBe('-(ab)', { a: 'accepted o1', b: 'canceled o1 after 0' });
    });
  });

  it('FAK: fills what the quote holds at once and cancels the rest', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const e2 = hot('   a-----b', { a: quote(), b: quote({ ask_volume1: 100 }) });
      const e1 = hot('   -s-----', { s: order('o1', { time_in_force: 'FAK', quantity: 20, price: 3501 }) });
      const expected = ' -(abc)-';
      expectObservable(summarized(e1, e2)).toBe(expected, {
        a: 'accepted o1',
        b: 'filled o1 12@3500 cum 12 leaves 8',
        c: 'canceled o1 after 12',
      });
    });
  });

  it('FOK: fills completely at once or is canceled without a fill', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const e2 = hot('   a-------', { a: quote() });
      const e1 = hot('   -s---t--', {
        s: order('o1', { time_in_force: 'FOK', quantity: 13 }),
        t: order('o2', { time_in_force: 'FOK', quantity: 12 }),
      });
      const expected = ' -(ab)(cd)';
      expectObservable(summarized(e1, e2)).toBe(expected, {
        a: 'accepted o1',
        b: 'canceled o1 after 0',
        c: 'accepted o2',
        d: 'filled o2 12@3500 cum 12 leaves 0',
      });
    });
  });

  it('limits fills to the quoted volume at the best level, shared by the orders of one tick and refreshed by the next', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const e2 = hot('   a---------b-', { a: quote(), b: quote({ ask_volume1: 3, ts_event: T0 + 500_000 }) });
      const e1 = hot('   -s---t------', { s: order('o1', { quantity: 8 }), t: order('o2', { quantity: 8 }) });
      const expected = ' -(ab)(cd)-e-';
      expectObservable(summarized(e1, e2)).toBe(expected, {
        a: 'accepted o1',
        b: 'filled o1 8@3500 cum 8 leaves 0',
        c: 'accepted o2',
        d: 'filled o2 4@3500 cum 4 leaves 4',
        e: 'filled o2 3@3500 cum 7 leaves 1',
      });
    });
  });

  it('fills resting orders in price-time priority: the highest buy first, then the earliest at a price', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const e2 = hot('   a------b-', {
        a: quote({ ask_price1: 3505 }),
        b: quote({ ask_price1: 3500, ask_volume1: 4, ts_event: T0 + 500_000 }),
      });
      const e1 = hot('   -stuv----', {
        s: order('o1', { price: 3500 }),
        t: order('o2', { price: 3501 }),
        u: order('o3', { price: 3500 }),
        v: order('o4', { price: 3499 }),
      });
      // 4 lots at 3500: o2 (best limit) takes 2, then o1 (earlier than o3 at the same limit) 2; o3 gets nothing, o4 does not cross.
      const expected = ' -abcd--(ef)';
      expectObservable(summarized(e1, e2)).toBe(expected, {
        a: 'accepted o1',
        b: 'accepted o2',
        c: 'accepted o3',
        d: 'accepted o4',
        e: 'filled o2 2@3500 cum 2 leaves 0',
        f: 'filled o1 2@3500 cum 2 leaves 0',
      });
    });
  });

  it('fills any quantity at the best price when partial fills are off', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const e2 = hot('   a----', { a: quote() });
      const e1 = hot('   -s---', { s: order('o1', { quantity: 50, time_in_force: 'FOK' }) });
      expectObservable(summarized(e1, e2, { partialFills: false })).toBe('-(ab)', {
        a: 'accepted o1',
        b: 'filled o1 50@3500 cum 50 leaves 0',
      });
    });
  });

  it('executes commands latencyMs later, in arrival order, against the quote of that moment', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const e2 = hot('   a-b--c----', {
        a: quote(),
        b: quote({ ask_price1: 3501, ts_event: T0 + 500_000 }),
        c: quote({ ts_event: T0 + 1_000_000 }),
      });
      const e1 = hot('   -s-c------', { s: order('o1', { quantity: 1 }), c: cancel('o1') });
      // Sent at 1 and 3, they arrive at 4 and 6. The quote crossed when the order left but not when it arrives,
      // so it rests; the tick at 5 fills it before the cancel arrives.
      const expected = ' ----afc---';
      expectObservable(summarized(e1, e2, { latencyMs: 3 })).toBe(expected, {
        a: 'accepted o1',
        f: 'filled o1 1@3500 cum 1 leaves 0',
        c: 'cancel rejected o1: order o1 is already FILLED',
      });
    });
  });

  it('completes only once the commands in flight have arrived', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const e2 = cold('  a|', { a: quote() });
      const e1 = cold('  -s|', { s: order('o1') });
      expectObservable(summarized(e1, e2, { latencyMs: 3 })).toBe('----(ab|)', { a: 'accepted o1', b: 'filled o1 2@3500 cum 2 leaves 0' });
    });
  });

  it('expires resting GFD orders at the first tick of a later trading day, not after midnight within one', () => {
    const ticks = {
      a: quote({ ask_price1: 3505 }),
      // 00:30 Friday: still the night session of trading day 20250103.
      b: quote({ ask_price1: 3505, ts_event: T0 + 3.5 * HOUR }),
      // 09:00 Friday: the day session of the same trading day.
      c: quote({ ask_price1: 3505, ts_event: T0 + 12 * HOUR }),
      // 21:00 Friday: Friday night belongs to Monday, 20250106.
      d: quote({ ask_price1: 3499, ts_event: T0 + 24 * HOUR }),
    };
    scheduler.run(({ hot, expectObservable }) => {
      const e2 = hot('   a--b-c--d-', ticks);
      const e1 = hot('   -s--------', { s: order('o1') });
      const expected = ' -a------e-';
      const reports = venue(e1, e2);
      expectObservable(reports.pipe(map(summary))).toBe(expected, { a: 'accepted o1', e: 'expired o1 after 0' });
      expectObservable(reports.pipe(map((r) => r.ts_event))).toBe(expected, { a: at(1), e: T0 + 24 * HOUR });
    });
  });

  it('answers a cancel of a resting order with OrderCanceled, of a closed or unknown one with OrderCancelRejected', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const e2 = hot('   a--------', { a: quote({ ask_price1: 3505 }) });
      const e1 = hot('   -s-c-c-u-', { s: order('o1'), c: cancel('o1'), u: cancel('o9') });
      const expected = ' -a-x-y-z-';
      expectObservable(summarized(e1, e2)).toBe(expected, {
        a: 'accepted o1',
        x: 'canceled o1 after 0',
        y: 'cancel rejected o1: order o1 is already CANCELED',
        z: 'cancel rejected o9: order o9 is unknown to venue paper',
      });
    });
  });

  it('remembers the last 10,000 closed orders for cancels, forgetting the oldest first', () => {
    scheduler.run(() => {
      const commands = new Subject<OrderCommand>();
      const ticks = new Subject<Tick>();
      const seen: string[] = [];
      venue(commands, ticks).subscribe((report) => seen.push(summary(report)));
      ticks.next(quote({ ask_price1: 3505 }));
      // Closed orders: one rejected, then 10,000 FAK orders that find nothing and are canceled.
      commands.next(order('r', { quantity: 0 }));
      for (let i = 0; i < 10_000; i++) commands.next(order(`k${i}`, { time_in_force: 'FAK' }));
      commands.next(cancel('r'));
      commands.next(cancel('k0'));
      commands.next(cancel('k9999'));
      expect(seen.slice(-3)).toEqual([
        'cancel rejected r: order r is unknown to venue paper',
        'cancel rejected k0: order k0 is already CANCELED',
        'cancel rejected k9999: order k9999 is already CANCELED',
      ]);
    });
  });

  it('rejects orders without a quote, of unknown instruments, with an invalid price or quantity, or a used order id', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const e2 = hot('   --a------', { a: quote() });
      const e1 = hot('   -s-uvwxy---z', {
        s: order('o1'),
        u: order('o2', { instrument_id: 'SHFE.zz2501' }),
        v: order('o3', { price: 3500.5 }),
        w: order('o4', { quantity: 0 }),
        x: order('o5', { price: null }),
        y: order('o6'),
        z: order('o6'),
      });
      const expected = ' -a-bcde(fg)h';
      expectObservable(summarized(e1, e2)).toBe(expected, {
        a: 'rejected o1: no quote for SHFE.rb2501 yet',
        b: `rejected o2: unknown instrument SHFE.zz2501: ${problemsOf(() => new TradingSessions().productOf('SHFE.zz2501'))}`,
        c: 'rejected o3: price 3500.5 is not a multiple of the tick size 1 of SHFE.rb2501',
        d: 'rejected o4: quantity must be a positive whole number of lots, got 0',
        e: 'rejected o5: a limit order needs a positive price, got null',
        f: 'accepted o6',
        g: 'filled o6 2@3500 cum 2 leaves 0',
        h: 'rejected o6: client order id o6 of strategy ma is already in use',
      });
    });
  });

  it('keeps only the commands routed to its venue', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const e2 = hot('   a----', { a: quote() });
      const e1 = hot('   -stu-', {
        s: order('o1', { venue: 'kafka' }),
        t: order('o2', { venue: null }),
        u: order('o3', { venue: 'paper-b' }),
      });
      expectObservable(summarized(e1, e2, { venue: 'paper-b' })).toBe('---(ab)', {
        a: 'accepted o3',
        b: 'filled o3 2@3500 cum 2 leaves 0',
      });
    });
  });

  it('passes an error through and stops the latency timer', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const e2 = hot('   a----', { a: quote() });
      const e1 = cold('  -s#', { s: order('o1') }, new Error('router failed'));
      const e1subs = '   ^-!';
      const expected = ' --#';
      expectObservable(summarized(e1, e2, { latencyMs: 5 })).toBe(expected, undefined, new Error('router failed'));
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
      expectSubscriptions(e2.subscriptions).toBe(e1subs);
    });
    // Virtual time ends at the error: the delivery due at 6 did not outlive it.
    expect(scheduler.now()).toBe(2);
  });

  it('follows sources that never end, and stops the latency timer when unsubscribed early', () => {
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const e2 = hot('   a------', { a: quote({ ask_price1: 3505 }) });
      const e1 = hot('   -s-t---', { s: order('o1'), t: order('o2') });
      const unsub = '    ----!  ';
      const e1subs = '   ^---!  ';
      const expected = ' ---a-  ';
      expectObservable(summarized(e1, e2, { latencyMs: 2 }), unsub).toBe(expected, { a: 'accepted o1' });
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
      expectSubscriptions(e2.subscriptions).toBe(e1subs);
    });
    expect(scheduler.now()).toBe(4);
  });

  it('fails the stream when the trading calendar throws something other than an unknown instrument', () => {
    const broken = new Error('calendar broke');
    class BrokenSessions extends TradingSessions {
      override tradingDay(): string {
        throw broken;
      }
    }
    scheduler.run(({ hot, expectObservable }) => {
      const e2 = hot('   -a-', { a: quote() });
      const e1 = hot<OrderCommand>('---');
      expectObservable(venue(e1, e2, { sessions: new BrokenSessions() })).toBe('-#', undefined, broken);
    });
  });

  it('fails the stream when the calendar throws inside the latency timer, after the reports of the commands it executed before', () => {
    const broken = new Error('calendar broke');
    class BrokenForSoybeanMeal extends TradingSessions {
      override productOf(instrumentId: string): ProductSpec {
        if (instrumentId === 'DCE.m2501') throw broken;
        return super.productOf(instrumentId);
      }
    }
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const e2 = hot('   a------', { a: quote() });
      const e1 = hot('   -(st)--', { s: order('o1'), t: order('o2', { instrument_id: 'DCE.m2501' }) });
      const e1subs = '   ^--!';
      // Both arrive at 3: o1 is acknowledged and filled, then the calendar fails on o2.
      const expected = ' ---(ab#)';
      expectObservable(summarized(e1, e2, { latencyMs: 2, sessions: new BrokenForSoybeanMeal() })).toBe(
        expected,
        { a: 'accepted o1', b: 'filled o1 2@3500 cum 2 leaves 0' },
        broken,
      );
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
      expectSubscriptions(e2.subscriptions).toBe(e1subs);
    });
    expect(uncaught).toEqual([]);
  });

  it('keeps reports in the order they happened when a consumer cancels from inside next', () => {
    scheduler.run(() => {
      const commands = new Subject<OrderCommand>();
      const ticks = new Subject<Tick>();
      const seen: string[] = [];
      venue(commands, ticks).subscribe((report) => {
        seen.push(summary(report));
        // Cancels as soon as it hears of the acknowledgement, before the fill that came with it is out.
        if (report.type === 'OrderAccepted') commands.next(cancel(report.client_order_id));
      });
      ticks.next(quote({ ask_volume1: 1 }));
      commands.next(order('o1'));
      expect(seen).toEqual(['accepted o1', 'filled o1 1@3500 cum 1 leaves 1', 'canceled o1 after 1']);
    });
  });

  it('writes only records valid for the OrderEvent schema', () => {
    const codec = SchemaCatalog.default().codec('OrderEvent');
    const reports: OrderEvent[] = [];
    scheduler.run(({ hot }) => {
      const e2 = hot('   a--b---d', {
        a: quote(),
        b: quote({ ask_price1: 3490, bid_price1: 3489 }),
        d: quote({ ts_event: T0 + 24 * HOUR }),
      });
      const e1 = hot('   -stuvwx-', {
        s: order('o1', { time_in_force: 'FAK', quantity: 20 }),
        t: order('o2', { price: 3480 }),
        u: order('o3', { instrument_id: 'DCE.m2501' }),
        v: order('o4', { price: 3495, quantity: 50 }),
        w: cancel('o2'),
        x: cancel('o1'),
      });
      venue(e1, e2).subscribe((r) => reports.push(r));
    });
    expect(new Set(reports.map((r) => r.type))).toEqual(
      new Set(['OrderAccepted', 'OrderFilled', 'OrderCanceled', 'OrderRejected', 'OrderCancelRejected', 'OrderExpired']),
    );
    for (const report of reports) expect(codec.check(report), summary(report)).toBeUndefined();
  });

  it('rejects options it cannot honour', () => {
    expect(() => paperVenue({ latencyMs: -1 })).toThrow(ConfigError);
    expect(() => paperVenue({ venue: '', latencyMs: Number.NaN })).toThrow(/2 problems/);
  });
});

describe('paperVenueOperator', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = createTestScheduler();
  });

  it('fills documented defaults and rejects unknown fields and negative latency', () => {
    expect(validateConfig('venue', paperVenueOperator.spec, {})).toEqual({ venue: 'paper', latency_ms: 0, partial_fills: true });
    expect(() => validateConfig('venue', paperVenueOperator.spec, { latency: 1 })).toThrow(/unknown field 'latency'/);
    expect(() => validateConfig('venue', paperVenueOperator.spec, { latency_ms: -1 })).toThrow(ConfigError);
  });

  it('runs on the context scheduler with its configured venue and latency', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const ctx = testContext(scheduler, paperVenueOperator, { stage: 'paper' });
      const config = validateConfig('paper', paperVenueOperator.spec, { venue: 'paper2', latency_ms: 2, partial_fills: false });
      const stage = paperVenueOperator.create(config, ctx);
      const e2 = hot('   a----', { a: quote() });
      const e1 = hot('   -st--', { s: order('o1', { venue: 'paper2', quantity: 40 }), t: order('o2') });
      expectObservable(stage({ commands: e1, ticks: e2 }).pipe(map(summary))).toBe('---(ab)', {
        a: 'accepted o1',
        b: 'filled o1 40@3500 cum 40 leaves 0',
      });
    });
  });

  it('names the stage when the venue is empty, by its definition', () => {
    expect(() => validateComponentConfig(paperVenueOperator, { venue: '' }, {}, "stage 'paper' (paper-venue)")).toThrow(
      /stage 'paper' \(paper-venue\): 'venue' must not be empty/,
    );
  });
});
