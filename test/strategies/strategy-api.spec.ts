import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidStateTransitionError, StageError } from '../../errors/errors.js';
import {
  AccountId,
  ClientOrderId,
  InstrumentId,
  StrategyId,
  type CancelOrder,
  type OrderEvent,
  type OrderFilled,
  type SubmitOrder,
} from '../../schemas/generated.js';
import {
  barId,
  createStrategyContext,
  tickId,
  type OrderRequest,
  type StrategyContext,
  type StrategyOrder,
} from '../../strategies/strategy-api.js';
import { makeTick } from '../support/make-tick.js';

const NOW = 1_735_822_800_000_000;
const RB = InstrumentId('SHFE.rb2501');
const buyOpen: OrderRequest = { instrument_id: RB, side: 'BUY', quantity: 3, price: 3500, position_effect: 'OPEN', causation_id: 'sig-1' };

function setup() {
  let now = NOW;
  const runtime = createStrategyContext({ strategyId: StrategyId('s1'), accountId: AccountId('acc'), now: () => now });
  return { ...runtime, ctx: runtime.context, advance: (us: number) => void (now += us) };
}

/** The order by id; fails the test when there is none. */
function known(ctx: StrategyContext, clientOrderId: string): StrategyOrder {
  const order = ctx.order(ClientOrderId(clientOrderId));
  if (order === undefined) throw new Error(`no order ${clientOrderId}`);
  return order;
}

/** Order events about `order`, as the router and venue would send them. */
function events(order: SubmitOrder) {
  let n = 0;
  const common = () => ({
    event_id: `e${++n}-${order.client_order_id}`,
    client_order_id: order.client_order_id,
    strategy_id: order.strategy_id,
    account_id: order.account_id,
    instrument_id: order.instrument_id,
    ts_event: NOW,
    ts_init: NOW,
  });
  return {
    submitted: (): OrderEvent => ({
      type: 'OrderSubmitted',
      ...common(),
      venue: 'paper',
      side: order.side,
      order_type: order.order_type,
      time_in_force: order.time_in_force,
      position_effect: order.position_effect,
      quantity: order.quantity,
      price: order.price,
      causation_id: order.command_id,
    }),
    accepted: (): OrderEvent => ({ type: 'OrderAccepted', ...common(), venue_order_id: 'v1', causation_id: order.command_id }),
    filled: (lots: number, cum: number): OrderFilled => ({
      type: 'OrderFilled',
      ...common(),
      venue_order_id: 'v1',
      trade_id: `t${n}`,
      side: order.side,
      last_quantity: lots,
      last_price: order.price ?? 0,
      cum_quantity: cum,
      leaves_quantity: order.quantity - cum,
      causation_id: order.command_id,
    }),
    denied: (causationId: string): OrderEvent => ({
      type: 'OrderDenied',
      ...common(),
      reason_code: 'CANCEL_RATE_EXCEEDED',
      reason: 'too many cancels',
      causation_id: causationId,
    }),
    pendingCancel: (cancel: CancelOrder): OrderEvent => ({
      type: 'OrderPendingCancel',
      ...common(),
      venue_order_id: 'v1',
      causation_id: cancel.command_id,
    }),
    canceled: (cancel: CancelOrder, filled: number): OrderEvent => ({
      type: 'OrderCanceled',
      ...common(),
      venue_order_id: 'v1',
      filled_quantity: filled,
      causation_id: cancel.command_id,
    }),
    cancelRejected: (cancel: CancelOrder): OrderEvent => ({
      type: 'OrderCancelRejected',
      ...common(),
      venue_order_id: 'v1',
      reason: 'filled',
      causation_id: cancel.command_id,
    }),
  };
}

describe('createStrategyContext', () => {
  it('builds complete records with deterministic ids and scheduler time', () => {
    const { ctx, advance } = setup();
    expect(ctx.submitOrder(buyOpen)).toEqual({
      type: 'SubmitOrder',
      command_id: 's1-1',
      client_order_id: 's1-2',
      strategy_id: 's1',
      account_id: 'acc',
      instrument_id: RB,
      side: 'BUY',
      order_type: 'LIMIT',
      time_in_force: 'GFD',
      position_effect: 'OPEN',
      quantity: 3,
      price: 3500,
      venue: null,
      ts_init: NOW,
      causation_id: 'sig-1',
    });
    advance(7);
    expect(ctx.submitOrder({ ...buyOpen, price: null, time_in_force: 'FAK' })).toEqual(
      expect.objectContaining({ order_type: 'MARKET', price: null, time_in_force: 'FAK', ts_init: NOW + 7 }),
    );
    expect(ctx.signal({ instrument_id: RB, name: 'x', value: 1.5, ts_event: 42, causation_id: null })).toEqual({
      signal_id: 's1-5',
      strategy_id: 's1',
      instrument_id: RB,
      name: 'x',
      value: 1.5,
      ts_event: 42,
      ts_init: NOW + 7,
      causation_id: null,
    });
    expect(ctx.nextId()).toBe('s1-6');
    // A second context starts its own count: the same calls make the same ids, as a replay must.
    expect(setup().ctx.nextId()).toBe('s1-1');
  });

  it('refuses to build an order no venue could take', () => {
    const { ctx } = setup();
    expect(() => ctx.submitOrder({ ...buyOpen, quantity: 0 })).toThrow(StageError);
    expect(() => ctx.submitOrder({ ...buyOpen, quantity: 1.5 })).toThrow(/positive integer, got 1.5/);
    expect(() => ctx.submitOrder({ ...buyOpen, price: null, order_type: 'LIMIT' })).toThrow(/LIMIT order needs a finite price/);
  });

  it('finds orders by client order id only: the strategy id or an instrument id does not pass for one (the type check fails)', () => {
    const { ctx, track } = setup();
    const order = ctx.submitOrder(buyOpen);
    track(order);
    expect(ctx.order(order.client_order_id)).toEqual(expect.objectContaining({ status: 'INITIALIZED' }));
    // @ts-expect-error a strategy id is no client order id
    expect(ctx.order(ctx.strategyId)).toBeUndefined();
    // @ts-expect-error an instrument id is no client order id
    expect(ctx.order(order.instrument_id)).toBeUndefined();
    // @ts-expect-error a client order id is no instrument id
    expect(ctx.workingOrders(order.client_order_id)).toEqual([]);
  });

  it('names the record behind a tick and a bar', () => {
    expect(tickId(makeTick({ feed_id: 'ctp-a', sequence: 17 }))).toBe('ctp-a:17');
    expect(
      barId({
        instrument_id: RB,
        period_s: 60,
        trading_day: '20250103',
        ts_open: 5,
        ts_close: 6,
        open: 1,
        high: 1,
        low: 1,
        close: 1,
        volume: 0,
        turnover: 0,
        open_interest: 0,
        tick_count: 0,
      }),
    ).toBe(`${RB}:60s:5`);
  });

  it('follows an order from submit through partial fills to filled, and the position with it', () => {
    const { ctx, track, apply } = setup();
    const order = ctx.submitOrder(buyOpen);
    track(order);
    expect(ctx.workingOrders()).toEqual([
      expect.objectContaining({ client_order_id: 's1-2', status: 'INITIALIZED', filled_quantity: 0, cancel_requested: false }),
    ]);
    const e = events(order);
    apply(e.submitted());
    apply(e.accepted());
    apply(e.filled(1, 1));
    expect(ctx.order(ClientOrderId('s1-2'))).toEqual(
      expect.objectContaining({ status: 'PARTIALLY_FILLED', filled_quantity: 1, venue_order_id: 'v1' }),
    );
    expect(ctx.position(RB)).toEqual(expect.objectContaining({ long: 1, short: 0, net: 1 }));
    apply(e.filled(2, 3));
    expect(ctx.workingOrders()).toEqual([]);
    expect(ctx.order(ClientOrderId('s1-2'))?.status).toBe('FILLED');
    expect(ctx.position(RB)).toEqual(expect.objectContaining({ long: 3, net: 3 }));

    // Closing sells reduce the long leg; opening sells build a short one.
    for (const request of [
      { ...buyOpen, side: 'SELL', position_effect: 'CLOSE', quantity: 2 },
      { ...buyOpen, side: 'SELL', quantity: 4 },
    ] as const) {
      const sell = ctx.submitOrder(request);
      track(sell);
      const s = events(sell);
      apply(s.submitted());
      apply(s.filled(sell.quantity, sell.quantity));
    }
    expect(ctx.position(RB)).toEqual(expect.objectContaining({ long: 1, short: 4, net: -3 }));
    // Plain data: what a strategy logs as JSON is what it reads.
    expect(JSON.parse(JSON.stringify(ctx.position(RB)))).toEqual({ instrument_id: RB, long: 1, short: 4, net: -3 });
    expect(ctx.positions()).toHaveLength(1);
    expect(ctx.position(InstrumentId('DCE.m2501'))).toEqual({ instrument_id: 'DCE.m2501', long: 0, short: 0, net: 0 });
  });

  it('marks a cancel as requested until the venue answers, and keeps the order when the cancel is denied or rejected', () => {
    const { ctx, track, apply } = setup();
    const order = ctx.submitOrder(buyOpen);
    track(order);
    const e = events(order);
    apply(e.submitted());
    apply(e.accepted());
    const working = known(ctx, order.client_order_id);
    const first = ctx.cancelOrder(working, 'sig-2');
    expect(first).toEqual({
      type: 'CancelOrder',
      command_id: 's1-3',
      client_order_id: 's1-2',
      strategy_id: 's1',
      account_id: 'acc',
      instrument_id: RB,
      venue: null,
      ts_init: NOW,
      causation_id: 'sig-2',
    });
    track(first);
    expect(ctx.order(ClientOrderId('s1-2'))?.cancel_requested).toBe(true);
    expect(JSON.parse(JSON.stringify(ctx.order(ClientOrderId('s1-2'))))).toEqual(
      expect.objectContaining({ status: 'ACCEPTED', cancel_requested: true }),
    );
    // Risk denies the cancel: the order is as it was.
    apply(e.denied(first.command_id));
    expect(ctx.order(ClientOrderId('s1-2'))).toEqual(expect.objectContaining({ status: 'ACCEPTED', cancel_requested: false }));
    const second = ctx.cancelOrder(working, null);
    track(second);
    apply(e.pendingCancel(second));
    apply(e.cancelRejected(second));
    expect(ctx.order(ClientOrderId('s1-2'))).toEqual(expect.objectContaining({ status: 'ACCEPTED', cancel_requested: false }));
    const third = ctx.cancelOrder(working, null);
    track(third);
    apply(e.pendingCancel(third));
    apply(e.canceled(third, 0));
    expect(ctx.order(ClientOrderId('s1-2'))).toEqual(expect.objectContaining({ status: 'CANCELED', cancel_requested: false }));
    expect(ctx.workingOrders()).toEqual([]);
  });

  it('moves a denied submit to DENIED', () => {
    const { ctx, track, apply } = setup();
    const order = ctx.submitOrder(buyOpen);
    track(order);
    apply(events(order).denied(order.command_id));
    expect(ctx.order(order.client_order_id)?.status).toBe('DENIED');
    expect(ctx.workingOrders()).toEqual([]);
  });

  it('accepts a late cancel reject after a fill, and rejects what the state machine does not allow, changing nothing', () => {
    const { ctx, track, apply } = setup();
    const order = ctx.submitOrder(buyOpen);
    track(order);
    const e = events(order);
    apply(e.submitted());
    const cancel = ctx.cancelOrder(known(ctx, order.client_order_id), null);
    track(cancel);
    apply(e.filled(3, 3));
    apply(e.cancelRejected(cancel));
    expect(ctx.order(order.client_order_id)?.status).toBe('FILLED');
    const duplicateFill = e.filled(3, 3);
    expect(() => apply(duplicateFill)).toThrow(InvalidStateTransitionError);
    expect(() => apply(duplicateFill)).toThrow(`strategy s1: order s1-2: OrderFilled ${duplicateFill.event_id}: not valid in state FILLED`);
    expect(ctx.position(RB).long).toBe(3);
  });

  it('rejects an event of an order it does not know, but adopts one an OrderSubmitted describes', () => {
    const { ctx, apply } = setup();
    const foreign = { ...ctx.submitOrder(buyOpen), client_order_id: ClientOrderId('earlier-run-7') };
    const e = events(foreign);
    expect(() => apply(e.accepted())).toThrow(/order earlier-run-7: OrderAccepted .*: unknown order/);
    apply(e.submitted());
    apply(e.accepted());
    expect(ctx.workingOrders()).toEqual([expect.objectContaining({ client_order_id: 'earlier-run-7', status: 'ACCEPTED', quantity: 3 })]);
  });

  it('refuses to track a command of another strategy or a reused client order id', () => {
    const { ctx, track } = setup();
    const order = ctx.submitOrder(buyOpen);
    expect(() => track({ ...order, strategy_id: StrategyId('other') })).toThrow(/strategy s1 returned a SubmitOrder of strategy 'other'/);
    track(order);
    expect(() => track({ ...order, command_id: 'again' })).toThrow(/reused client order id s1-2/);
    expect(ctx.workingOrders()).toHaveLength(1);
    // A cancel of an order it does not know is tracked as nothing: risk or the router answers it.
    expect(() =>
      track({ ...ctx.cancelOrder(known(ctx, order.client_order_id), null), client_order_id: ClientOrderId('nope') }),
    ).not.toThrow();
  });

  it('forgets the oldest finished orders beyond a thousand, keeping working ones', () => {
    const { ctx, track, apply } = setup();
    const first = ctx.submitOrder(buyOpen);
    track(first);
    for (let i = 0; i < 1001; i++) {
      const order = ctx.submitOrder(buyOpen);
      track(order);
      apply(events(order).denied(order.command_id));
    }
    expect(ctx.order(first.client_order_id)?.status).toBe('INITIALIZED');
    expect(ctx.order(ClientOrderId('s1-4'))).toBeUndefined();
    expect(ctx.order(ClientOrderId('s1-6'))?.status).toBe('DENIED');
  });

  it('keeps the position equal to the fills, whatever the sequence of orders', () => {
    const request = fc.record({
      side: fc.constantFrom('BUY' as const, 'SELL' as const),
      position_effect: fc.constantFrom('OPEN' as const, 'CLOSE' as const, 'CLOSE_TODAY' as const),
      quantity: fc.integer({ min: 1, max: 5 }),
      fills: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 }),
    });
    fc.assert(
      fc.property(fc.array(request, { maxLength: 20 }), (requests) => {
        const { ctx, track, apply } = setup();
        let long = 0;
        let short = 0;
        for (const r of requests) {
          const order = ctx.submitOrder({ ...buyOpen, ...r });
          track(order);
          const e = events(order);
          apply(e.submitted());
          let cum = 0;
          for (const lots of r.fills) {
            const take = Math.min(lots, order.quantity - cum);
            if (take === 0) break;
            cum += take;
            apply(e.filled(take, cum));
            const sign = r.position_effect === 'OPEN' ? 1 : -1;
            if ((r.side === 'BUY') === (r.position_effect === 'OPEN')) long += sign * take;
            else short += sign * take;
          }
        }
        expect(ctx.position(RB)).toEqual(expect.objectContaining({ long, short, net: long - short }));
      }),
      { numRuns: 200 },
    );
  });
});
