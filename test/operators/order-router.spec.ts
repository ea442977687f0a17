import fc from 'fast-check';
import { pino } from 'pino';
import { Subject, config, tap, type Observable } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nextOrderStatus, type OrderStatus } from '../../domain/order-state-machine.js';
import { orderRouter, type OrderRouterOptions } from '../../operators/order-router.js';
import { orderRouterOperator } from '../../operators/order-router-operator.js';
import { paperVenue } from '../../operators/router/paper-venue.js';
import { VenueRoutes } from '../../operators/router/venue-routes.js';
import { validateConfig } from '../../pipeline/config/validate-config.js';
import { ConfigError } from '../../errors/errors.js';
import { StageMetrics } from '../../pipeline/runtime/stage-metrics.js';
import { SchemaCatalog } from '../../pipeline/schemas/schema-catalog.js';
import {
  AccountId,
  ClientOrderId,
  InstrumentId,
  StrategyId,
  type CancelOrder,
  type OrderAccepted,
  type OrderCancelRejected,
  type OrderCanceled,
  type OrderCommand,
  type OrderEvent,
  type OrderFilled,
  type OrderPendingCancel,
  type OrderSubmitted,
  type SubmitOrder,
  type Tick,
} from '../../schemas/generated.js';
import { createTestScheduler } from '../support/marbles.js';
import { makeTick } from '../support/make-tick.js';
import { fromPlainIds, type PlainIds } from '../support/plain-ids.js';
import { testContext } from '../support/test-context.js';
import { validateComponentConfig } from '../../pipeline/components/validate-component-config.js';

const T0 = makeTick().ts_event;
/** Virtual time is in milliseconds, one per frame; the router stamps its events in microseconds. */
const at = (frame: number): number => frame * 1000;

function submit(id: string, changes: Partial<PlainIds<SubmitOrder>> = {}): SubmitOrder {
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
    venue: null,
    ts_init: T0,
    causation_id: 'signal-1',
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
    venue: null,
    ts_init: T0,
    causation_id: null,
    ...changes,
  });
}

/** The fields every report about order `id` starts with. */
const about = (id: string, eventId: string) => ({
  event_id: eventId,
  client_order_id: ClientOrderId(id),
  strategy_id: StrategyId('ma'),
  account_id: AccountId('ACC1'),
  instrument_id: InstrumentId('SHFE.rb2501'),
});
const venueTimes = { ts_event: T0 + 1, ts_init: T0 + 2 };

// What a venue reports.
const accepted = (id: string): OrderAccepted => ({
  type: 'OrderAccepted',
  ...about(id, `v-a-${id}`),
  venue_order_id: `vo-${id}`,
  ...venueTimes,
  causation_id: `cmd-${id}`,
});
const filled = (id: string, trade: string, last: number, cum: number, leaves: number): OrderFilled => ({
  type: 'OrderFilled',
  ...about(id, `v-f-${trade}`),
  venue_order_id: `vo-${id}`,
  trade_id: trade,
  side: 'BUY',
  last_quantity: last,
  last_price: 3500,
  cum_quantity: cum,
  leaves_quantity: leaves,
  ...venueTimes,
  causation_id: `cmd-${id}`,
});
const canceled = (id: string, filledQuantity: number): OrderCanceled => ({
  type: 'OrderCanceled',
  ...about(id, `v-x-${id}`),
  venue_order_id: `vo-${id}`,
  filled_quantity: filledQuantity,
  ...venueTimes,
  causation_id: `cmd-cancel-${id}`,
});
const venueCancelRejected = (id: string): OrderCancelRejected => ({
  type: 'OrderCancelRejected',
  ...about(id, `v-r-${id}`),
  venue_order_id: `vo-${id}`,
  reason: 'too late',
  ...venueTimes,
  causation_id: `cmd-cancel-${id}`,
});

// What the router makes: event n of the run, at `frame`.
function submitted(id: string, frame: number, n: number, venue = 'paper', changes: Partial<PlainIds<SubmitOrder>> = {}): OrderSubmitted {
  const c = submit(id, changes);
  return {
    type: 'OrderSubmitted',
    ...about(id, `router-${n}`),
    account_id: c.account_id,
    instrument_id: c.instrument_id,
    venue,
    side: c.side,
    order_type: c.order_type,
    time_in_force: c.time_in_force,
    position_effect: c.position_effect,
    quantity: c.quantity,
    price: c.price,
    ts_event: at(frame),
    ts_init: at(frame),
    causation_id: c.command_id,
  };
}
const pendingCancel = (id: string, frame: number, n: number, venueOrderId: string | null = `vo-${id}`): OrderPendingCancel => ({
  type: 'OrderPendingCancel',
  ...about(id, `router-${n}`),
  venue_order_id: venueOrderId,
  ts_event: at(frame),
  ts_init: at(frame),
  causation_id: `cmd-cancel-${id}`,
});
const routerCancelRejected = (
  id: string,
  frame: number,
  n: number,
  reason: string,
  venueOrderId: string | null = null,
): OrderCancelRejected => ({
  type: 'OrderCancelRejected',
  ...about(id, `router-${n}`),
  venue_order_id: venueOrderId,
  reason,
  ts_event: at(frame),
  ts_init: at(frame),
  causation_id: `cmd-cancel-${id}`,
});
const routed = <C extends OrderCommand>(command: C, venue = 'paper'): C => ({ ...command, venue });

/** Log lines as objects, from a pino logger that writes into `lines`. */
function capturingLogger(lines: Record<string, unknown>[]) {
  return pino(
    { level: 'debug', base: undefined, timestamp: false },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
}

describe('orderRouter', () => {
  let scheduler: TestScheduler;
  let metrics: StageMetrics;
  let routedOut: Subject<OrderCommand>;
  let logLines: Record<string, unknown>[];
  let options: OrderRouterOptions;
  /** Errors RxJS would have thrown as uncaught exceptions. */
  let uncaught: unknown[];
  beforeEach(() => {
    scheduler = createTestScheduler();
    metrics = new StageMetrics('router', 'order-router', [1]);
    routedOut = new Subject<OrderCommand>();
    logLines = [];
    options = { scheduler, metrics, routed: routedOut, logger: capturingLogger(logLines) };
    uncaught = [];
    config.onUnhandledError = (error) => uncaught.push(error);
  });
  afterEach(() => {
    config.onUnhandledError = null;
  });

  const run = (
    commands: Observable<OrderCommand>,
    reports: Observable<OrderEvent>,
    extra: Partial<OrderRouterOptions> = {},
  ): Observable<OrderEvent> => orderRouter({ ...options, ...extra })({ commands, reports });

  it('emits nothing for never', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold<OrderCommand>('-');
      const e2 = cold<OrderEvent>('  -');
      const e1subs = '               ^';
      const expected = '             -';
      expectObservable(routedOut).toBe('-');
      expectObservable(run(e1, e2)).toBe(expected);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
      expectSubscriptions(e2.subscriptions).toBe(e1subs);
    });
  });

  it('completes when both commands and reports are empty, and not before both have completed', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold<OrderCommand>('|');
      const e2 = cold<OrderEvent>('  ---|');
      const e1subs = '               (^!)';
      const e2subs = '               ^--!';
      const expected = '             ---|';
      expectObservable(run(e1, e2)).toBe(expected);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
      expectSubscriptions(e2.subscriptions).toBe(e2subs);
    });
  });

  it('emits OrderSubmitted for one SubmitOrder, then routes it with its venue set', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  -s-|', { s: submit('o1') });
      const e2 = cold<OrderEvent>('---|');
      const expected = ' -S-|';
      const sent = '     -r--';
      expectObservable(routedOut).toBe(sent, { r: routed(submit('o1')) });
      expectObservable(run(e1, e2)).toBe(expected, { S: submitted('o1', 1, 1) });
    });
  });

  it('follows an order through accepted, partly filled and filled, emitting each report', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const e1 = hot('   -s-------', { s: submit('o1') });
      const e2 = hot('   ---a-p-f-', { a: accepted('o1'), p: filled('o1', 't1', 1, 1, 1), f: filled('o1', 't2', 1, 2, 0) });
      const expected = ' -S-a-p-f-';
      expectObservable(run(e1, e2)).toBe(expected, {
        S: submitted('o1', 1, 1),
        a: accepted('o1'),
        p: filled('o1', 't1', 1, 1, 1),
        f: filled('o1', 't2', 1, 2, 0),
      });
    });
    expect(metrics.droppedTotal).toBe(0);
  });

  it('keeps PENDING_CANCEL through a fill that raced the cancel request, then applies the cancel', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const e1 = hot('   -s--c-c---c', { s: submit('o1'), c: cancel('o1') });
      const e2 = hot('   --a---p-x--', { a: accepted('o1'), p: filled('o1', 't1', 1, 1, 1), x: canceled('o1', 1) });
      // The second cancel finds a cancel pending and is dropped; the last finds the order CANCELED.
      const expected = ' -Sa-P-p-x-R';
      const sent = '     -s--c------';
      expectObservable(routedOut).toBe(sent, { s: routed(submit('o1')), c: routed(cancel('o1')) });
      expectObservable(run(e1, e2)).toBe(expected, {
        S: submitted('o1', 1, 1),
        a: accepted('o1'),
        P: pendingCancel('o1', 4, 2),
        p: filled('o1', 't1', 1, 1, 1),
        x: canceled('o1', 1),
        R: routerCancelRejected('o1', 10, 3, 'order o1 is already CANCELED', 'vo-o1'),
      });
    });
    expect(Object.fromEntries(metrics.droppedByReason)).toEqual({ 'cancel-pending': 1 });
  });

  it('keeps PENDING_CANCEL when the venue’s acknowledgement arrives after the cancel request', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const e1 = hot('   -sc----', { s: submit('o1'), c: cancel('o1') });
      const e2 = hot('   ---a-x-', { a: accepted('o1'), x: canceled('o1', 0) });
      const expected = ' -SPa-x-';
      expectObservable(run(e1, e2)).toBe(expected, {
        S: submitted('o1', 1, 1),
        P: pendingCancel('o1', 2, 2, null),
        a: accepted('o1'),
        x: canceled('o1', 0),
      });
    });
    expect(metrics.droppedTotal).toBe(0);
  });

  it('applies a venue reject that overtook the cancel request, then the venue’s refusal of the cancel', () => {
    const rejected: OrderEvent = {
      type: 'OrderRejected',
      ...about('o1', 'v-j-o1'),
      reason: 'no quote',
      ...venueTimes,
      causation_id: 'cmd-o1',
    };
    const refused: OrderCancelRejected = { ...venueCancelRejected('o1'), venue_order_id: null, reason: 'order o1 is already REJECTED' };
    scheduler.run(({ hot, expectObservable }) => {
      const e1 = hot('   -sc---', { s: submit('o1'), c: cancel('o1') });
      const e2 = hot('   ---jr-', { j: rejected, r: refused });
      const expected = ' -SPjr-';
      expectObservable(run(e1, e2)).toBe(expected, {
        S: submitted('o1', 1, 1),
        P: pendingCancel('o1', 2, 2, null),
        j: rejected,
        r: refused,
      });
    });
    expect(metrics.droppedTotal).toBe(0);
  });

  it('answers a cancel of an unknown order with OrderCancelRejected and routes nothing', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  --u|', { u: cancel('o9') });
      const e2 = cold<OrderEvent>('---|');
      const expected = ' --R|';
      expectObservable(routedOut).toBe('----');
      expectObservable(run(e1, e2)).toBe(expected, {
        R: routerCancelRejected('o9', 2, 1, 'order o9 of strategy ma is unknown to the router'),
      });
    });
  });

  it('returns to ACCEPTED when the venue rejects the cancel, and cancels again on request', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const e1 = hot('   -s-c--c---', { s: submit('o1'), c: cancel('o1') });
      const e2 = hot('   --a--r---x', { a: accepted('o1'), r: venueCancelRejected('o1'), x: canceled('o1', 0) });
      const expected = ' -SaP-rQ--x';
      expectObservable(run(e1, e2)).toBe(expected, {
        S: submitted('o1', 1, 1),
        a: accepted('o1'),
        P: pendingCancel('o1', 3, 2),
        r: venueCancelRejected('o1'),
        Q: pendingCancel('o1', 6, 3),
        x: canceled('o1', 0),
      });
    });
  });

  it('reports an invalid transition at error with order, state and event, and neither applies nor emits it', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const e1 = hot('   -s------', { s: submit('o1') });
      const e2 = hot('   --afa-x-', { a: accepted('o1'), f: filled('o1', 't1', 2, 2, 0), x: canceled('o1', 0) });
      const expected = ' -Saf----';
      expectObservable(run(e1, e2)).toBe(expected, { S: submitted('o1', 1, 1), a: accepted('o1'), f: filled('o1', 't1', 2, 2, 0) });
    });
    expect(Object.fromEntries(metrics.droppedByReason)).toEqual({ 'invalid-transition': 2 });
    const errors = logLines.filter((l) => l['level'] === 50);
    expect(errors.map((l) => [l['order'], l['state'], l['event']])).toEqual([
      ['o1', 'FILLED', 'OrderAccepted'],
      ['o1', 'FILLED', 'OrderCanceled'],
    ]);
    expect(errors[0]?.['msg']).toMatch(/order o1: OrderAccepted is not valid in state FILLED/);
    expect((errors[0]?.['err'] as { type?: string } | undefined)?.type).toBe('InvalidStateTransitionError');
  });

  it('ignores a fill whose trade id the order already has', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const e1 = hot('   -s------', { s: submit('o1') });
      const e2 = hot('   --apPf--', {
        a: accepted('o1'),
        p: filled('o1', 't1', 1, 1, 1),
        P: filled('o1', 't1', 1, 1, 1),
        f: filled('o1', 't2', 1, 2, 0),
      });
      const expected = ' -Sap-f--';
      expectObservable(run(e1, e2)).toBe(expected, {
        S: submitted('o1', 1, 1),
        a: accepted('o1'),
        p: filled('o1', 't1', 1, 1, 1),
        f: filled('o1', 't2', 1, 2, 0),
      });
    });
    expect(Object.fromEntries(metrics.droppedByReason)).toEqual({ 'duplicate-fill': 1 });
  });

  it('refuses a second submit of a known order id as an invalid transition', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const e1 = hot('   -s-s-', { s: submit('o1') });
      const e2 = hot<OrderEvent>('-----');
      const expected = ' -S---';
      expectObservable(routedOut).toBe('-r---', { r: routed(submit('o1')) });
      expectObservable(run(e1, e2)).toBe(expected, { S: submitted('o1', 1, 1) });
    });
    expect(Object.fromEntries(metrics.droppedByReason)).toEqual({ 'invalid-transition': 1 });
    expect(logLines.find((l) => l['level'] === 50)?.['event']).toBe('OrderSubmitted');
  });

  it('drops reports of orders it does not know and events that are not venue reports', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const e1 = hot('   -s----', { s: submit('o1') });
      const e2 = hot('   --xS--', { x: accepted('o7'), S: submitted('o1', 1, 1) });
      const expected = ' -S----';
      expectObservable(run(e1, e2)).toBe(expected, { S: submitted('o1', 1, 1) });
    });
    expect(Object.fromEntries(metrics.droppedByReason)).toEqual({ 'unknown-order': 1, 'unexpected-report': 1 });
    expect(logLines.filter((l) => l['level'] === 40)).toHaveLength(2);
  });

  it('routes by the first matching rule: instrument, exchange prefix, account; else the default venue; a named venue is kept', () => {
    const rules = ['SHFE.rb2505=paper-b', 'account:ACC9=kafka', 'SHFE.*=paper-a'];
    const commands = {
      a: submit('a', { instrument_id: 'SHFE.rb2505', account_id: 'ACC9' }),
      b: submit('b', { account_id: 'ACC9' }),
      c: submit('c'),
      d: submit('d', { instrument_id: 'DCE.m2501' }),
      e: submit('e', { instrument_id: 'DCE.m2501', venue: 'ctp' }),
      x: cancel('b', { account_id: 'ACC1' }),
    };
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  abcdex|', commands);
      const e2 = cold<OrderEvent>('------|');
      const sent = '     abcdex-';
      expectObservable(routedOut).toBe(sent, {
        a: routed(commands.a, 'paper-b'),
        b: routed(commands.b, 'kafka'),
        c: routed(commands.c, 'paper-a'),
        d: routed(commands.d, 'default-venue'),
        e: routed(commands.e, 'ctp'),
        // A cancel goes where its order went, whatever its own account says.
        x: routed(commands.x, 'kafka'),
      });
      expectObservable(run(e1, e2, { routes: rules, defaultVenue: 'default-venue' }).pipe()).toBe('abcdeP|', {
        a: submitted('a', 0, 1, 'paper-b', { instrument_id: 'SHFE.rb2505', account_id: 'ACC9' }),
        b: submitted('b', 1, 2, 'kafka', { account_id: 'ACC9' }),
        c: submitted('c', 2, 3, 'paper-a'),
        d: submitted('d', 3, 4, 'default-venue', { instrument_id: 'DCE.m2501' }),
        e: submitted('e', 4, 5, 'ctp', { instrument_id: 'DCE.m2501', venue: 'ctp' }),
        P: pendingCancel('b', 5, 6, null),
      });
    });
  });

  it('forgets the oldest closed orders beyond maxOrders', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const e1 = hot('   -st------12', { s: submit('o1'), t: submit('o2'), 1: cancel('o1'), 2: cancel('o2') });
      const e2 = hot('   ---fg-h----', { f: filled('o1', 't1', 2, 2, 0), g: filled('o2', 't2', 2, 2, 0), h: filled('o1', 't1', 2, 2, 0) });
      // o1 is forgotten when o2 closes: its late duplicate is unknown, and so is a cancel of it.
      const expected = ' -STfg----12';
      expectObservable(run(e1, e2, { maxOrders: 1 })).toBe(expected, {
        S: submitted('o1', 1, 1),
        T: submitted('o2', 2, 2),
        f: filled('o1', 't1', 2, 2, 0),
        g: filled('o2', 't2', 2, 2, 0),
        1: routerCancelRejected('o1', 9, 3, 'order o1 of strategy ma is unknown to the router'),
        2: routerCancelRejected('o2', 10, 4, 'order o2 is already FILLED', 'vo-o2'),
      });
    });
    expect(Object.fromEntries(metrics.droppedByReason)).toEqual({ 'unknown-order': 1 });
  });

  it('passes an error of either input through and unsubscribes the other', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -s-#', { s: submit('o1') }, new Error('risk failed'));
      const e2 = hot<OrderEvent>('-----');
      const e1subs = '   ^--!';
      const expected = ' -S-#';
      expectObservable(run(e1, e2)).toBe(expected, { S: submitted('o1', 1, 1) }, new Error('risk failed'));
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
      expectSubscriptions(e2.subscriptions).toBe(e1subs);
    });
  });

  it('follows sources that never end, and unsubscribes both when unsubscribed early', () => {
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const e1 = hot('   -s-------', { s: submit('o1') });
      const e2 = hot('   ---a---a-', { a: accepted('o1') });
      const unsub = '    ----!    ';
      const e1subs = '   ^---!    ';
      const expected = ' -S-a-    ';
      expectObservable(run(e1, e2), unsub).toBe(expected, { S: submitted('o1', 1, 1), a: accepted('o1') });
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
      expectSubscriptions(e2.subscriptions).toBe(e1subs);
    });
  });

  it('fails the stream when the routed observer throws', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const boom = new Error('venue link broke');
      const e1 = cold('  -s-s', { s: submit('o1') });
      const e2 = cold<OrderEvent>('----');
      const e1subs = '   ^!';
      const expected = ' -(S#)';
      const throwing = {
        next: () => {
          throw boom;
        },
      };
      expectObservable(run(e1, e2, { routed: throwing })).toBe(expected, { S: submitted('o1', 1, 1) }, boom);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('fails the stream when the metrics hook or the logger throws on a dropped report', () => {
    const boom = new Error('hook broke');
    const throwing = (): never => {
      throw boom;
    };
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const e1 = hot('   -s----', { s: submit('o1') });
      const e2 = hot('   ---x--', { x: accepted('o7') });
      const e1subs = '   ^--!';
      const expected = ' -S-#';
      expectObservable(run(e1, e2, { metrics: { dropped: throwing } })).toBe(expected, { S: submitted('o1', 1, 1) }, boom);
      expectObservable(run(e1, e2, { logger: { error: throwing, warn: throwing, debug: throwing } })).toBe(
        expected,
        { S: submitted('o1', 1, 1) },
        boom,
      );
      expectSubscriptions(e1.subscriptions).toBe([e1subs, e1subs]);
      expectSubscriptions(e2.subscriptions).toBe([e1subs, e1subs]);
    });
    expect(uncaught).toEqual([]);
  });

  it('still lets out what it made before a report fed back from inside routed fails the stream', () => {
    const boom = new Error('metrics broke');
    const commands = new Subject<OrderCommand>();
    const reports = new Subject<OrderEvent>();
    const sent: string[] = [];
    const seen: string[] = [];
    let failure: unknown;
    // A synchronous venue that answers the first submit with a report of an order the router does not know.
    const venue = {
      next: (command: OrderCommand) => {
        sent.push(command.client_order_id);
        if (command.client_order_id === 'o1') reports.next(accepted('o7'));
      },
    };
    const throwingMetrics = {
      dropped: () => {
        throw boom;
      },
    };
    orderRouter({ ...options, routed: venue, metrics: throwingMetrics })({ commands, reports }).subscribe({
      next: (event) => {
        seen.push(`${event.type} ${event.client_order_id}`);
        // The strategy submits its second order as soon as it hears of the first, before the first is routed.
        if (event.client_order_id === 'o1') commands.next(submit('o2'));
      },
      error: (error: unknown) => (failure = error),
    });
    commands.next(submit('o1'));
    // o2 was recorded as submitted before the failure: its event and its command are not lost.
    expect(seen).toEqual(['OrderSubmitted o1', 'OrderSubmitted o2']);
    expect(sent).toEqual(['o1', 'o2']);
    expect(failure).toBe(boom);
    expect(commands.observed || reports.observed).toBe(false);
    expect(uncaught).toEqual([]);
  });

  it('sees its own state, and keeps causal order, when a venue answers from inside routed or a subscriber commands from inside next', () => {
    scheduler.run(() => {
      const commands = new Subject<OrderCommand>();
      const reports = new Subject<OrderEvent>();
      const sent: OrderCommand[] = [];
      const seen: OrderEvent[] = [];
      // A synchronous venue: acknowledges each submit as it is routed.
      const venue = {
        next: (command: OrderCommand) => {
          sent.push(command);
          if (command.type === 'SubmitOrder') reports.next(accepted(command.client_order_id));
        },
      };
      orderRouter({ ...options, routed: venue })({ commands, reports }).subscribe((event) => {
        seen.push(event);
        // The strategy cancels as soon as it hears of the order, before the router has routed it.
        if (event.type === 'OrderSubmitted') commands.next(cancel(event.client_order_id));
      });
      commands.next(submit('o1'));
      expect(seen.map((e) => e.type)).toEqual(['OrderSubmitted', 'OrderPendingCancel', 'OrderAccepted']);
      // The venue gets the submit before the cancel, although the cancel was made first.
      expect(sent.map((c) => c.type)).toEqual(['SubmitOrder', 'CancelOrder']);
    });
    expect(metrics.droppedTotal).toBe(0);
  });

  it('rejects malformed routing rules, every problem at once', () => {
    expect(() => orderRouter({ routes: ['SHFE.*', '=paper', 'account:=x', 'SHFE.*rb=y', 'DCE.*='] })).toThrow(ConfigError);
    let error: unknown;
    try {
      VenueRoutes.parse(['SHFE.*', '=paper', 'account:=x', 'SHFE.*rb=y', 'DCE.*='], 'paper');
    } catch (thrown: unknown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ConfigError);
    {
      expect((error as ConfigError).problems).toEqual([
        "rule 1 'SHFE.*' is not PATTERN=VENUE",
        "rule 2 '=paper' has an empty pattern",
        "rule 3 'account:=x' names no account after 'account:'",
        "rule 4 'SHFE.*rb=y': '*' may only end a pattern",
        "rule 5 'DCE.*=' names no venue after '='",
      ]);
    }
    expect(() => orderRouter({ maxOrders: 0 })).toThrow(/'maxOrders' must be a positive integer/);
  });
});

describe('orderRouterOperator', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = createTestScheduler();
  });

  it('fills documented defaults and rejects unknown fields', () => {
    expect(validateConfig('router', orderRouterOperator.spec, {})).toEqual({ routes: [], default_venue: 'paper', max_orders: 10_000 });
    expect(() => validateConfig('router', orderRouterOperator.spec, { venues: [] })).toThrow(/unknown field 'venues'/);
  });

  it('names the stage and the field of a malformed rule, by its definition', () => {
    const subject = "stage 'router' (order-router)";
    expect(() => validateComponentConfig(orderRouterOperator, { routes: ['SHFE.*'] }, {}, subject)).toThrow(
      /stage 'router' \(order-router\): 'routes': rule 1 'SHFE.\*' is not PATTERN=VENUE/,
    );
    expect(() => validateComponentConfig(orderRouterOperator, { default_venue: ' ' }, {}, subject)).toThrow(
      /'default_venue' must not be empty/,
    );
  });

  it('writes routed commands to the routed side output, ids from the stage, drops to the stage metrics and invalid transitions to its log', () => {
    const lines: Record<string, unknown>[] = [];
    const ctx = testContext(scheduler, orderRouterOperator, { stage: 'rt', logger: capturingLogger(lines) });
    scheduler.run(({ hot, expectObservable }) => {
      const config = validateConfig('router', orderRouterOperator.spec, { routes: ['SHFE.*=paper2'] });
      const router = orderRouterOperator.create(config, ctx);
      const e1 = hot('   -s---', { s: submit('o1') });
      const e2 = hot('   --xx-', { x: canceled('o1', 0) });
      const expected = ' -Sx--';
      expectObservable(ctx.sides.get('routed') as Subject<OrderCommand>).toBe('-r---', { r: routed(submit('o1'), 'paper2') });
      expectObservable(router({ commands: e1, reports: e2 })).toBe(expected, {
        S: { ...submitted('o1', 1, 1, 'paper2'), event_id: 'rt-1' },
        x: canceled('o1', 0),
      });
    });
    expect(Object.fromEntries(ctx.metrics.droppedByReason)).toEqual({ 'invalid-transition': 1 });
    expect(lines.filter((l) => l['level'] === 50).map((l) => [l['order'], l['state'], l['event']])).toEqual([
      ['o1', 'CANCELED', 'OrderCanceled'],
    ]);
  });
});

describe('orderRouter with paperVenue', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = createTestScheduler();
  });

  it('carries an order through its whole lifecycle over the feedback loop, every event valid for its schema', () => {
    const quote = (ask: number, askVolume: number, frame: number): Tick =>
      makeTick({ ask_price1: ask, ask_volume1: askVolume, ts_event: T0 + at(frame), sequence: frame });
    const events: OrderEvent[] = [];
    const venueCommands: OrderCommand[] = [];
    const metrics = new StageMetrics('router', 'order-router', [1]);
    scheduler.run(({ hot, expectObservable }) => {
      const market = hot<Tick>('a--------b---c----------d', {
        a: quote(3501, 12, 0),
        b: quote(3500, 1, 9),
        c: quote(3500, 5, 13),
        d: quote(3499, 5, 24),
      });
      const commands = hot('   --s----------------x-----', { s: submit('o1', { quantity: 3 }), x: cancel('o1') });
      // The feedback edge: the venue's reports go back into the router.
      const reports = new Subject<OrderEvent>();
      const routedCommands = new Subject<OrderCommand>();
      routedCommands.subscribe((c) => venueCommands.push(c));
      paperVenue({ latencyMs: 3, scheduler })({ commands: routedCommands, ticks: market }).subscribe(reports);
      const lifecycle = orderRouter({ scheduler, metrics, routed: routedCommands })({ commands, reports }).pipe(tap((e) => events.push(e)));
      // Submitted at 2, accepted 3 ms later (no fill: ask 3501 > 3500); b crosses for 1 lot at 9, c for the 2 left at 13;
      // the late cancel at 19 is answered by the router (the order is FILLED) and never reaches the venue.
      expectObservable(lifecycle).toBe('--S--A---F---G-----R-----', {
        S: submitted('o1', 2, 1, 'paper', { quantity: 3 }),
        A: {
          type: 'OrderAccepted',
          ...about('o1', 'paper-event-1'),
          venue_order_id: 'paper-order-1',
          ts_event: at(5),
          ts_init: at(5),
          causation_id: 'cmd-o1',
        },
        F: {
          type: 'OrderFilled',
          ...about('o1', 'paper-event-2'),
          venue_order_id: 'paper-order-1',
          trade_id: 'paper-1',
          side: 'BUY',
          last_quantity: 1,
          last_price: 3500,
          cum_quantity: 1,
          leaves_quantity: 2,
          ts_event: T0 + at(9),
          ts_init: at(9),
          causation_id: 'cmd-o1',
        },
        G: {
          type: 'OrderFilled',
          ...about('o1', 'paper-event-3'),
          venue_order_id: 'paper-order-1',
          trade_id: 'paper-2',
          side: 'BUY',
          last_quantity: 2,
          last_price: 3500,
          cum_quantity: 3,
          leaves_quantity: 0,
          ts_event: T0 + at(13),
          ts_init: at(13),
          causation_id: 'cmd-o1',
        },
        R: routerCancelRejected('o1', 19, 2, 'order o1 is already FILLED', 'paper-order-1'),
      });
    });
    expect(events.map((e) => e.type)).toEqual(['OrderSubmitted', 'OrderAccepted', 'OrderFilled', 'OrderFilled', 'OrderCancelRejected']);
    expect(venueCommands.map((c) => `${c.type}@${c.venue}`)).toEqual(['SubmitOrder@paper']);
    const codec = SchemaCatalog.default().codec('OrderEvent');
    for (const event of events) expect(codec.check(event), event.type).toBeUndefined();
    expect(metrics.droppedTotal).toBe(0);
  });

  it('resolves the race of a cancel with fills in flight: PENDING_CANCEL takes the fill, then the venue cancels the rest', () => {
    const quote = (ask: number, askVolume: number, frame: number): Tick =>
      makeTick({ ask_price1: ask, ask_volume1: askVolume, ts_event: T0 + at(frame), sequence: frame });
    const events: OrderEvent[] = [];
    const metrics = new StageMetrics('router', 'order-router', [1]);
    scheduler.run(({ hot }) => {
      const market = hot<Tick>('a-------b--', { a: quote(3501, 12, 0), b: quote(3500, 1, 8) });
      const commands = hot('   -s-----x---', { s: submit('o1'), x: cancel('o1') });
      const reports = new Subject<OrderEvent>();
      const routedCommands = new Subject<OrderCommand>();
      paperVenue({ latencyMs: 2, scheduler })({ commands: routedCommands, ticks: market }).subscribe(reports);
      orderRouter({ scheduler, metrics, routed: routedCommands })({ commands, reports }).subscribe((e) => events.push(e));
    });
    // Cancel sent at 7, reaches the venue at 9; the tick at 8 fills 1 lot while the cancel is in flight.
    expect(events.map((e) => `${e.type}@${e.ts_init / 1000}`)).toEqual([
      'OrderSubmitted@1',
      'OrderAccepted@3',
      'OrderPendingCancel@7',
      'OrderFilled@8',
      'OrderCanceled@9',
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'OrderCanceled', filled_quantity: 1, causation_id: 'cmd-cancel-o1' });
    expect(metrics.droppedTotal).toBe(0);
  });

  it('emits, for any commands and quotes, only events that are valid transitions of their orders, each fill once', () => {
    const step = fc.oneof(
      fc.record({
        kind: fc.constant('tick' as const),
        ask: fc.constantFrom(3499, 3500, 3501),
        askVolume: fc.integer({ min: 0, max: 4 }),
        bidVolume: fc.integer({ min: 0, max: 4 }),
      }),
      fc.record({
        kind: fc.constant('submit' as const),
        side: fc.constantFrom('BUY' as const, 'SELL' as const),
        orderType: fc.constantFrom('LIMIT' as const, 'MARKET' as const),
        timeInForce: fc.constantFrom('GFD' as const, 'FAK' as const, 'FOK' as const),
        quantity: fc.integer({ min: 1, max: 5 }),
        price: fc.constantFrom(3498, 3499, 3500, 3501),
      }),
      // Any step's order: one submitted before, one not yet submitted, or one never submitted.
      fc.record({ kind: fc.constant('cancel' as const), order: fc.integer({ min: 0, max: 39 }) }),
    );
    const scenario = fc.record({
      steps: fc.array(step, { minLength: 1, maxLength: 40 }),
      latencyMs: fc.constantFrom(0, 1, 3),
      gapMs: fc.constantFrom(1, 2),
    });
    const codec = SchemaCatalog.default().codec('OrderEvent');

    fc.assert(
      fc.property(scenario, ({ steps, latencyMs, gapMs }) => {
        const events: OrderEvent[] = [];
        const caseMetrics = new StageMetrics('router', 'order-router', [1]);
        const caseScheduler = createTestScheduler();
        caseScheduler.run(() => {
          const commands = new Subject<OrderCommand>();
          const market = new Subject<Tick>();
          const reports = new Subject<OrderEvent>();
          const routedCommands = new Subject<OrderCommand>();
          paperVenue({ latencyMs, scheduler: caseScheduler })({ commands: routedCommands, ticks: market }).subscribe(reports);
          orderRouter({ scheduler: caseScheduler, metrics: caseMetrics, routed: routedCommands })({ commands, reports }).subscribe((e) =>
            events.push(e),
          );
          steps.forEach((s, i) => {
            caseScheduler.schedule(() => {
              if (s.kind === 'tick') {
                market.next(
                  makeTick({
                    ask_price1: s.ask,
                    ask_volume1: s.askVolume,
                    bid_price1: s.ask - 1,
                    bid_volume1: s.bidVolume,
                    ts_event: T0 + at(i * gapMs),
                    sequence: i + 1,
                  }),
                );
              } else if (s.kind === 'submit') {
                const price = s.orderType === 'MARKET' ? null : s.price;
                commands.next(
                  submit(`o${i}`, {
                    side: s.side,
                    order_type: s.orderType,
                    time_in_force: s.timeInForce,
                    quantity: s.quantity,
                    price,
                    command_id: `cmd-${i}`,
                  }),
                );
              } else {
                commands.next(cancel(`o${s.order}`, { command_id: `cmd-${i}` }));
              }
            }, i * gapMs);
          });
        });

        // Only a second cancel while one is pending is ever dropped.
        expect([...caseMetrics.droppedByReason.keys()].filter((reason) => reason !== 'cancel-pending')).toEqual([]);
        const states = new Map<string, { status: OrderStatus; filled: number; quantity: number }>();
        const trades = new Set<string>();
        for (const event of events) {
          expect(codec.check(event), event.type).toBeUndefined();
          const order = states.get(event.client_order_id);
          if (event.type === 'OrderSubmitted') {
            expect(order).toBeUndefined();
            states.set(event.client_order_id, { status: nextOrderStatus('INITIALIZED', event, 0), filled: 0, quantity: event.quantity });
            continue;
          }
          if (order === undefined) {
            // The router's answer to a cancel of an order it never saw.
            expect(event.type).toBe('OrderCancelRejected');
            continue;
          }
          // A consumer applying the same table never meets an invalid transition.
          order.status = nextOrderStatus(order.status, event, order.filled);
          if (event.type === 'OrderFilled') {
            expect(trades.has(event.trade_id)).toBe(false);
            trades.add(event.trade_id);
            expect(event.cum_quantity).toBe(order.filled + event.last_quantity);
            expect(event.leaves_quantity).toBe(order.quantity - event.cum_quantity);
            order.filled = event.cum_quantity;
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
