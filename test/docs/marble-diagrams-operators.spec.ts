// The TSDoc marble diagrams of the operators, each run as written on the
// TestScheduler: the input lines are the streams, the output lines what the
// operator must emit, with values defined here after the diagram's notes.
import { Subject } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { bars } from '../../operators/bars.js';
import { dedupMerge } from '../../operators/dedup-merge.js';
import { orderRouter } from '../../operators/order-router.js';
import { passThrough } from '../../operators/pass-through.js';
import { quoteDiff } from '../../operators/quote-diff.js';
import { risk } from '../../operators/risk.js';
import type { RiskControlRequest } from '../../operators/risk/parse-risk-control.js';
import { paperVenue } from '../../operators/router/paper-venue.js';
import { runStrategies } from '../../operators/strategy.js';
import { DiffQuoteFields, type QuoteField } from '../../protocols/diff/diff-quote-fields.js';
import type {
  Bar,
  FeedStatus,
  OrderAccepted,
  OrderCanceled,
  OrderCommand,
  OrderDenied,
  OrderEvent,
  OrderFilled,
  OrderSubmitted,
  RiskControlChanged,
  SubmitOrder,
  Tick,
} from '../../schemas/generated.js';
import type { Strategy } from '../../strategies/strategy-api.js';
import { createTestScheduler } from '../support/marbles.js';
import { makeCancel, makeSubmit } from '../support/make-order.js';
import { makeTick } from '../support/make-tick.js';
import { readDiagram } from '../support/tsdoc-diagrams.js';

/** The instrument of makeTick and makeSubmit. */
const { instrument_id: RB } = makeTick();

/** `value` as the type of an id field, e.g. `OrderSubmitted['client_order_id']` (a branded string where the schema brands the id). */
const idOf = <T extends string>(value: string): T => value as T;

/** Epoch microseconds of a local (UTC+8) time such as `09:00:59.990` on Friday 2025-01-03 (trading day 20250103). */
const at = (time: string): number => Date.parse(`2025-01-03T${time}+08:00`) * 1000;

describe('TSDoc marble diagrams: operators', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = createTestScheduler();
  });

  it('passThrough: every record, unchanged and at its own time', () => {
    const diagram = readDiagram('operators/pass-through.ts', 'passThrough');
    expect(diagram.call).toBe('passThrough()');
    const values = { a: makeTick({ sequence: 1 }), b: makeTick({ sequence: 2 }), c: makeTick({ sequence: 3 }) };
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold(diagram.marbles('source'), values);
      expectObservable(e1.pipe(passThrough())).toBe(diagram.marbles('result'), values);
    });
  });

  it('quoteDiff: every field first, then only what changed, nothing for a tick that changes nothing', () => {
    const diagram = readDiagram('operators/quote-diff.ts', 'quoteDiff');
    expect(diagram.call).toBe('quoteDiff()');
    const a = makeTick({ sequence: 1, last_price: 3500 });
    const b = { ...a, sequence: 2, last_price: 3501 };
    const c = { ...b, sequence: 3, ts_recv: b.ts_recv + 100 };
    const d = { ...c, sequence: 4, last_price: null };
    const diff = (tick: Tick, changes: QuoteDiffChanges) => ({
      instrument_id: tick.instrument_id,
      ts_event: tick.ts_event,
      sequence: tick.sequence,
      changes,
    });
    const everyField = Object.fromEntries((Object.keys(DiffQuoteFields.keyOf) as QuoteField[]).map((field) => [field, a[field]]));
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold(diagram.marbles('source'), { a, b, c, d });
      expectObservable(e1.pipe(quoteDiff())).toBe(diagram.marbles('result'), {
        A: diff(a, everyField),
        B: diff(b, { last_price: 3501 }),
        D: diff(d, { last_price: null }),
      });
    });
  });

  it('bars: a bar closed by the next period’s tick, by the timer, and at completion', () => {
    const diagram = readDiagram('operators/bars.ts', 'bars');
    expect(diagram.call).toBe('bars({ periodS: 60, closeDelayMs: 2 })');
    const tick = (time: string, price: number, volume: number): Tick =>
      makeTick({ ts_event: at(time), last_price: price, volume, turnover: volume * 35_000, open_interest: 1_000_000 + volume });
    const bar = (
      from: string,
      to: string,
      ohlc: readonly [number, number, number, number],
      volume: number,
      ticks: number,
      lastVolume: number,
    ): Bar => ({
      instrument_id: RB,
      period_s: 60,
      trading_day: '20250103',
      ts_open: at(`${from}:00`),
      ts_close: at(`${to}:00`),
      open: ohlc[0],
      high: ohlc[1],
      low: ohlc[2],
      close: ohlc[3],
      volume,
      turnover: volume * 35_000,
      open_interest: 1_000_000 + lastVolume,
      tick_count: ticks,
    });
    // The times of the diagram's note; the first tick counts against its own volume.
    const ticks = {
      a: tick('09:00:10', 3500, 100),
      b: tick('09:00:40', 3502, 104),
      c: tick('09:01:59.996', 3501, 110),
      d: tick('09:03:20', 3499, 111),
    };
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold(diagram.marbles('source'), ticks);
      expectObservable(e1.pipe(bars({ periodS: 60, closeDelayMs: 2, scheduler }))).toBe(diagram.marbles('result'), {
        A: bar('09:00', '09:01', [3500, 3502, 3500, 3502], 4, 2, 104),
        C: bar('09:01', '09:02', [3501, 3501, 3501, 3501], 6, 1, 110),
        D: bar('09:03', '09:04', [3499, 3499, 3499, 3499], 1, 1, 111),
      });
    });
  });

  it('dedupMerge: the first copy of each event passes; each feed goes UP, STALE and DOWN on the scheduler', () => {
    const diagram = readDiagram('operators/dedup-merge.ts', 'dedupMerge');
    expect(diagram.call).toBe('dedupMerge({ staleAfterMs: 4, downAfterMs: 8 })');
    const event = (i: number): Tick => makeTick({ ts_event: makeTick().ts_event + i * 500_000, volume: 12_000 + i });
    const copy = (tick: Tick, feedId: string, sequence: number): Tick => ({
      ...tick,
      feed_id: feedId,
      sequence,
      ts_recv: tick.ts_event + (feedId === 'a' ? 1000 : 3000),
    });
    const ticks = {
      x: copy(event(0), 'a', 1),
      X: copy(event(0), 'b', 1),
      y: copy(event(1), 'a', 2),
      Y: copy(event(1), 'b', 2),
      z: copy(event(2), 'a', 3),
    };
    const state = (feedId: string, feedState: FeedStatus['state']) => expect.objectContaining({ feed_id: feedId, state: feedState });
    const status = new Subject<FeedStatus>();
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold(diagram.marbles('source'), ticks);
      expectObservable(status).toBe(diagram.marbles('status'), {
        u: state('a', 'UP'),
        U: state('b', 'UP'),
        s: state('a', 'STALE'),
        S: state('b', 'STALE'),
        d: state('a', 'DOWN'),
        D: state('b', 'DOWN'),
      });
      expectObservable(e1.pipe(dedupMerge({ staleAfterMs: 4, downAfterMs: 8, scheduler, status }))).toBe(diagram.marbles('result'), ticks);
    });
  });

  it('risk: passes what the rules allow, denies the rest, and the kill switch cancels what is working', () => {
    const diagram = readDiagram('operators/risk.ts', 'risk');
    expect(diagram.call).toBe('risk({ scheduler, denials, control })');
    const submit = (id: string, changes: Partial<SubmitOrder> = {}): SubmitOrder =>
      makeSubmit({ command_id: `cmd-${id}`, client_order_id: idOf<SubmitOrder['client_order_id']>(`o-${id}`), ...changes });
    // b asks for more than the default max_order_volume (100 lots).
    const commands = { a: submit('a'), b: submit('b', { quantity: 200 }), c: submit('c', { side: 'SELL', price: 3510 }), d: submit('d') };
    const { client_order_id, strategy_id, account_id, instrument_id } = commands.a;
    const filled: OrderFilled = {
      type: 'OrderFilled',
      event_id: 'fill-a',
      client_order_id,
      strategy_id,
      account_id,
      instrument_id,
      venue_order_id: 'v-a',
      trade_id: 't-a',
      side: 'BUY',
      last_quantity: 1,
      last_price: 3500,
      cum_quantity: 1,
      leaves_quantity: 0,
      ts_event: 0,
      ts_init: 0,
      causation_id: 'cmd-a',
    };
    const halt: RiskControlRequest = { control: 'state', tradingState: 'HALTED', reason: 'drawdown', principal: 'ops' };
    const denials = new Subject<OrderDenied>();
    const control = new Subject<RiskControlChanged>();
    const deniedFor = (command: OrderCommand, reasonCode: OrderDenied['reason_code']) =>
      expect.objectContaining({
        type: 'OrderDenied',
        client_order_id: command.client_order_id,
        causation_id: command.command_id,
        reason_code: reasonCode,
      });
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold(diagram.marbles('commands'), commands);
      const v1 = cold<OrderEvent>(diagram.marbles('events'), { f: filled });
      const h1 = cold(diagram.marbles('controls'), { h: halt });
      expectObservable(denials).toBe(diagram.marbles('denials'), {
        B: deniedFor(commands.b, 'MAX_ORDER_VOLUME_EXCEEDED'),
        D: deniedFor(commands.d, 'TRADING_HALTED'),
      });
      expectObservable(control).toBe(diagram.marbles('control'), {
        H: expect.objectContaining({ change_id: 'risk-control-1', trading_state: 'HALTED' }),
      });
      const passed = risk({ scheduler, denials, control })({ commands: e1, ticks: cold('t', { t: makeTick() }), events: v1, controls: h1 });
      expectObservable(passed).toBe(diagram.marbles('result'), {
        a: commands.a,
        c: commands.c,
        // Only c: a is no longer working once filled.
        x: expect.objectContaining({ type: 'CancelOrder', client_order_id: 'o-c', causation_id: 'risk-control-1' }),
      });
    });
  });

  it('orderRouter: submits and cancels become lifecycle events and go to the venue; venue reports pass through the state machine', () => {
    const diagram = readDiagram('operators/order-router.ts', 'orderRouter');
    expect(diagram.call).toBe('orderRouter({ routed })');
    const s = makeSubmit({ quantity: 2 });
    const c = makeCancel();
    const { client_order_id, strategy_id, account_id, instrument_id } = s;
    const about = { client_order_id, strategy_id, account_id, instrument_id, venue_order_id: 'paper-order-1', ts_event: 0, ts_init: 0 };
    const reports: Record<string, OrderEvent> = {
      a: { type: 'OrderAccepted', event_id: 'v-1', ...about, causation_id: s.command_id } satisfies OrderAccepted,
      p: {
        type: 'OrderFilled',
        event_id: 'v-2',
        ...about,
        trade_id: 'paper-1',
        side: 'BUY',
        last_quantity: 1,
        last_price: 3500,
        cum_quantity: 1,
        leaves_quantity: 1,
        causation_id: s.command_id,
      } satisfies OrderFilled,
      x: { type: 'OrderCanceled', event_id: 'v-3', ...about, filled_quantity: 1, causation_id: c.command_id } satisfies OrderCanceled,
    };
    const routed = new Subject<OrderCommand>();
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold<OrderCommand>(diagram.marbles('commands'), { s, c });
      const r1 = cold(diagram.marbles('reports'), reports);
      expectObservable(routed).toBe(diagram.marbles('routed'), { v: { ...s, venue: 'paper' }, w: { ...c, venue: 'paper' } });
      expectObservable(orderRouter({ routed, scheduler })({ commands: e1, reports: r1 })).toBe(diagram.marbles('result'), {
        ...reports,
        S: expect.objectContaining({ type: 'OrderSubmitted', client_order_id: 'o-1', venue: 'paper', causation_id: s.command_id }),
        P: expect.objectContaining({ type: 'OrderPendingCancel', client_order_id: 'o-1', causation_id: c.command_id }),
      });
    });
  });

  it('paperVenue: a resting buy is acknowledged, partly filled by a crossing quote, then canceled', () => {
    const diagram = readDiagram('operators/router/paper-venue.ts', 'paperVenue');
    expect(diagram.call).toBe('paperVenue({})');
    const ticks = {
      a: makeTick({ ask_price1: 3501, ask_volume1: 12 }),
      b: makeTick({ ts_event: makeTick().ts_event + 500_000, ask_price1: 3499, ask_volume1: 1 }),
    };
    const commands = {
      s: makeSubmit({ quantity: 2, price: 3500, time_in_force: 'GFD', venue: 'paper' }),
      c: makeCancel({ venue: 'paper' }),
    };
    const report = (type: OrderEvent['type'], fields: Record<string, unknown> = {}) =>
      expect.objectContaining({ type, client_order_id: 'o-1', ...fields });
    scheduler.run(({ cold, expectObservable }) => {
      const t1 = cold(diagram.marbles('ticks'), ticks);
      const e1 = cold<OrderCommand>(diagram.marbles('commands'), commands);
      expectObservable(paperVenue({ scheduler })({ commands: e1, ticks: t1 })).toBe(diagram.marbles('result'), {
        A: report('OrderAccepted'),
        F: report('OrderFilled', { last_quantity: 1, last_price: 3499, cum_quantity: 1, leaves_quantity: 1 }),
        X: report('OrderCanceled', { causation_id: commands.c.command_id }),
      });
    });
  });

  it('runStrategies: each method’s commands leave when its record arrives; stop’s are the last, at the end of market data', () => {
    const diagram = readDiagram('operators/strategy.ts', 'runStrategies');
    expect(diagram.call).toBe('runStrategies([s], { onError })');
    const order = (ctx: Parameters<NonNullable<Strategy['init']>>[0], causationId: string) =>
      ctx.submitOrder({ instrument_id: RB, side: 'BUY', quantity: 1, price: 3500, position_effect: 'OPEN', causation_id: causationId });
    const s: Strategy = {
      id: idOf<Strategy['id']>('s'),
      init: (ctx) => ({ commands: [order(ctx, 'init')] }),
      onTick: (tick, ctx) => ({ commands: [order(ctx, `tick-${tick.sequence}`)] }),
      onOrderEvent: (event, ctx) => ({ commands: [order(ctx, event.event_id)] }),
      onBar: (_bar, ctx) => ({ commands: [order(ctx, 'bar')] }),
      stop: (ctx) => ({
        commands: [
          ctx.cancelOrder(ctx.order(idOf<OrderSubmitted['client_order_id']>('s-2')) as NonNullable<ReturnType<typeof ctx.order>>, 'stop'),
        ],
      }),
    };
    const ticks = { t: makeTick({ sequence: 1 }) };
    const bar: Bar = {
      instrument_id: RB,
      period_s: 60,
      trading_day: '20250103',
      ts_open: 0,
      ts_close: 60_000_000,
      open: 1,
      high: 1,
      low: 1,
      close: 1,
      volume: 1,
      turnover: 1,
      open_interest: 1,
      tick_count: 1,
    };
    // init's order, as the router reports it sent.
    const submitted: OrderSubmitted = {
      type: 'OrderSubmitted',
      event_id: 'e-1',
      client_order_id: idOf('s-2'),
      strategy_id: s.id,
      account_id: idOf('paper'),
      instrument_id: RB,
      venue: 'paper',
      side: 'BUY',
      order_type: 'LIMIT',
      time_in_force: 'GFD',
      position_effect: 'OPEN',
      quantity: 1,
      price: 3500,
      ts_event: 0,
      ts_init: 0,
      causation_id: 's-1',
    };
    const errors: unknown[] = [];
    const submitFor = (causationId: string) =>
      expect.objectContaining({ type: 'SubmitOrder', strategy_id: 's', causation_id: causationId });
    scheduler.run(({ cold, expectObservable }) => {
      const inputs = {
        ticks: cold(diagram.marbles('ticks'), ticks),
        bars: cold(diagram.marbles('bars'), { b: bar }),
        events: cold<OrderEvent>(diagram.marbles('events'), { e: submitted }),
      };
      expectObservable(runStrategies([s], { onError: (error) => errors.push(error), scheduler })(inputs)).toBe(diagram.marbles('result'), {
        i: submitFor('init'),
        c: submitFor('tick-1'),
        d: submitFor('e-1'),
        b: submitFor('bar'),
        C: submitFor('tick-1'),
        x: expect.objectContaining({ type: 'CancelOrder', client_order_id: 's-2', causation_id: 'stop' }),
      });
    });
    expect(errors).toEqual([]);
  });
});

type QuoteDiffChanges = Record<string, null | number | string>;
