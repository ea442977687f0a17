import fc from 'fast-check';
import { pino } from 'pino';
import { EMPTY, NEVER, Subject, config, of } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { haltCommand } from '../../cli/commands/halt-command.js';
import { resumeCommand } from '../../cli/commands/resume-command.js';
import type { CliIo, ParsedArgs } from '../../cli/cli-command.js';
import { validateConfig } from '../../pipeline/config/validate-config.js';
import { ConfigError, StageError, UsageError } from '../../errors/errors.js';
import { TradingSessions } from '../../domain/trading-sessions.js';
import { StageMetrics } from '../../pipeline/runtime/stage-metrics.js';
import { startHttpServer, type HttpEndpoint } from '../../pipeline/runtime/start-http-server.js';
import { ControlAccess } from '../../pipeline/runtime/control-access.js';
import { SchemaCatalog } from '../../pipeline/schemas/schema-catalog.js';
import { risk, type RiskOptions } from '../../operators/risk.js';
import { riskOperator } from '../../operators/risk-operator.js';
import type { RiskControlRequest } from '../../operators/risk/parse-risk-control.js';
import type { ControlHandler } from '../../pipeline/components/component-definition.js';
import { riskLimitSpec, type RiskLimits } from '../../operators/risk/risk-limits.js';
import type {
  CancelOrder,
  DenialReason,
  OrderCommand,
  OrderDenied,
  OrderEvent,
  OrderFilled,
  OrderSide,
  PositionEffect,
  RiskControlChanged,
  SubmitOrder,
  TradingState,
} from '../../schemas/generated.js';
import { createTestScheduler } from '../support/marbles.js';
import { makeTick } from '../support/make-tick.js';
import { makeCancel, makeSubmit, ORDER_TIME } from '../support/make-order.js';
import type { PlainIds } from '../support/plain-ids.js';
import { testContext } from '../support/test-context.js';

/** 2025-01-02 21:01 +08:00: rb's night session. Sessions and trading days use ts_init; rates and ids use the scheduler. */
const T = ORDER_TIME;
const tick = makeTick();
const DEFAULT_LIMITS: RiskLimits = validateConfig('defaults', riskLimitSpec, {});
const catalog = SchemaCatalog.default();

function submit(id: string, changes: Partial<PlainIds<SubmitOrder>> = {}): SubmitOrder {
  return makeSubmit({ command_id: `cmd-${id}`, client_order_id: `o-${id}`, causation_id: `sig-${id}`, ...changes });
}

function cancel(id: string, orderId: string, changes: Partial<CancelOrder> = {}): CancelOrder {
  return makeCancel({ command_id: `cmd-${id}`, client_order_id: `o-${orderId}`, ...changes });
}

function fill(order: SubmitOrder, lastQuantity: number, leaves: number, side: OrderSide = order.side): OrderFilled {
  return {
    type: 'OrderFilled',
    event_id: `fill-${order.client_order_id}-${leaves}`,
    client_order_id: order.client_order_id,
    strategy_id: order.strategy_id,
    account_id: order.account_id,
    instrument_id: order.instrument_id,
    venue_order_id: `v-${order.client_order_id}`,
    trade_id: `t-${order.client_order_id}-${leaves}`,
    side,
    last_quantity: lastQuantity,
    last_price: order.price ?? 3500,
    cum_quantity: order.quantity - leaves,
    leaves_quantity: leaves,
    ts_event: T,
    ts_init: T,
    causation_id: order.command_id,
  };
}

/** The OrderDenied risk makes for `command` at virtual frame `frame`, its `seq`th denial. */
function denied(command: OrderCommand, code: DenialReason, reason: string, frame: number, seq: number): OrderDenied {
  return {
    type: 'OrderDenied',
    event_id: `risk-denied-${seq}`,
    client_order_id: command.client_order_id,
    strategy_id: command.strategy_id,
    account_id: command.account_id,
    instrument_id: command.instrument_id,
    reason_code: code,
    reason,
    ts_event: frame * 1000,
    ts_init: frame * 1000,
    causation_id: command.command_id,
  };
}

/** The CancelOrder the kill switch sends for `order`, its `seq`th, caused by control change `changeSeq`. */
function killCancel(order: SubmitOrder, frame: number, seq: number, changeSeq: number): CancelOrder {
  return {
    type: 'CancelOrder',
    command_id: `risk-cancel-${seq}`,
    client_order_id: order.client_order_id,
    strategy_id: order.strategy_id,
    account_id: order.account_id,
    instrument_id: order.instrument_id,
    venue: null,
    ts_init: frame * 1000,
    causation_id: `risk-control-${changeSeq}`,
  };
}

function changed(
  seq: number,
  tradingState: TradingState,
  reason: string,
  frame: number,
  limits: RiskLimits = DEFAULT_LIMITS,
): RiskControlChanged {
  return {
    change_id: `risk-control-${seq}`,
    stage: 'risk',
    trading_state: tradingState,
    limits_json: JSON.stringify(limits),
    reason,
    principal: 'ops',
    ts_event: frame * 1000,
  };
}

/** The caller of the controls in these tests, as the control endpoint authenticates it. */
const OPS = { principal: 'ops' };

const state = (tradingState: TradingState, reason: string): RiskControlRequest => ({
  control: 'state',
  tradingState,
  reason,
  principal: 'ops',
});

const c = {
  a: submit('a'),
  b: submit('b', { quantity: 200 }),
  c: submit('c', { side: 'SELL', price: 3510 }),
  d: submit('d', { price: 3490 }),
  x: cancel('x', 'a'),
  u: cancel('u', 'unknown'),
} satisfies Record<string, OrderCommand>;
const ticks = { t: tick };

describe('risk', () => {
  let scheduler: TestScheduler;
  let denials: Subject<OrderDenied>;
  let control: Subject<RiskControlChanged>;
  let metrics: StageMetrics;
  let options: RiskOptions;
  /** Errors RxJS would have thrown as uncaught exceptions. */
  let uncaught: unknown[];
  beforeEach(() => {
    scheduler = createTestScheduler();
    denials = new Subject<OrderDenied>();
    control = new Subject<RiskControlChanged>();
    metrics = new StageMetrics('risk', 'risk', [1]);
    options = { stage: 'risk', scheduler, denials, control, metrics };
    uncaught = [];
    config.onUnhandledError = (error) => uncaught.push(error);
  });
  afterEach(() => {
    config.onUnhandledError = null;
  });

  it('emits nothing for never', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold<OrderCommand>('-');
      const e1subs = '               ^';
      const expected = '             -';
      expectObservable(denials).toBe('-');
      expectObservable(risk(options)({ commands: e1, ticks: cold('-'), events: cold('-') })).toBe(expected);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('completes on empty', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold<OrderCommand>('|');
      const e1subs = '               (^!)';
      const expected = '             |';
      expectObservable(risk(options)({ commands: e1, ticks: cold('|'), events: cold('|') })).toBe(expected);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('completes once commands, ticks and events have all completed', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  -a|', c);
      const t1 = cold('  t---|', ticks);
      const v1 = cold<OrderEvent>('------|');
      const expected = ' -a----|';
      expectObservable(risk(options)({ commands: e1, ticks: t1, events: v1 })).toBe(expected, c);
    });
  });

  it('passes one submit that every rule allows', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -a|', c);
      const e1subs = '   ^-!';
      const expected = ' -a|';
      expectObservable(denials).toBe('-');
      expectObservable(risk(options)({ commands: e1, ticks: cold('t|', ticks), events: EMPTY })).toBe(expected, c);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('passes what the rules allow and turns the rest into OrderDenied events, submits and cancels alike', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  -a-b-c-x-u|', c);
      const expected = ' -a---c-x--|';
      const refused = '  ---B-----U';
      expectObservable(denials).toBe(refused, {
        B: denied(c.b, 'MAX_ORDER_VOLUME_EXCEEDED', 'max-order-volume: quantity 200 lots exceeds max_order_volume 100', 3, 1),
        U: denied(c.u, 'UNKNOWN_ORDER', 'unknown-order: no working order o-unknown of strategy strat to cancel', 9, 2),
      });
      expectObservable(risk(options)({ commands: e1, ticks: cold('t|', ticks), events: EMPTY })).toBe(expected, c);
    });
    expect(Object.fromEntries(metrics.droppedByReason)).toEqual({ denied: 2 });
  });

  it('throttles submits on the scheduler: no more than submit_rate_per_s pass in any one second', () => {
    const burst = { a: submit('a'), b: submit('b'), c: submit('c'), d: submit('d'), e: submit('e') };
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  -abc 997ms de|', burst);
      const expected = ' -ab- 997ms de|';
      const refused = '  ---C';
      expectObservable(denials).toBe(refused, {
        C: denied(
          burst.c,
          'RATE_LIMIT_EXCEEDED',
          'submit-rate: account acc sent 2 submits in the last second, limit submit_rate_per_s 2',
          3,
          1,
        ),
      });
      const limits = { submit_rate_per_s: 2, rule_duplicate_order: false };
      expectObservable(risk({ ...options, limits })({ commands: e1, ticks: cold('t|', ticks), events: EMPTY })).toBe(expected, burst);
    });
  });

  it('follows the order router’s events: a filled order can no longer be canceled, a fill moves the position', () => {
    const big = submit('g', { quantity: 6 });
    const more = submit('h', { quantity: 5, price: 3501 });
    const cmds = { g: big, h: more, x: cancel('x', 'g') };
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  -g---x-h|', cmds);
      const v1 = cold('  ---f|', { f: fill(big, 6, 0) });
      const expected = ' -g------|';
      const refused = '  -----X-H';
      expectObservable(denials).toBe(refused, {
        X: denied(cmds.x, 'UNKNOWN_ORDER', 'unknown-order: no working order o-g of strategy strat to cancel', 5, 1),
        H: denied(
          more,
          'MAX_POSITION_EXCEEDED',
          'max-position: long position in SHFE.rb2501 could reach 11 lots (net 6, working 0, order 5), exceeds max_position 10',
          7,
          2,
        ),
      });
      expectObservable(risk({ ...options, limits: { max_position: 10 } })({ commands: e1, ticks: cold('t|', ticks), events: v1 })).toBe(
        expected,
        cmds,
      );
    });
  });

  it('halts: denies new submits, cancels every working order caused by the change, and still passes cancels', () => {
    scheduler.run(({ cold, hot, expectObservable }) => {
      const e1 = cold('  -a-c-----d-x|', c);
      const h1 = hot<RiskControlRequest>('-----h', { h: state('HALTED', 'drawdown') });
      const expected = ' -a-c-(yz)--x|';
      const refused = '  ---------D';
      const audited = '  -----H';
      expectObservable(control).toBe(audited, { H: changed(1, 'HALTED', 'drawdown', 5) });
      expectObservable(denials).toBe(refused, {
        D: denied(
          c.d,
          'TRADING_HALTED',
          'trading-state: trading is HALTED; submits are denied until the state is ACTIVE or REDUCING',
          9,
          1,
        ),
      });
      const values = { ...c, y: killCancel(c.a, 5, 1, 1), z: killCancel(c.c, 5, 2, 1) };
      expectObservable(risk(options)({ commands: e1, ticks: cold('t|', ticks), events: EMPTY, controls: h1 })).toBe(expected, values);
    });
  });

  it('resumes after a halt, and cancels only orders without a pending cancel when halted again', () => {
    const cmds = { a: c.a, c: c.c, x: c.x, d: c.d };
    scheduler.run(({ cold, hot, expectObservable }) => {
      const e1 = cold('  -a-c-x-----d-|', cmds);
      const h1 = hot<RiskControlRequest>('-------h-r---H', {
        h: state('HALTED', 'test'),
        r: state('ACTIVE', 'all clear'),
        H: state('HALTED', 'again'),
      });
      const expected = ' -a-c-x-y---d-(z|)';
      const audited = '  -------h-r---H';
      expectObservable(control).toBe(audited, {
        h: changed(1, 'HALTED', 'test', 7),
        r: changed(2, 'ACTIVE', 'all clear', 9),
        H: changed(3, 'HALTED', 'again', 13),
      });
      // a's cancel is pending since x, so the halt at 7 cancels only c; at 13, c's cancel is still pending, so d alone.
      const values = { ...cmds, y: killCancel(c.c, 7, 1, 1), z: killCancel(c.d, 13, 2, 3) };
      expectObservable(risk(options)({ commands: e1, ticks: cold('t|', ticks), events: EMPTY, controls: h1 })).toBe(expected, values);
    });
  });

  it('while REDUCING passes only orders that close a position without going past flat', () => {
    const open2 = submit('a', { quantity: 2 });
    const cmds = {
      a: open2,
      e: submit('e'),
      f: submit('f', { side: 'SELL', position_effect: 'CLOSE', quantity: 2, price: 3495 }),
      g: submit('g', { side: 'SELL', position_effect: 'CLOSE', price: 3496 }),
    };
    scheduler.run(({ cold, hot, expectObservable }) => {
      const e1 = cold('  -a---e-f-g|', cmds);
      const v1 = cold('  --f|', { f: fill(open2, 2, 0) });
      const h1 = hot<RiskControlRequest>('---r', { r: state('REDUCING', 'end of day') });
      const expected = ' -a-----f--|';
      const refused = '  -----E---G';
      expectObservable(control).toBe('---R', { R: changed(1, 'REDUCING', 'end of day', 3) });
      expectObservable(denials).toBe(refused, {
        E: denied(
          cmds.e,
          'REDUCE_ONLY',
          'trading-state: trading is REDUCING; an OPEN BUY would add a position (net 2 lots in SHFE.rb2501)',
          5,
          1,
        ),
        G: denied(
          cmds.g,
          'REDUCE_ONLY',
          'trading-state: trading is REDUCING; SELL 1 lots with 2 working on that side would exceed the 2 lots it can reduce (net 2 in SHFE.rb2501)',
          9,
          2,
        ),
      });
      expectObservable(risk(options)({ commands: e1, ticks: cold('t|', ticks), events: v1, controls: h1 })).toBe(expected, cmds);
    });
  });

  it('applies limits changed at run time at once, including rule switches, and reports every change', () => {
    const cmds = {
      a: submit('a', { quantity: 2 }),
      b: submit('b', { quantity: 3, price: 3499 }),
      d: submit('d', { quantity: 3, price: 3498 }),
    };
    const tighter = { ...DEFAULT_LIMITS, max_order_volume: 2 };
    const switchedOff = { ...tighter, rule_max_order_volume: false };
    scheduler.run(({ cold, hot, expectObservable }) => {
      const e1 = cold('  -a--b--d|', cmds);
      const h1 = hot<RiskControlRequest>('--l---o', {
        l: { control: 'limits', limits: { max_order_volume: 2 }, reason: 'tighter', principal: 'ops' },
        o: { control: 'limits', limits: { rule_max_order_volume: false }, reason: 'volume rule off', principal: 'ops' },
      });
      const expected = ' -a-----d|';
      expectObservable(control).toBe('--l---o', {
        l: changed(1, 'ACTIVE', 'tighter', 2, tighter),
        o: changed(2, 'ACTIVE', 'volume rule off', 6, switchedOff),
      });
      expectObservable(denials).toBe('----B', {
        B: denied(cmds.b, 'MAX_ORDER_VOLUME_EXCEEDED', 'max-order-volume: quantity 3 lots exceeds max_order_volume 2', 4, 1),
      });
      expectObservable(risk(options)({ commands: e1, ticks: cold('t|', ticks), events: EMPTY, controls: h1 })).toBe(expected, cmds);
    });
  });

  it('starts in the given trading state', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  -a|', c);
      const expected = ' --|';
      expectObservable(denials).toBe('-A', {
        A: denied(
          c.a,
          'TRADING_HALTED',
          'trading-state: trading is HALTED; submits are denied until the state is ACTIVE or REDUCING',
          1,
          1,
        ),
      });
      expectObservable(risk({ ...options, initialState: 'HALTED' })({ commands: e1, ticks: EMPTY, events: EMPTY })).toBe(expected, c);
    });
  });

  it('passes an error of the commands through', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -a-#', c, new Error('strategy failed'));
      const e1subs = '   ^--!';
      const expected = ' -a-#';
      expectObservable(risk(options)({ commands: e1, ticks: cold('t', ticks), events: NEVER })).toBe(
        expected,
        c,
        new Error('strategy failed'),
      );
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('passes an error of the order router’s events through, and unsubscribes from the commands', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -a---b', c);
      const e1subs = '   ^-!';
      const v1 = cold<OrderEvent>('--#', {}, new Error('router lost'));
      const expected = ' -a#';
      expectObservable(risk(options)({ commands: e1, ticks: cold('t', ticks), events: v1 })).toBe(expected, c, new Error('router lost'));
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('follows sources that never end, and unsubscribes from every input when unsubscribed early', () => {
    scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const e1 = hot('   -a-b-c-d-', c);
      const t1 = cold('  t', ticks);
      const v1 = cold<OrderEvent>('-');
      const h1 = hot<RiskControlRequest>('-');
      const unsub = '    -----!   ';
      const e1subs = '   ^----!   ';
      const expected = ' -a---     ';
      expectObservable(risk(options)({ commands: e1, ticks: t1, events: v1, controls: h1 }), unsub).toBe(expected, c);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
      expectSubscriptions(t1.subscriptions).toBe(e1subs);
      expectSubscriptions(v1.subscriptions).toBe(e1subs);
      expectSubscriptions(h1.subscriptions).toBe(e1subs);
    });
  });

  it('fails the stream when the denials observer throws', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const boom = new Error('denial sink broke');
      const e1 = cold('  -ab', c);
      const e1subs = '   ^-!';
      const expected = ' -a#';
      const throwing = {
        next: () => {
          throw boom;
        },
      };
      expectObservable(risk({ ...options, denials: throwing })({ commands: e1, ticks: cold('t', ticks), events: NEVER })).toBe(
        expected,
        c,
        boom,
      );
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('fails the stream when the control observer throws, before any cancel leaves', () => {
    scheduler.run(({ cold, hot, expectObservable }) => {
      const boom = new Error('audit broke');
      const e1 = cold('  -a---', c);
      const h1 = hot<RiskControlRequest>('--h', { h: state('HALTED', 'x') });
      const expected = ' -a#';
      const throwing = {
        next: () => {
          throw boom;
        },
      };
      expectObservable(
        risk({ ...options, control: throwing })({ commands: e1, ticks: cold('t', ticks), events: NEVER, controls: h1 }),
      ).toBe(expected, c, boom);
    });
  });

  it('fails the stream when the metrics hook throws on a denial', () => {
    const boom = new Error('metrics broke');
    const throwingMetrics = {
      dropped: () => {
        throw boom;
      },
    };
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -abc', c);
      const e1subs = '   ^-!';
      const expected = ' -a#';
      expectObservable(denials).toBe('---');
      expectObservable(risk({ ...options, metrics: throwingMetrics })({ commands: e1, ticks: cold('t', ticks), events: NEVER })).toBe(
        expected,
        c,
        boom,
      );
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
    expect(uncaught).toEqual([]);
  });

  it('fails the stream when the trading calendar throws in a rule', () => {
    const broken = new Error('calendar broke');
    class BrokenSessions extends TradingSessions {
      override tradingDay(): string {
        throw broken;
      }
    }
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -ab', c);
      const e1subs = '   ^!';
      expectObservable(risk({ ...options, sessions: new BrokenSessions() })({ commands: e1, ticks: cold('t', ticks), events: NEVER })).toBe(
        '-#',
        undefined,
        broken,
      );
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
    expect(uncaught).toEqual([]);
  });

  it('still sends every kill-switch cancel it recorded when a command fed back between them fails the stream', () => {
    const boom = new Error('denial sink broke');
    const commands = new Subject<OrderCommand>();
    const controls = new Subject<RiskControlRequest>();
    const seen: string[] = [];
    let failure: unknown;
    const throwing = {
      next: () => {
        throw boom;
      },
    };
    risk({ ...options, denials: throwing })({ commands, ticks: of(tick), events: NEVER, controls }).subscribe({
      next: (command) => {
        seen.push(command.command_id);
        // A strategy that answers the first cancel with a new order, which the halt denies.
        if (command.command_id === 'risk-cancel-1') commands.next(submit('late'));
      },
      error: (error: unknown) => (failure = error),
    });
    commands.next(c.a);
    commands.next(c.d);
    controls.next(state('HALTED', 'drawdown'));
    expect(seen).toEqual(['cmd-a', 'cmd-d', 'risk-cancel-1', 'risk-cancel-2']);
    expect(failure).toBe(boom);
    expect(commands.observed || controls.observed).toBe(false);
    expect(uncaught).toEqual([]);
  });

  it('sees its own state when a subscriber answers at once with events and commands, and when the denials observer sends more', () => {
    scheduler.run(() => {
      const commands = new Subject<OrderCommand>();
      const events = new Subject<OrderEvent>();
      const seen: string[] = [];
      const reasons: DenialReason[] = [];
      const again = submit('again', { price: 3500 });
      const reentrant = {
        next: (denial: OrderDenied) => {
          reasons.push(denial.reason_code);
          // Sent from inside the denial of the cancel: the fill that caused it must already count.
          if (denial.reason_code === 'UNKNOWN_ORDER') commands.next(submit('big', { quantity: 10, price: 3480 }));
        },
      };
      risk({ ...options, denials: reentrant, limits: { max_position: 10 } })({ commands, ticks: of(tick), events }).subscribe((command) => {
        seen.push(command.command_id);
        if (command === c.a) {
          // A paper router fills at once; the strategy then cancels and repeats itself.
          events.next(fill(c.a, 1, 0));
          commands.next(c.x);
          commands.next(again);
        }
      });
      commands.next(c.a);
      commands.next(c.d);
      expect(seen).toEqual(['cmd-a', 'cmd-d']);
      expect(reasons).toEqual(['UNKNOWN_ORDER', 'MAX_POSITION_EXCEEDED', 'DUPLICATE_ORDER']);
    });
  });

  it('makes records that match their schemas: OrderDenied with every field set, the kill switch’s CancelOrder, RiskControlChanged', () => {
    const records: { schema: 'OrderEvent' | 'OrderCommand' | 'RiskControlChanged'; value: unknown }[] = [];
    scheduler.run(({ cold, hot }) => {
      const h1 = hot<RiskControlRequest>('---h', { h: state('HALTED', 'x') });
      risk({
        ...options,
        denials: { next: (d) => records.push({ schema: 'OrderEvent', value: d }) },
        control: { next: (r) => records.push({ schema: 'RiskControlChanged', value: r }) },
      })({
        commands: cold('-ab-d', c),
        ticks: cold('t', ticks),
        events: NEVER,
        controls: h1,
      }).subscribe((command) => records.push({ schema: 'OrderCommand', value: command }));
    });
    expect(records.map((r) => r.schema)).toEqual(['OrderCommand', 'OrderEvent', 'RiskControlChanged', 'OrderCommand', 'OrderEvent']);
    for (const { schema, value } of records) expect(catalog.codec(schema).check(value)).toBeUndefined();
    for (const { value } of records.filter((r) => r.schema === 'OrderEvent'))
      expect(Object.values(value as object).every((v) => v !== null && v !== undefined && v !== '')).toBe(true);
  });

  it('rejects limits that are unknown or out of range, listing every problem', () => {
    expect(() => risk({ limits: { max_order_volume: 0, bogus: 1 } as Partial<RiskLimits> })).toThrow(ConfigError);
    expect(() => risk({ limits: { max_order_volume: 0, bogus: 1 } as Partial<RiskLimits> })).toThrow(
      /2 problems:[\s\S]*unknown field 'bogus'[\s\S]*'max_order_volume' must be at least 1, got 0/,
    );
  });

  it('never lets more than submit_rate_per_s (per account) and submit_rate_per_instrument_per_s pass in any one second of virtual time, and denies only when one is full', () => {
    const steps = fc.array(
      fc.record({
        gapMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 700 })),
        account: fc.constantFrom('acc-1', 'acc-2'),
        instrument: fc.constantFrom('SHFE.rb2501', 'SHFE.hc2501'),
      }),
      { minLength: 5, maxLength: 60, size: 'max' },
    );
    const totals = { passed: 0, refused: 0 };
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), steps, (perAccount, perInstrument, arrivals) => {
        const passed: { at: number; account: string; instrument: string }[] = [];
        const refused: { at: number; account: string; instrument: string; code: DenialReason }[] = [];
        const caseScheduler = createTestScheduler();
        caseScheduler.run(() => {
          const commands = new Subject<OrderCommand>();
          const limits = {
            submit_rate_per_s: perAccount,
            submit_rate_per_instrument_per_s: perInstrument,
            rule_price_band: false,
            rule_duplicate_order: false,
          };
          risk({
            scheduler: caseScheduler,
            limits,
            denials: {
              next: (d) =>
                refused.push({ at: caseScheduler.now(), account: d.account_id, instrument: d.instrument_id, code: d.reason_code }),
            },
          })({
            commands,
            ticks: NEVER,
            events: NEVER,
          }).subscribe((command) =>
            passed.push({ at: caseScheduler.now(), account: command.account_id, instrument: command.instrument_id }),
          );
          let at = 0;
          arrivals.forEach((step, i) => {
            at += step.gapMs;
            caseScheduler.schedule(() => commands.next(submit(`p${i}`, { account_id: step.account, instrument_id: step.instrument })), at);
          });
        });
        const within = (t: number, start: number): boolean => t >= start && t < start + 1000;
        for (const p of passed) {
          expect(passed.filter((q) => q.account === p.account && within(q.at, p.at)).length).toBeLessThanOrEqual(perAccount);
          expect(
            passed.filter((q) => q.account === p.account && q.instrument === p.instrument && within(q.at, p.at)).length,
          ).toBeLessThanOrEqual(perInstrument);
        }
        for (const r of refused) {
          expect(r.code).toBe('RATE_LIMIT_EXCEEDED');
          const recent = passed.filter((q) => q.account === r.account && q.at > r.at - 1000 && q.at <= r.at);
          const full = recent.length >= perAccount || recent.filter((q) => q.instrument === r.instrument).length >= perInstrument;
          expect(full).toBe(true);
        }
        expect(passed.length + refused.length).toBe(arrivals.length);
        totals.passed += passed.length;
        totals.refused += refused.length;
      }),
      { numRuns: 200 },
    );
    // Not vacuous: the generated arrivals both pass and hit the limits.
    expect(totals.passed).toBeGreaterThan(1000);
    expect(totals.refused).toBeGreaterThan(1000);
  });

  it('while REDUCING never passes an order that would increase absolute exposure, whatever fills and cancels come back', () => {
    const INSTRUMENTS = ['SHFE.rb2501', 'SHFE.hc2501'] as const;
    const step = fc.oneof(
      fc.record({
        kind: fc.constant('submit' as const),
        instrument: fc.constantFrom(...INSTRUMENTS),
        side: fc.constantFrom<OrderSide>('BUY', 'SELL'),
        quantity: fc.integer({ min: 1, max: 3 }),
        effect: fc.constantFrom<PositionEffect>('OPEN', 'CLOSE', 'CLOSE_TODAY', 'CLOSE_YESTERDAY'),
      }),
      fc.record({ kind: fc.constant('fill' as const), pick: fc.nat(), lots: fc.nat() }),
      fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }),
      fc.record({
        kind: fc.constant('outside-fill' as const),
        instrument: fc.constantFrom(...INSTRUMENTS),
        side: fc.constantFrom<OrderSide>('BUY', 'SELL'),
        quantity: fc.integer({ min: 1, max: 3 }),
      }),
    );
    let passedTotal = 0;
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -10, max: 10 }), { minLength: 2, maxLength: 2 }),
        fc.array(step, { minLength: 5, maxLength: 40, size: 'max' }),
        (starting, steps) => {
          const net = new Map<string, number>();
          const working: { order: SubmitOrder; leaves: number }[] = [];
          const commands = new Subject<OrderCommand>();
          const events = new Subject<OrderEvent>();
          const caseScheduler = createTestScheduler();
          let n = 0;
          const moveNet = (instrument: string, side: OrderSide, lots: number): void =>
            void net.set(instrument, (net.get(instrument) ?? 0) + (side === 'BUY' ? lots : -lots));
          caseScheduler.run(() => {
            const limits = { rule_price_band: false, rule_duplicate_order: false, rule_self_trade: false };
            risk({ scheduler: caseScheduler, limits, initialState: 'REDUCING' })({ commands, ticks: NEVER, events }).subscribe(
              (command) => {
                if (command.type !== 'SubmitOrder') return;
                const p = net.get(command.instrument_id) ?? 0;
                const sign = command.side === 'BUY' ? 1 : -1;
                const sameSide = working
                  .filter((w) => w.order.instrument_id === command.instrument_id && w.order.side === command.side)
                  .reduce((sum, w) => sum + w.leaves, 0);
                const worst = p + sign * (sameSide + command.quantity);
                // The order, with every working order on its side, can only bring the position toward flat.
                expect(command.position_effect).not.toBe('OPEN');
                expect(Math.abs(worst)).toBeLessThanOrEqual(Math.abs(p));
                expect(Math.sign(worst) * Math.sign(p)).toBeGreaterThanOrEqual(0);
                working.push({ order: command, leaves: command.quantity });
                passedTotal++;
              },
            );
            INSTRUMENTS.forEach((instrument, i) => {
              const lots = starting[i] ?? 0;
              if (lots === 0) return;
              const side: OrderSide = lots > 0 ? 'BUY' : 'SELL';
              events.next(fill(submit(`start-${i}`, { instrument_id: instrument, side, quantity: Math.abs(lots) }), Math.abs(lots), 0));
              moveNet(instrument, side, Math.abs(lots));
            });
            for (const s of steps) {
              if (s.kind === 'submit') {
                const order = submit(`s${n++}`, {
                  instrument_id: s.instrument,
                  side: s.side,
                  quantity: s.quantity,
                  position_effect: s.effect,
                });
                // And not stricter than that: a closing order within what can still be reduced passes.
                const p = net.get(s.instrument) ?? 0;
                const sameSide = working
                  .filter((w) => w.order.instrument_id === s.instrument && w.order.side === s.side)
                  .reduce((sum, w) => sum + w.leaves, 0);
                const reducible = s.side === 'BUY' ? -p : p;
                const passesBefore = passedTotal;
                commands.next(order);
                expect(passedTotal > passesBefore).toBe(s.effect !== 'OPEN' && sameSide + s.quantity <= reducible);
              } else if (s.kind === 'outside-fill') {
                events.next(fill(submit(`x${n++}`, { instrument_id: s.instrument, side: s.side, quantity: s.quantity }), s.quantity, 0));
                moveNet(s.instrument, s.side, s.quantity);
              } else if (working.length > 0) {
                const index = s.pick % working.length;
                const w = working[index] as { order: SubmitOrder; leaves: number };
                if (s.kind === 'cancel') {
                  events.next({
                    type: 'OrderCanceled',
                    event_id: `cx${n++}`,
                    client_order_id: w.order.client_order_id,
                    strategy_id: w.order.strategy_id,
                    account_id: w.order.account_id,
                    instrument_id: w.order.instrument_id,
                    venue_order_id: null,
                    filled_quantity: w.order.quantity - w.leaves,
                    ts_event: T,
                    ts_init: T,
                    causation_id: 'c',
                  });
                  working.splice(index, 1);
                } else {
                  const lots = 1 + (s.lots % w.leaves);
                  w.leaves -= lots;
                  events.next(fill(w.order, lots, w.leaves));
                  moveNet(w.order.instrument_id, w.order.side, lots);
                  if (w.leaves === 0) working.splice(index, 1);
                }
              }
            }
          });
        },
      ),
      { numRuns: 200 },
    );
    // Not vacuous: reducing orders do pass.
    expect(passedTotal).toBeGreaterThan(100);
  });
});

describe('riskOperator', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = createTestScheduler();
  });

  it('documents every limit and switch with a default and an example, and fills the defaults', () => {
    for (const [name, spec] of Object.entries(riskOperator.spec)) {
      expect(spec.description.length, name).toBeGreaterThan(10);
      expect(spec.default, name).toBeDefined();
      expect(spec.example, name).toBeDefined();
    }
    expect(validateConfig('risk', riskOperator.spec, {})).toEqual({ ...DEFAULT_LIMITS, initial_state: 'ACTIVE' });
    expect(DEFAULT_LIMITS.submit_rate_per_s).toBe(300);
    expect(() => validateConfig('risk', riskOperator.spec, { initial_state: 'PAUSED', max_lots: 1 })).toThrow(
      /unknown field 'max_lots'[\s\S]*'initial_state' must be one of ACTIVE, REDUCING, HALTED/,
    );
    expect(riskOperator.in).toEqual({ commands: 'OrderCommand', ticks: 'Tick', events: 'OrderEvent' });
    expect(riskOperator.sideOutputs).toEqual({ denials: 'OrderEvent', control: 'RiskControlChanged' });
  });

  function started(config: Record<string, unknown> = {}, logLines: string[] = []) {
    const logger = pino({ level: 'debug', base: undefined, timestamp: false }, { write: (line: string) => logLines.push(line) });
    const ctx = testContext(scheduler, riskOperator, { stage: 'risk', logger });
    const stage = riskOperator.create(validateConfig('risk', riskOperator.spec, config), ctx);
    const commands = new Subject<OrderCommand>();
    const out: OrderCommand[] = [];
    const sides = { denials: [] as unknown[], control: [] as unknown[] };
    ctx.sides.get('denials')?.subscribe((d) => sides.denials.push(d));
    ctx.sides.get('control')?.subscribe((r) => sides.control.push(r));
    const subscription = stage({ commands, ticks: of(tick), events: NEVER }).subscribe((command) => out.push(command));
    return { ctx, commands, out, sides, subscription };
  }

  it('halts through the state control: validates, applies at once, answers with the new state and limits, and audits the change', async () => {
    const logLines: string[] = [];
    const { ctx, commands, out, sides } = started({ max_order_volume: 10 }, logLines);
    commands.next(c.a);
    commands.next(c.d);
    const stateControl = ctx.controls.get('state');
    expect(() => stateControl?.({ trading_state: 'STOP', why: 'x' }, OPS)).toThrow(ConfigError);
    expect(sides.control).toEqual([]);
    const answer = stateControl?.({ trading_state: 'HALTED', reason: 'drawdown' }, OPS);
    const limits = { ...DEFAULT_LIMITS, max_order_volume: 10 };
    expect(answer).toEqual({
      stage: 'risk',
      change_id: 'risk-control-1',
      trading_state: 'HALTED',
      previous_trading_state: 'ACTIVE',
      limits,
      reason: 'drawdown',
      principal: 'ops',
      ts_event: 0,
      cancels_sent: 2,
    });
    expect(out.map((command) => command.command_id)).toEqual(['cmd-a', 'cmd-d', 'risk-cancel-1', 'risk-cancel-2']);
    expect(sides.control).toEqual([changed(1, 'HALTED', 'drawdown', 0, limits)]);
    commands.next(c.b);
    expect(sides.denials).toEqual([
      denied(c.b, 'TRADING_HALTED', 'trading-state: trading is HALTED; submits are denied until the state is ACTIVE or REDUCING', 0, 1),
    ]);
    const text = await ctx.registry.metrics();
    expect(text).toContain('tickflow_risk_denials_total{stage="risk",reason="TRADING_HALTED"} 1');
    expect(text).toContain('tickflow_risk_trading_state{stage="risk"} 2');
    const logged = logLines.map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(logged.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([
      'trading state ACTIVE -> HALTED (risk-control-1) by ops: drawdown',
    ]);
  });

  it('changes limits through the limits control, and refuses bad ones listing every problem', () => {
    const { ctx, commands, out, sides } = started();
    const limitsControl = ctx.controls.get('limits');
    let error: ConfigError | undefined;
    try {
      limitsControl?.({ max_order_volume: -1, max_lots: 2 }, OPS);
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.problems).toHaveLength(2);
    expect(error?.message).toMatch(/^control risk\/limits: 2 problems:/);
    const answer = limitsControl?.({ max_order_volume: 1, reason: 'one lot at a time' }, OPS) as {
      limits: RiskLimits;
      trading_state: TradingState;
      cancels_sent: number;
    };
    expect(answer.limits.max_order_volume).toBe(1);
    expect(answer.trading_state).toBe('ACTIVE');
    expect(answer.cancels_sent).toBe(0);
    commands.next(submit('two', { quantity: 2 }));
    expect(out).toEqual([]);
    expect((sides.denials[0] as OrderDenied).reason).toBe('max-order-volume: quantity 2 lots exceeds max_order_volume 1');
    expect((sides.control[0] as RiskControlChanged).reason).toBe('one lot at a time');
  });

  it('refuses a control while the stage is not running', () => {
    const ctx = testContext(scheduler, riskOperator, { stage: 'risk' });
    riskOperator.create(validateConfig('risk', riskOperator.spec, {}), ctx);
    expect(() => ctx.controls.get('state')?.({ trading_state: 'HALTED' }, OPS)).toThrow(StageError);
    expect(() => ctx.controls.get('state')?.({ trading_state: 'HALTED' }, OPS)).toThrow(
      "control risk/state: stage 'risk' (risk) is not running, so the change was not applied",
    );
  });
});

/** The control token of principal `ops` in the halt and resume tests. */
const OPS_TOKEN = 'ops-token-0123456789abcdef';

describe('haltCommand and resumeCommand', () => {
  let endpoint: HttpEndpoint | undefined;
  afterEach(async () => {
    await endpoint?.close();
    endpoint = undefined;
  });

  function capture(): { io: CliIo; out: () => string; err: () => string } {
    let out = '';
    let err = '';
    return {
      io: { out: (t) => void (out += t), err: (t) => void (err += t), env: { USER: 'tester', TICKFLOW_CONTROL_TOKEN: OPS_TOKEN } },
      out: () => out,
      err: () => err,
    };
  }

  const args = (values: Record<string, string>, positionals: string[] = []): ParsedArgs => ({
    values: { url: 'http://127.0.0.1:9464', stage: 'risk', ...values },
    positionals,
  });

  async function serve(controls: ReadonlyMap<string, ReadonlyMap<string, ControlHandler>>): Promise<HttpEndpoint> {
    endpoint = await startHttpServer({
      port: 0,
      health: () => ({ pipeline: 'test', state: 'running', stages: {} }),
      metrics: async () => '',
      controls: () => controls,
      controlAccess: ControlAccess.tokens([`ops:${OPS_TOKEN}`], 'the test'),
      logger: pino({ level: 'silent' }),
    });
    return endpoint;
  }

  it('halts a running risk stage over HTTP, which cancels its working orders, and resumes it', async () => {
    const scheduler = createTestScheduler();
    const ctx = testContext(scheduler, riskOperator, { stage: 'risk' });
    const stage = riskOperator.create(validateConfig('risk', riskOperator.spec, {}), ctx);
    const commands = new Subject<OrderCommand>();
    const out: OrderCommand[] = [];
    const audited: RiskControlChanged[] = [];
    ctx.sides.get('control')?.subscribe((r) => audited.push(r as RiskControlChanged));
    const subscription = stage({ commands, ticks: of(tick), events: NEVER }).subscribe((command) => out.push(command));
    commands.next(c.a);
    const { url } = await serve(new Map([['risk', ctx.controls]]));

    const halt = capture();
    expect(await haltCommand.run(args({ url, reason: 'drawdown' }), halt.io)).toBe(0);
    expect(halt.out()).toBe('risk: ACTIVE -> HALTED (risk-control-1) by ops; 1 working order canceled; reason: drawdown\n');
    expect(halt.err()).toBe('');
    expect(out.map((command) => [command.type, command.causation_id])).toEqual([
      ['SubmitOrder', 'sig-a'],
      ['CancelOrder', 'risk-control-1'],
    ]);

    const resume = capture();
    expect(await resumeCommand.run(args({ url: `${url}/` }), resume.io)).toBe(0);
    expect(resume.out()).toBe('risk: HALTED -> ACTIVE (risk-control-2) by ops; reason: tickflow resume\n');
    expect(audited.map((r) => [r.trading_state, r.principal, r.reason])).toEqual([
      ['HALTED', 'ops', 'drawdown'],
      ['ACTIVE', 'ops', 'tickflow resume'],
    ]);
    commands.next(c.d);
    expect(out.at(-1)).toBe(c.d);
    subscription.unsubscribe();
  });

  it('says clearly when the pipeline is not reachable, naming the URL', async () => {
    const { url } = await serve(new Map());
    await endpoint?.close();
    endpoint = undefined;
    const halt = capture();
    expect(await haltCommand.run(args({ url }), halt.io)).toBe(1);
    expect(halt.err()).toBe(
      `cannot reach the pipeline at ${url}: connection refused (ECONNREFUSED); is it running (tickflow run …), and is --url its HTTP port (run --port, default 9464)?\n`,
    );
    expect(halt.out()).toBe('');
  });

  it('reports what the pipeline answers when the stage has no such control or refuses the change', async () => {
    const refusing = new Map([
      [
        'state',
        () => {
          throw new ConfigError('control risk/state', ['stage is busy']);
        },
      ],
    ]);
    const { url } = await serve(new Map([['risk', refusing]]));
    const unknown = capture();
    expect(await haltCommand.run(args({ url, stage: 'risk-2' }), unknown.io)).toBe(1);
    expect(unknown.err()).toBe(`${url}/control/risk-2/state: HTTP 404: no control risk-2/state; controls: risk/state\n`);
    const refused = capture();
    expect(await resumeCommand.run(args({ url }), refused.io)).toBe(1);
    expect(refused.err()).toBe(`${url}/control/risk/state: HTTP 400: control risk/state: stage is busy\n`);
  });

  it('names the flag and the bad value', async () => {
    const io = capture().io;
    await expect(haltCommand.run(args({ url: 'ftp://host' }), io)).rejects.toThrow(
      new UsageError("--url must be the http:// address of the pipeline's HTTP port, e.g. http://127.0.0.1:9464; got 'ftp://host'"),
    );
    await expect(haltCommand.run(args({ url: 'not a url' }), io)).rejects.toThrow(UsageError);
    await expect(haltCommand.run(args({ stage: 'a/b' }), io)).rejects.toThrow("--stage must be a stage id (no '/' or spaces); got 'a/b'");
    await expect(resumeCommand.run(args({}, ['now']), io)).rejects.toThrow(
      "unexpected argument 'now'; resume takes only flags: --url, --stage, --reason, --token-file",
    );
    expect(resumeCommand.options).toEqual(haltCommand.options);
  });
});
