import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { EMPTY, Observable, Subject, config, mergeMap, of, tap } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OperatorDefinition } from '../../pipeline/components/component-definition.js';
import { ComponentRegistry } from '../../pipeline/components/component-registry.js';
import { validateConfig } from '../../pipeline/config/validate-config.js';
import { ConfigError, InvalidStateTransitionError, StageError } from '../../errors/errors.js';
import { loadPipelineFile } from '../../pipeline/graph/load-pipeline-file.js';
import { runPipeline } from '../../pipeline/runtime/run-pipeline.js';
import { StageMetrics } from '../../pipeline/runtime/stage-metrics.js';
import { runStrategies, type RunStrategiesOptions } from '../../operators/strategy.js';
import { strategyOperator } from '../../operators/strategy-operator.js';
import {
  ClientOrderId,
  InstrumentId,
  StrategyId,
  type Bar,
  type CancelOrder,
  type OrderCommand,
  type OrderEvent,
  type Signal,
  type SubmitOrder,
  type Tick,
} from '../../schemas/generated.js';
import { barId, tickId, type Strategy, type StrategyMethod } from '../../strategies/strategy-api.js';
import { createTestScheduler } from '../support/marbles.js';
import { makeTick } from '../support/make-tick.js';
import { fromPlainIds } from '../support/plain-ids.js';
import { testContext } from '../support/test-context.js';
import { collectingSink, recordsSource } from '../support/test-components.js';
import { validateComponentConfig } from '../../pipeline/components/validate-component-config.js';

const RB = InstrumentId('SHFE.rb2501');
const T0 = makeTick().ts_event;

const ticks: Record<string, Tick> = {
  a: makeTick({ sequence: 1, ask_price1: 3501, ts_event: T0 }),
  b: makeTick({ sequence: 2, ask_price1: 3502, ts_event: T0 + 500_000 }),
  c: makeTick({ sequence: 3, ask_price1: 3503, ts_event: T0 + 1_000_000 }),
};

function makeBar(close: number, minute: number): Bar {
  const tsOpen = T0 + minute * 60_000_000;
  return {
    instrument_id: RB,
    period_s: 60,
    trading_day: '20250103',
    ts_open: tsOpen,
    ts_close: tsOpen + 60_000_000,
    open: close,
    high: close,
    low: close,
    close,
    volume: 5,
    turnover: close * 50,
    open_interest: 1000,
    tick_count: 3,
  };
}
const bars: Record<string, Bar> = { x: makeBar(3490, 0), y: makeBar(3480, 1) };

/** What the probe strategy `id` submits for a tick (buy at the ask) as its `n`-th id, at virtual `frame`. */
function buyOn(id: string, n: number, frame: number, tick: Tick): SubmitOrder {
  return fromPlainIds<SubmitOrder>({
    type: 'SubmitOrder',
    command_id: `${id}-${n}`,
    client_order_id: `${id}-${n + 1}`,
    strategy_id: id,
    account_id: 'paper',
    instrument_id: tick.instrument_id,
    side: 'BUY',
    order_type: 'LIMIT',
    time_in_force: 'GFD',
    position_effect: 'OPEN',
    quantity: 1,
    price: tick.ask_price1,
    venue: null,
    ts_init: frame * 1000,
    causation_id: tickId(tick),
  });
}

/** What the probe strategy submits for a bar (sell at the close). */
function sellOn(id: string, n: number, frame: number, bar: Bar): SubmitOrder {
  return { ...buyOn(id, n, frame, ticks.a as Tick), side: 'SELL', price: bar.close, causation_id: barId(bar) };
}

function cancelOf(order: SubmitOrder, n: number, frame: number): CancelOrder {
  return fromPlainIds<CancelOrder>({
    type: 'CancelOrder',
    command_id: `${order.strategy_id}-${n}`,
    client_order_id: order.client_order_id,
    strategy_id: order.strategy_id,
    account_id: 'paper',
    instrument_id: order.instrument_id,
    venue: null,
    ts_init: frame * 1000,
    causation_id: null,
  });
}

/** A fake venue: what the router and venue answer to a command, at once. A submit is filled in full at its price. */
function venueAnswers(command: OrderCommand, ts: number): OrderEvent[] {
  const common = {
    client_order_id: command.client_order_id,
    strategy_id: command.strategy_id,
    account_id: command.account_id,
    instrument_id: command.instrument_id,
    ts_event: ts,
    ts_init: ts,
  };
  if (command.type === 'CancelOrder') {
    return [
      {
        type: 'OrderCanceled',
        event_id: `x-${command.command_id}`,
        ...common,
        venue_order_id: `v-${command.client_order_id}`,
        filled_quantity: 0,
        causation_id: command.command_id,
      },
    ];
  }
  const c = command;
  return [
    {
      type: 'OrderSubmitted',
      event_id: `s-${c.command_id}`,
      ...common,
      venue: 'paper',
      side: c.side,
      order_type: c.order_type,
      time_in_force: c.time_in_force,
      position_effect: c.position_effect,
      quantity: c.quantity,
      price: c.price,
      causation_id: c.command_id,
    },
    {
      type: 'OrderAccepted',
      event_id: `a-${c.command_id}`,
      ...common,
      venue_order_id: `v-${c.client_order_id}`,
      causation_id: `s-${c.command_id}`,
    },
    {
      type: 'OrderFilled',
      event_id: `f-${c.command_id}`,
      ...common,
      venue_order_id: `v-${c.client_order_id}`,
      trade_id: `t-${c.command_id}`,
      side: c.side,
      last_quantity: c.quantity,
      last_price: c.price ?? 0,
      cum_quantity: c.quantity,
      leaves_quantity: 0,
      causation_id: `a-${c.command_id}`,
    },
  ];
}

/** The events of the probe order `order`: submitted and accepted. */
function acked(order: SubmitOrder): OrderEvent[] {
  return venueAnswers(order, 0).slice(0, 2);
}

/**
 * A strategy that writes each call to `calls`, buys a lot at the ask on every
 * tick, sells one at the close on every bar, and cancels its working orders at
 * stop; `overrides` replace any of that.
 */
function probe(id: string, calls: string[], overrides: Partial<Strategy> = {}): Strategy {
  return {
    id: StrategyId(id),
    init() {
      calls.push(`${id} init`);
    },
    onTick(tick, ctx) {
      calls.push(`${id} tick ${tick.sequence}`);
      return {
        commands: [
          ctx.submitOrder({
            instrument_id: tick.instrument_id,
            side: 'BUY',
            quantity: 1,
            price: tick.ask_price1,
            position_effect: 'OPEN',
            causation_id: tickId(tick),
          }),
        ],
      };
    },
    onBar(bar, ctx) {
      calls.push(`${id} bar ${bar.close}`);
      return {
        commands: [
          ctx.submitOrder({
            instrument_id: bar.instrument_id,
            side: 'SELL',
            quantity: 1,
            price: bar.close,
            position_effect: 'OPEN',
            causation_id: barId(bar),
          }),
        ],
      };
    },
    onOrderEvent(event, ctx) {
      const order = ctx.order(event.client_order_id);
      calls.push(`${id} ${event.type} ${event.client_order_id} ${order?.status ?? '?'} net=${ctx.position(event.instrument_id).net}`);
    },
    stop(ctx) {
      calls.push(`${id} stop`);
      return { commands: ctx.workingOrders().map((order) => ctx.cancelOrder(order, null)) };
    },
    ...overrides,
  };
}

describe('runStrategies', () => {
  let scheduler: TestScheduler;
  let metrics: StageMetrics;
  let calls: string[];
  let failures: [string, StrategyMethod, unknown][];
  let options: RunStrategiesOptions;
  /** Errors RxJS would have thrown as uncaught exceptions. */
  let uncaught: unknown[];
  beforeEach(() => {
    scheduler = createTestScheduler();
    metrics = new StageMetrics('s', 'strategy', [1]);
    calls = [];
    failures = [];
    options = { scheduler, metrics, onError: (error, strategyId, method) => void failures.push([strategyId, method, error]) };
    uncaught = [];
    config.onUnhandledError = (error) => uncaught.push(error);
  });
  afterEach(() => {
    config.onUnhandledError = null;
  });

  it('emits nothing for never, having called init only', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold<Tick>('-');
      const e2 = cold<Bar>(' -');
      const e3 = cold<OrderEvent>('-');
      const e1subs = '        ^';
      const expected = '      -';
      expectObservable(runStrategies([probe('a', calls)], options)({ ticks: e1, bars: e2, events: e3 })).toBe(expected);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
      expectSubscriptions(e2.subscriptions).toBe(e1subs);
      expectSubscriptions(e3.subscriptions).toBe(e1subs);
    });
    expect(calls).toEqual(['a init']);
  });

  it('calls init, then stop, and completes when ticks and bars are empty, without waiting for events', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold<Tick>('|');
      const e2 = cold<Bar>(' |');
      const e3 = cold<OrderEvent>('-');
      const e3subs = '        (^!)';
      const expected = '      |';
      expectObservable(runStrategies([probe('a', calls)], options)({ ticks: e1, bars: e2, events: e3 })).toBe(expected);
      expectSubscriptions(e3.subscriptions).toBe(e3subs);
    });
    expect(calls).toEqual(['a init', 'a stop']);
  });

  it('sends a strategy’s order for one tick, and its stop’s cancel when market data ends', () => {
    const order = buyOn('a', 1, 1, ticks.a as Tick);
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -a-|', ticks);
      const e1subs = '   ^--!';
      const expected = ' -o-(c|)';
      expectObservable(runStrategies([probe('a', calls)], options)({ ticks: e1 })).toBe(expected, { o: order, c: cancelOf(order, 3, 3) });
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
    expect(calls).toEqual(['a init', 'a tick 1', 'a stop']);
  });

  it('routes ticks to onTick and bars to onBar, strategy by strategy, and completes once both have', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  -a--------b|', ticks);
      const e2 = cold('  ------x--------y---|', bars);
      const expected = ' -(AB)-(xX)(CD)-(yY)|';
      const noStop = { stop: undefined };
      expectObservable(runStrategies([probe('a', calls, noStop), probe('b', calls, noStop)], options)({ ticks: e1, bars: e2 })).toBe(
        expected,
        {
          A: buyOn('a', 1, 1, ticks.a as Tick),
          B: buyOn('b', 1, 1, ticks.a as Tick),
          x: sellOn('a', 3, 6, bars.x as Bar),
          X: sellOn('b', 3, 6, bars.x as Bar),
          C: buyOn('a', 5, 10, ticks.b as Tick),
          D: buyOn('b', 5, 10, ticks.b as Tick),
          y: sellOn('a', 7, 15, bars.y as Bar),
          Y: sellOn('b', 7, 15, bars.y as Bar),
        },
      );
    });
    expect(calls).toEqual([
      'a init',
      'b init',
      'a tick 1',
      'b tick 1',
      'a bar 3490',
      'b bar 3490',
      'a tick 2',
      'b tick 2',
      'a bar 3480',
      'b bar 3480',
    ]);
  });

  it('delivers each strategy only its own order events, after its orders reflect them', () => {
    const [aSubmitted, aAccepted] = acked(buyOn('a', 1, 1, ticks.a as Tick)) as [OrderEvent, OrderEvent];
    const [bSubmitted] = acked(buyOn('b', 1, 1, ticks.a as Tick)) as [OrderEvent];
    const foreign = fromPlainIds<OrderEvent>({ ...bSubmitted, strategy_id: 'z', client_order_id: 'z-2' });
    scheduler.run(({ hot, expectObservable }) => {
      const e1 = hot('  -a-----', ticks);
      const e3 = hot('  ---pqrs', { p: aSubmitted, q: bSubmitted, r: foreign, s: aAccepted });
      const expected = '-(AB)--';
      const run = runStrategies([probe('a', calls), probe('b', calls)], options)({ ticks: e1, events: e3 });
      expectObservable(run).toBe(expected, { A: buyOn('a', 1, 1, ticks.a as Tick), B: buyOn('b', 1, 1, ticks.a as Tick) });
    });
    expect(calls.slice(4)).toEqual([
      'a OrderSubmitted a-2 SUBMITTED net=0',
      'b OrderSubmitted b-2 SUBMITTED net=0',
      'a OrderAccepted a-2 ACCEPTED net=0',
    ]);
    expect(failures).toEqual([]);
  });

  it('passes an error from any port through, and does not call stop', () => {
    const lost = new Error('event feed lost');
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const e1 = hot('   -a----', ticks);
      const e3 = cold<OrderEvent>('---#', undefined, lost);
      const e1subs = '   ^--!';
      const e3subs = '   ^--!';
      const expected = ' -o-#';
      expectObservable(runStrategies([probe('a', calls)], options)({ ticks: e1, events: e3 })).toBe(
        expected,
        { o: buyOn('a', 1, 1, ticks.a as Tick) },
        lost,
      );
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
      expectSubscriptions(e3.subscriptions).toBe(e3subs);
    });
    expect(calls).toEqual(['a init', 'a tick 1']);
  });

  it('follows ports that never end, unsubscribes every one early without calling stop, and frees its strategies for another run', () => {
    const strategy = probe('a', calls);
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const e1 = hot('  -a-b---', ticks);
      const e2 = hot('  -------', bars);
      const unsub = '   ----!  ';
      const e1subs = '  ^---!  ';
      const expected = '-o-p-  ';
      expectObservable(runStrategies([strategy], options)({ ticks: e1, bars: e2 }), unsub).toBe(expected, {
        o: buyOn('a', 1, 1, ticks.a as Tick),
        p: buyOn('a', 3, 3, ticks.b as Tick),
      });
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
      expectSubscriptions(e2.subscriptions).toBe(e1subs);
    });
    expect(calls).toEqual(['a init', 'a tick 1', 'a tick 2']);
    const again: OrderCommand[] = [];
    runStrategies([strategy], options)({ ticks: of(ticks.c as Tick) }).subscribe((c) => again.push(c));
    expect(again.map((c) => c.type)).toEqual(['SubmitOrder', 'CancelOrder']);
  });

  it('reports a strategy that throws with its id, keeps calling it, and lets the others trade', () => {
    const bug = new Error('bug in a');
    const boot = new Error('a cannot start');
    const healthy = probe('a', calls, { stop: undefined });
    const flaky: Strategy = {
      ...healthy,
      init() {
        throw boot;
      },
      onTick(tick, ctx) {
        if (tick.sequence === 1) throw bug;
        return healthy.onTick?.(tick, ctx);
      },
    };
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  -a---b-----|', ticks);
      const expected = ' -B---(CD)--|';
      const run = runStrategies([flaky, probe('b', calls, { stop: undefined })], options)({ ticks: e1 });
      expectObservable(run).toBe(expected, {
        B: buyOn('b', 1, 1, ticks.a as Tick),
        C: buyOn('a', 1, 5, ticks.b as Tick),
        D: buyOn('b', 3, 5, ticks.b as Tick),
      });
    });
    expect(failures).toEqual([
      ['a', 'init', boot],
      ['a', 'onTick', bug],
    ]);
    expect(Object.fromEntries(metrics.droppedByReason)).toEqual({ 'strategy-error': 2 });
  });

  it('reports and does not send a command or signal of another strategy, sending the rest', () => {
    const forger = probe('a', calls, {
      onTick(tick, ctx) {
        const own = ctx.submitOrder({
          instrument_id: RB,
          side: 'BUY',
          quantity: 1,
          price: tick.ask_price1,
          position_effect: 'OPEN',
          causation_id: tickId(tick),
        });
        const signal = ctx.signal({ instrument_id: RB, name: 'n', value: 1, ts_event: tick.ts_event, causation_id: null });
        return {
          signals: [signal, { ...signal, strategy_id: StrategyId('b') }],
          commands: [{ ...own, strategy_id: StrategyId('b'), client_order_id: ClientOrderId('b-9') }, own],
        };
      },
      stop: undefined,
    });
    const signals = new Subject<Signal>();
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  -a|', ticks);
      expectObservable(signals).toBe(' -s', { s: expect.objectContaining({ signal_id: 'a-3', strategy_id: 'a' }) as Signal });
      expectObservable(runStrategies([forger], { ...options, signals })({ ticks: e1 })).toBe('-o|', {
        o: buyOn('a', 1, 1, ticks.a as Tick),
      });
    });
    expect(failures.map(([id, method, error]) => [id, method, (error as Error).message])).toEqual([
      ['a', 'onTick', 'strategy a returned a signal that is not its own (b); it was not sent'],
      ['a', 'onTick', "strategy a returned a SubmitOrder of strategy 'b' (a-1); it was not sent"],
    ]);
    expect(failures[1]?.[2]).toBeInstanceOf(StageError);
  });

  it('reports what a strategy returns that is not records, sends none of it, and carries on', () => {
    // What a strategy written in plain JavaScript could return.
    const outputs: unknown[] = [{ commands: 'buy' }, { signals: [null] }];
    const sloppy = probe('a', calls, { onTick: () => outputs.shift() as never, stop: undefined });
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  -ab|', ticks);
      const expected = ' ---|';
      expectObservable(runStrategies([sloppy], options)({ ticks: e1 })).toBe(expected);
    });
    expect(failures.map(([id, method, error]) => [id, method, (error as Error).message])).toEqual([
      ['a', 'onTick', 'strategy a returned signals or commands that are not arrays; nothing of this call was sent'],
      ['a', 'onTick', expect.stringMatching(/^strategy a returned a signal that is not its own \(TypeError: .*\); it was not sent$/)],
    ]);
  });

  it('drops and reports an order event its strategy’s orders do not allow, without calling the strategy', () => {
    const [submitted, accepted] = acked(buyOn('a', 1, 1, ticks.a as Tick)) as [OrderEvent, OrderEvent];
    scheduler.run(({ hot, expectObservable }) => {
      const e1 = hot('  -a----', ticks);
      const e3 = hot('  --pqq-', { p: submitted, q: accepted });
      const expected = '-o----';
      expectObservable(runStrategies([probe('a', calls)], options)({ ticks: e1, events: e3 })).toBe(expected, {
        o: buyOn('a', 1, 1, ticks.a as Tick),
      });
    });
    expect(calls.slice(2)).toEqual(['a OrderSubmitted a-2 SUBMITTED net=0', 'a OrderAccepted a-2 ACCEPTED net=0']);
    expect(failures).toEqual([['a', 'onOrderEvent', expect.any(InvalidStateTransitionError)]]);
    expect(Object.fromEntries(metrics.droppedByReason)).toEqual({ 'order-event': 1 });
  });

  it('sends what init and stop return, each call’s signals before its commands', () => {
    const seen: string[] = [];
    const lifecycle: Strategy = {
      id: StrategyId('a'),
      init(ctx) {
        return {
          signals: [ctx.signal({ instrument_id: RB, name: 'ready', value: 1, ts_event: 0, causation_id: null })],
          commands: [
            ctx.submitOrder({ instrument_id: RB, side: 'BUY', quantity: 1, price: null, position_effect: 'OPEN', causation_id: null }),
          ],
        };
      },
      stop(ctx) {
        return {
          signals: [ctx.signal({ instrument_id: RB, name: 'done', value: 0, ts_event: 0, causation_id: null })],
          commands: ctx.workingOrders().map((order) => ctx.cancelOrder(order, null)),
        };
      },
    };
    const signals = new Subject<Signal>();
    const market = { ...buyOn('a', 2, 0, ticks.a as Tick), order_type: 'MARKET' as const, price: null, causation_id: null };
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold<Tick>('---|');
      expectObservable(signals.pipe(tap((s) => seen.push(`signal ${s.name}`)))).toBe('r--d', {
        r: { signal_id: 'a-1', strategy_id: 'a', instrument_id: RB, name: 'ready', value: 1, ts_event: 0, ts_init: 0, causation_id: null },
        d: {
          signal_id: 'a-4',
          strategy_id: 'a',
          instrument_id: RB,
          name: 'done',
          value: 0,
          ts_event: 0,
          ts_init: 3000,
          causation_id: null,
        },
      });
      const run = runStrategies([lifecycle], { ...options, signals })({ ticks: e1 }).pipe(tap((c) => seen.push(c.type)));
      expectObservable(run).toBe('o--(c|)', { o: market, c: cancelOf(market, 5, 3) });
    });
    expect(seen).toEqual(['signal ready', 'SubmitOrder', 'signal done', 'CancelOrder']);
  });

  it('closes the loop: a venue that fills at once feeds events back, and the strategy sees its fill and position before its next tick', () => {
    const trader: Strategy = {
      id: StrategyId('t'),
      onTick(tick, ctx) {
        const position = ctx.position(tick.instrument_id);
        calls.push(`tick ${tick.sequence} net=${position.net} working=${ctx.workingOrders().length}`);
        const close = position.long > 0;
        return {
          commands: [
            ctx.submitOrder({
              instrument_id: RB,
              side: close ? 'SELL' : 'BUY',
              quantity: 1,
              price: tick.ask_price1,
              position_effect: close ? 'CLOSE' : 'OPEN',
              causation_id: tickId(tick),
            }),
          ],
        };
      },
      onOrderEvent(event, ctx) {
        calls.push(`${event.type} ${event.client_order_id} net=${ctx.position(RB).net}`);
      },
      stop(ctx) {
        calls.push('stop');
        // Flat at the end: a close the venue fills at once, whose events are not delivered any more.
        const { long } = ctx.position(RB);
        return {
          commands:
            long > 0
              ? [
                  ctx.submitOrder({
                    instrument_id: RB,
                    side: 'SELL',
                    quantity: long,
                    price: null,
                    position_effect: 'CLOSE',
                    causation_id: null,
                  }),
                ]
              : [],
        };
      },
    };
    const sent: OrderEvent[] = [];
    scheduler.run(({ hot, expectObservable }) => {
      const e1 = hot('  -a-b-c|', ticks);
      const events = new Subject<OrderEvent>();
      const venue = (command: OrderCommand): void => {
        for (const event of venueAnswers(command, scheduler.now() * 1000)) {
          sent.push(event);
          events.next(event);
        }
      };
      const expected = '-o-p-q(r|)';
      const commands = runStrategies([trader], options)({ ticks: e1, events }).pipe(tap(venue));
      const o = buyOn('t', 1, 1, ticks.a as Tick);
      const q = buyOn('t', 5, 5, ticks.c as Tick);
      expectObservable(commands).toBe(expected, {
        o,
        p: { ...buyOn('t', 3, 3, ticks.b as Tick), side: 'SELL', position_effect: 'CLOSE' },
        q,
        r: {
          ...q,
          command_id: 't-7',
          client_order_id: 't-8',
          side: 'SELL',
          position_effect: 'CLOSE',
          order_type: 'MARKET',
          price: null,
          ts_init: 6000,
          causation_id: null,
        },
      });
    });
    expect(calls).toEqual([
      'tick 1 net=0 working=0',
      'OrderSubmitted t-2 net=0',
      'OrderAccepted t-2 net=0',
      'OrderFilled t-2 net=1',
      'tick 2 net=1 working=0',
      'OrderSubmitted t-4 net=1',
      'OrderAccepted t-4 net=1',
      'OrderFilled t-4 net=0',
      'tick 3 net=0 working=0',
      'OrderSubmitted t-6 net=0',
      'OrderAccepted t-6 net=0',
      'OrderFilled t-6 net=1',
      'stop',
    ]);
    // The venue answered stop's close too; nobody was listening any more.
    expect(sent).toHaveLength(12);
  });

  it('hands a record that arrives during a call to the strategies only after the current record reached all of them', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  -a---|', ticks);
      const expected = ' -(AB)|';
      const events = new Subject<OrderEvent>();
      const run = runStrategies(
        [probe('a', calls, { stop: undefined }), probe('b', calls, { stop: undefined })],
        options,
      )({ ticks: e1, events });
      const fed = run.pipe(tap((command) => venueAnswers(command, 0).forEach((event) => events.next(event))));
      expectObservable(fed).toBe(expected, { A: buyOn('a', 1, 1, ticks.a as Tick), B: buyOn('b', 1, 1, ticks.a as Tick) });
    });
    expect(calls).toEqual([
      'a init',
      'b init',
      'a tick 1',
      'b tick 1',
      'a OrderSubmitted a-2 SUBMITTED net=0',
      'a OrderAccepted a-2 ACCEPTED net=0',
      'a OrderFilled a-2 FILLED net=1',
      'b OrderSubmitted b-2 SUBMITTED net=0',
      'b OrderAccepted b-2 ACCEPTED net=0',
      'b OrderFilled b-2 FILLED net=1',
    ]);
  });

  it('fails the stream when onError throws', () => {
    const broken = new Error('logger down');
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -ab|', ticks);
      const e1subs = '   ^!';
      const expected = ' -#';
      const failing = probe('a', calls, {
        onTick() {
          throw new Error('bug');
        },
      });
      const onError = (): void => {
        throw broken;
      };
      expectObservable(runStrategies([failing], { ...options, onError })({ ticks: e1 })).toBe(expected, undefined, broken);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('fails the stream when the signals observer throws', () => {
    const broken = new Error('signal sink down');
    const signalling = probe('a', calls, {
      onTick(tick, ctx) {
        return { signals: [ctx.signal({ instrument_id: RB, name: 'n', value: 1, ts_event: tick.ts_event, causation_id: tickId(tick) })] };
      },
    });
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  -a|', ticks);
      const signals = {
        next: () => {
          throw broken;
        },
      };
      expectObservable(runStrategies([signalling], { ...options, signals })({ ticks: e1 })).toBe('-#', undefined, broken);
    });
  });

  it('fails the stream when the metrics hook throws while counting a failure, calling no strategy after it', () => {
    const broken = new Error('metrics broke');
    const throwingMetrics = {
      dropped: () => {
        throw broken;
      },
    };
    const failing = probe('a', calls, {
      onTick() {
        throw new Error('bug');
      },
    });
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -ab|', ticks);
      const e1subs = '   ^!';
      const expected = ' -#';
      expectObservable(runStrategies([failing, probe('b', calls)], { ...options, metrics: throwingMetrics })({ ticks: e1 })).toBe(
        expected,
        undefined,
        broken,
      );
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
    expect(calls).toEqual(['a init', 'b init']);
    expect(uncaught).toEqual([]);
  });

  it('refuses strategies that share an id, and a strategy object that is already running', () => {
    expect(() => runStrategies([probe('a', calls), probe('a', calls), probe('', calls)], options)).toThrow(ConfigError);
    expect(() => runStrategies([probe('a', calls), probe('a', calls)], options)).toThrow("runStrategies: strategy id 'a' is used twice");
    const shared = probe('a', calls);
    const first = runStrategies([shared], options)({ ticks: new Observable<Tick>() }).subscribe();
    let error: unknown;
    runStrategies([shared], options)({ ticks: EMPTY }).subscribe({ error: (e: unknown) => (error = e) });
    expect(error).toBeInstanceOf(StageError);
    expect((error as Error).message).toMatch(/strategy 'a' is already running in another subscription/);
    first.unsubscribe();
  });
});

describe('strategyOperator', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = createTestScheduler();
  });

  const maConfig = (overrides: Record<string, unknown> = {}) =>
    validateConfig('strat', strategyOperator.spec, {
      strategy: 'ma-cross',
      strategy_id: 'rb-ma',
      instruments: [RB],
      fast_period: 2,
      slow_period: 3,
      ...overrides,
    });

  it('fills documented defaults, requires what has none, and rejects unknown fields', () => {
    expect(validateConfig('strat', strategyOperator.spec, { strategy: 'mean-reversion', strategy_id: 's', instruments: [RB] })).toEqual({
      strategy: 'mean-reversion',
      strategy_id: 's',
      account_id: 'paper',
      instruments: [RB],
      quantity: 1,
      fast_period: 5,
      slow_period: 20,
      window: 50,
      entry_z: 2,
      exit_z: 0.5,
    });
    expect(() => validateConfig('strat', strategyOperator.spec, { strategy: 'breakout', period: 3 })).toThrow(ConfigError);
    try {
      validateConfig('strat', strategyOperator.spec, { strategy: 'breakout', period: 3 });
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        expect.stringMatching(/^unknown field 'period'/),
        '\'strategy\' must be one of ma-cross, mean-reversion, got "breakout"',
        expect.stringMatching(/^missing required field 'strategy_id'/),
        expect.stringMatching(/^missing required field 'instruments'/),
      ]);
    }
    expect(strategyOperator.in).toEqual({ ticks: 'Tick', bars: 'Bar', events: 'OrderEvent' });
    expect(strategyOperator.out).toBe('OrderCommand');
    expect(strategyOperator.sideOutputs).toEqual({ signals: 'Signal' });
  });

  it('rejects parameters that cannot work together by its definition, naming the stage and every field', () => {
    const subject = "stage 'strat' (strategy)";
    const ma = { strategy: 'ma-cross', strategy_id: 'rb-ma', instruments: [], fast_period: 2, slow_period: 2 };
    expect(() => validateComponentConfig(strategyOperator, ma, {}, subject)).toThrow(
      "stage 'strat' (strategy): 2 problems:\n  - 'instruments' must name at least one instrument\n  - 'slow_period' must exceed 'fast_period' (2), got 2",
    );
    const mr = { strategy: 'mean-reversion', strategy_id: 's', instruments: [RB], entry_z: 0.5 };
    expect(() => validateComponentConfig(strategyOperator, mr, {}, subject)).toThrow("'entry_z' must exceed 'exit_z' (0.5), got 0.5");
  });

  it('runs the moving-average crossover on bars, its signals on the signals side output, its orders out, on the context scheduler', () => {
    const closes = { p: makeBar(10, 0), q: makeBar(10, 1), r: makeBar(10, 2), s: makeBar(9, 3), t: makeBar(12, 4) };
    const signal = (n: number, bar: Bar, value: number, frame: number): Signal => ({
      signal_id: `rb-ma-${n}`,
      strategy_id: StrategyId('rb-ma'),
      instrument_id: RB,
      name: 'ma_cross',
      value,
      ts_event: bar.ts_close,
      ts_init: frame * 1000,
      causation_id: barId(bar),
    });
    scheduler.run(({ cold, expectObservable }) => {
      const ctx = testContext(scheduler, strategyOperator, { stage: 'strat' });
      const stage = strategyOperator.create(maConfig({ account_id: 'ctp-main' }), ctx);
      const e2 = cold('  pqrst|', closes);
      const expected = ' ----o(c|)';
      expectObservable(ctx.sideOutput<Signal>('signals') as Subject<Signal>).toBe('--abc', {
        a: signal(1, closes.r, 0, 2),
        b: signal(2, closes.s, 9.5 - 29 / 3, 3),
        c: signal(3, closes.t, 10.5 - 31 / 3, 4),
      });
      const order = fromPlainIds<SubmitOrder>({
        type: 'SubmitOrder',
        command_id: 'rb-ma-4',
        client_order_id: 'rb-ma-5',
        strategy_id: 'rb-ma',
        account_id: 'ctp-main',
        instrument_id: RB,
        side: 'BUY',
        order_type: 'LIMIT',
        time_in_force: 'GFD',
        position_effect: 'OPEN',
        quantity: 1,
        price: 12,
        venue: null,
        ts_init: 4000,
        causation_id: 'rb-ma-3',
      });
      expectObservable(stage({ ticks: EMPTY, bars: e2, events: EMPTY })).toBe(expected, {
        o: order,
        c: {
          type: 'CancelOrder',
          command_id: 'rb-ma-6',
          client_order_id: 'rb-ma-5',
          strategy_id: 'rb-ma',
          account_id: 'ctp-main',
          instrument_id: RB,
          venue: null,
          ts_init: 5000,
          causation_id: null,
        },
      });
    });
  });

  it('logs a failure at error with the strategy id and counts it, and keeps running', () => {
    const logLines: string[] = [];
    const logger = pino({ level: 'info', base: undefined, timestamp: false }, { write: (line: string) => logLines.push(line) });
    const ctx = testContext(scheduler, strategyOperator, { stage: 'strat', logger });
    const stray = venueAnswers(buyOn('rb-ma', 90, 0, ticks.a as Tick), 0)[2] as OrderEvent;
    scheduler.run(({ cold, expectObservable }) => {
      const stage = strategyOperator.create(maConfig(), ctx);
      const e3 = cold('  -f--', { f: stray });
      const e2 = cold('  ---p|', { p: makeBar(10, 0) });
      expectObservable(stage({ ticks: EMPTY, bars: e2, events: e3 })).toBe('----|');
    });
    const logged = logLines.map((line) => JSON.parse(line) as { level: number; msg: string; strategy: string; method: string });
    expect(logged.map(({ level, strategy, method, msg }) => ({ level, strategy, method, msg }))).toEqual([
      {
        level: 50,
        strategy: 'rb-ma',
        method: 'onOrderEvent',
        msg: 'strategy rb-ma: onOrderEvent failed: strategy rb-ma: order rb-ma-91: OrderFilled f-rb-ma-90: unknown order',
      },
    ]);
    expect(Object.fromEntries(ctx.metrics.droppedByReason)).toEqual({ 'order-event': 1 });
  });

  it('trades mean reversion through a pipeline whose fake venue feeds order events back, and ends when the ticks do', async () => {
    const prices = [100, 100, 100, 100, 90, 94, 100, 100];
    const marketTicks = prices.map((price, i) =>
      makeTick({ sequence: i + 1, ts_event: T0 + i * 500_000, last_price: price, bid_price1: price - 1, ask_price1: price + 1 }),
    );
    const fakeVenue: OperatorDefinition<'OrderCommand', 'OrderEvent', Record<string, never>> = {
      name: 'fake-venue',
      kind: 'operator',
      in: 'OrderCommand',
      out: 'OrderEvent',
      description: 'Fills every order at once',
      spec: {},
      create: (_config, ctx) => mergeMap((command: OrderCommand) => venueAnswers(command, Math.round(ctx.scheduler.now() * 1000))),
    };
    const commands: OrderCommand[] = [];
    const signals: Signal[] = [];
    const registry = new ComponentRegistry([
      recordsSource('recorded-ticks', 'Tick', marketTicks),
      strategyOperator,
      fakeVenue,
      collectingSink('orders', 'OrderCommand', commands),
      collectingSink('signals', 'Signal', signals),
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'tickflow-strategy-'));
    const file = join(dir, 'mr-loop.yaml');
    writeFileSync(
      file,
      [
        'name: mr-loop',
        'stages:',
        '  - { id: market, use: recorded-ticks }',
        `  - { id: mr, use: strategy, from: { ticks: market }, feedback_from: { events: venue }, config: { strategy: mean-reversion, strategy_id: mr, instruments: [${RB}], window: 5, entry_z: 1.5, quantity: 2 } }`,
        '  - { id: venue, use: fake-venue, from: mr }',
        '  - { id: orders, use: orders, from: mr }',
        '  - { id: signals, use: signals, from: mr.signals }',
      ].join('\n'),
    );
    const graph = loadPipelineFile(file, registry).build();
    rmSync(dir, { recursive: true });
    const run = runPipeline(graph, { validation: 'strict' });
    expect(await run.done).toEqual({ ok: true, failures: [] });
    // The close at 100 is only sent if the fill of the buy at 90 came back through the loop.
    expect(commands.map((c) => (c.type === 'SubmitOrder' ? `${c.side} ${c.position_effect} ${c.quantity} @ ${c.price}` : c.type))).toEqual([
      'BUY OPEN 2 @ 91',
      'SELL CLOSE 2 @ 99',
    ]);
    expect(signals.map((s) => s.name)).toEqual(['zscore', 'zscore', 'zscore', 'zscore']);
    expect(run.health().stages['mr']).toEqual(expect.objectContaining({ state: 'completed', dropped: 0, errors: 0 }));
  });
});
