import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../errors/errors.js';
import {
  AccountId,
  InstrumentId,
  type Bar,
  type CancelOrder,
  type OrderAccepted,
  type OrderCanceled,
  type OrderCommand,
  type OrderFilled,
  type OrderSubmitted,
  type SubmitOrder,
} from '../../schemas/generated.js';
import { movingAverageCrossover, type MovingAverageCrossoverParams } from '../../strategies/moving-average-crossover.js';
import { barId, createStrategyContext, type StrategyOutput, type StrategyRuntime } from '../../strategies/strategy-api.js';

const T0 = 1_735_822_800_000_000;
const MINUTE = 60_000_000;
const NOW = T0 + 123;
const RB = InstrumentId('SHFE.rb2501');

/** Bar `i` (one minute each from T0) of `instrument` closing at `close`. */
function bar(i: number, close: number, instrument: string = RB): Bar {
  return {
    instrument_id: InstrumentId(instrument),
    period_s: 60,
    trading_day: '20250103',
    ts_open: T0 + i * MINUTE,
    ts_close: T0 + (i + 1) * MINUTE,
    open: close,
    high: close,
    low: close,
    close,
    volume: 10,
    turnover: close * 100,
    open_interest: 1000,
    tick_count: 5,
  };
}

const params: MovingAverageCrossoverParams = { id: 'ma', instruments: [RB], fastPeriod: 2, slowPeriod: 4, quantity: 1 };

/** The answers of the order router and venue to an order, as a fake venue would send them. */
const venue = {
  submitted: (c: SubmitOrder): OrderSubmitted => ({
    type: 'OrderSubmitted',
    event_id: `sub-${c.client_order_id}`,
    client_order_id: c.client_order_id,
    strategy_id: c.strategy_id,
    account_id: c.account_id,
    instrument_id: c.instrument_id,
    venue: 'paper',
    side: c.side,
    order_type: c.order_type,
    time_in_force: c.time_in_force,
    position_effect: c.position_effect,
    quantity: c.quantity,
    price: c.price,
    ts_event: NOW,
    ts_init: NOW,
    causation_id: c.command_id,
  }),
  accepted: (c: SubmitOrder): OrderAccepted => ({
    type: 'OrderAccepted',
    event_id: `acc-${c.client_order_id}`,
    client_order_id: c.client_order_id,
    strategy_id: c.strategy_id,
    account_id: c.account_id,
    instrument_id: c.instrument_id,
    venue_order_id: `v-${c.client_order_id}`,
    ts_event: NOW,
    ts_init: NOW,
    causation_id: c.command_id,
  }),
  filled: (c: SubmitOrder): OrderFilled => ({
    type: 'OrderFilled',
    event_id: `fill-${c.client_order_id}`,
    client_order_id: c.client_order_id,
    strategy_id: c.strategy_id,
    account_id: c.account_id,
    instrument_id: c.instrument_id,
    venue_order_id: `v-${c.client_order_id}`,
    trade_id: `t-${c.client_order_id}`,
    side: c.side,
    last_quantity: c.quantity,
    last_price: c.price ?? 0,
    cum_quantity: c.quantity,
    leaves_quantity: 0,
    ts_event: NOW,
    ts_init: NOW,
    causation_id: c.command_id,
  }),
  canceled: (c: CancelOrder): OrderCanceled => ({
    type: 'OrderCanceled',
    event_id: `can-${c.client_order_id}`,
    client_order_id: c.client_order_id,
    strategy_id: c.strategy_id,
    account_id: c.account_id,
    instrument_id: c.instrument_id,
    venue_order_id: `v-${c.client_order_id}`,
    filled_quantity: 0,
    ts_event: NOW,
    ts_init: NOW,
    causation_id: c.command_id,
  }),
};

/** A strategy and its context, with the commands it returns noted as the operator notes them. */
function harness(overrides: Partial<MovingAverageCrossoverParams> = {}) {
  const strategy = movingAverageCrossover({ ...params, ...overrides });
  const runtime: StrategyRuntime = createStrategyContext({ strategyId: strategy.id, accountId: AccountId('paper'), now: () => NOW });
  const take = (output: StrategyOutput): { signals: number[]; commands: OrderCommand[] } => {
    const commands = [...(output?.commands ?? [])];
    for (const command of commands) runtime.track(command);
    return { signals: (output?.signals ?? []).map((s) => s.value), commands };
  };
  return {
    strategy,
    runtime,
    ctx: runtime.context,
    onBar: (b: Bar) => take(strategy.onBar?.(b, runtime.context)),
    /** The order is submitted to the venue and accepted there. */
    accept: (c: SubmitOrder) => {
      runtime.apply(venue.submitted(c));
      runtime.apply(venue.accepted(c));
    },
    /** The order is submitted, accepted and filled in full. */
    fill: (c: SubmitOrder) => {
      runtime.apply(venue.submitted(c));
      runtime.apply(venue.accepted(c));
      runtime.apply(venue.filled(c));
    },
    /** Feeds closes as bars from index `from`, returning each bar's outcome. */
    closes: (closes: readonly number[], from = 0) =>
      closes.map((close, i) => take(strategy.onBar?.(bar(from + i, close), runtime.context))),
  };
}

/** Closes that warm up flat, fall (fast below slow), then jump: the golden cross is at index 6. */
const FALL_THEN_JUMP = [10, 10, 10, 10, 9, 8, 12];

describe('movingAverageCrossover', () => {
  it('emits nothing during warm-up, then ma_cross = fast − slow on every bar, caused by the bar', () => {
    const h = harness();
    const out = h.closes([10, 11, 12, 13, 14]);
    expect(out.slice(0, 3)).toEqual([
      { signals: [], commands: [] },
      { signals: [], commands: [] },
      { signals: [], commands: [] },
    ]);
    // Bar 3: fast (12 + 13) / 2 = 12.5, slow 11.5; bar 4: fast 13.5, slow 12.5.
    expect(out.slice(3).map((o) => o.signals)).toEqual([[1], [1]]);
    const signal = h.strategy.onBar?.(bar(5, 15), h.ctx)?.signals?.[0];
    expect(signal).toEqual({
      signal_id: 'ma-3',
      strategy_id: 'ma',
      instrument_id: RB,
      name: 'ma_cross',
      value: 1,
      ts_event: T0 + 6 * MINUTE,
      ts_init: NOW,
      causation_id: barId(bar(5, 15)),
    });
  });

  it('does not trade before the first cross, however the averages stand', () => {
    const h = harness();
    // Rising from the start: fast above slow from warm-up on, but no cross has happened.
    expect(h.closes([10, 11, 12, 13, 14, 15, 16]).flatMap((o) => o.commands)).toEqual([]);
  });

  it('buys to open at the bar close on the bar of the golden cross, caused by its signal', () => {
    const h = harness();
    const out = h.closes(FALL_THEN_JUMP);
    expect(out.map((o) => o.commands.length)).toEqual([0, 0, 0, 0, 0, 0, 1]);
    // Bar 6: fast (8 + 12) / 2 = 10, slow (10 + 9 + 8 + 12) / 4 = 9.75. Its signal is ma-4 (bars 3 to 6 signalled).
    expect(out[6]?.signals).toEqual([0.25]);
    const submit = out[6]?.commands[0];
    expect(submit).toEqual({
      type: 'SubmitOrder',
      command_id: 'ma-5',
      client_order_id: 'ma-6',
      strategy_id: 'ma',
      account_id: 'paper',
      instrument_id: RB,
      side: 'BUY',
      order_type: 'LIMIT',
      time_in_force: 'GFD',
      position_effect: 'OPEN',
      quantity: 1,
      price: 12,
      venue: null,
      ts_init: NOW,
      causation_id: 'ma-4',
    });
  });

  it('sends no new order while one is working: cancels it at the next bar, waits for the cancel, then quotes again', () => {
    const h = harness();
    const submit = h.closes(FALL_THEN_JUMP)[6]?.commands[0] as SubmitOrder;
    h.accept(submit);
    const [next, after] = h.closes([13, 14], 7);
    expect(next?.commands).toEqual([expect.objectContaining({ type: 'CancelOrder', client_order_id: submit.client_order_id })]);
    expect(after?.commands).toEqual([]);
    h.runtime.apply(venue.canceled(next?.commands[0] as CancelOrder));
    const requote = h.closes([15], 9)[0]?.commands;
    expect(requote).toEqual([expect.objectContaining({ type: 'SubmitOrder', side: 'BUY', position_effect: 'OPEN', price: 15 })]);
  });

  it('sends nothing on the bar an order was placed on, even with an unacknowledged order', () => {
    const h = harness();
    h.closes(FALL_THEN_JUMP);
    // The same bar again (a replayed bar): the INITIALIZED order counts as working and is not stale yet.
    expect(h.onBar(bar(6, 12)).commands).toEqual([]);
  });

  it('holds its position once filled, and closes it on the death cross', () => {
    const h = harness();
    const submit = h.closes(FALL_THEN_JUMP)[6]?.commands[0] as SubmitOrder;
    h.fill(submit);
    expect(h.ctx.position(RB)).toEqual(expect.objectContaining({ long: 1, short: 0, net: 1 }));
    // Bars 7, 8: fast above slow, at target. Bar 9: fast (14 + 9) / 2 = 11.5, slow (12 + 13 + 14 + 9) / 4 = 12 — the death cross.
    const out = h.closes([13, 14, 9], 7);
    expect(out.map((o) => o.commands)).toEqual([
      [],
      [],
      [expect.objectContaining({ side: 'SELL', position_effect: 'CLOSE', quantity: 1, price: 9 })],
    ]);
  });

  it('with allowShort, closes the long on the death cross and then opens a short at a later bar', () => {
    const h = harness({ allowShort: true });
    h.fill(h.closes(FALL_THEN_JUMP)[6]?.commands[0] as SubmitOrder);
    const close = h.closes([13, 14, 9], 7)[2]?.commands[0] as SubmitOrder;
    expect(close).toEqual(expect.objectContaining({ side: 'SELL', position_effect: 'CLOSE', quantity: 1 }));
    h.fill(close);
    const open = h.closes([8], 10)[0]?.commands;
    expect(open).toEqual([expect.objectContaining({ side: 'SELL', position_effect: 'OPEN', quantity: 1, price: 8 })]);
    h.fill(open?.[0] as SubmitOrder);
    expect(h.ctx.position(RB)).toEqual(expect.objectContaining({ long: 0, short: 1, net: -1 }));
  });

  it('keeps each instrument apart and ignores instruments it does not trade', () => {
    const h = harness({ instruments: [RB, 'DCE.m2501'] });
    FALL_THEN_JUMP.forEach((close, i) => {
      const rb = h.onBar(bar(i, close));
      // m2501 mirrors rb: its cross is a death cross, which from flat without shorting needs no order.
      const m = h.onBar(bar(i, 20 - close, 'DCE.m2501'));
      const other = h.onBar(bar(i, close, 'CZCE.SR501'));
      expect(other).toEqual({ signals: [], commands: [] });
      if (i === 6) {
        expect(rb.commands).toHaveLength(1);
        expect(m.commands).toEqual([]);
        expect(m.signals).toEqual([-0.25]);
      }
    });
  });

  it('counts a difference of rounding noise as no cross', () => {
    const h = harness({ fastPeriod: 3, slowPeriod: 7 });
    // Down, then up to 3500.2 for good: one golden cross, bought and filled at once.
    const closes = [3600, 3600, 3600, 3600, 3600, 3600, 3600, 3400, 3300, ...Array.from({ length: 20 }, () => 3500.2)];
    const out = closes.map((close, i) => {
      const o = h.onBar(bar(i, close));
      for (const c of o.commands) if (c.type === 'SubmitOrder') h.fill(c);
      return o;
    });
    expect(out.flatMap((o) => o.commands)).toEqual([expect.objectContaining({ side: 'BUY', position_effect: 'OPEN', price: 3500.2 })]);
    // Both averages are 3500.2, but summed in floating point they differ in the last bits: no death cross for that.
    const last = out.at(-1)?.signals[0] ?? 0;
    expect(last).not.toBe(0);
    expect(Math.abs(last)).toBeLessThan(1e-9);
  });

  it('cancels its working orders at stop, and leaves positions as they are', () => {
    const h = harness();
    h.closes(FALL_THEN_JUMP);
    const stop = h.strategy.stop?.(h.ctx);
    expect(stop?.commands).toEqual([expect.objectContaining({ type: 'CancelOrder', client_order_id: 'ma-6', causation_id: null })]);
  });

  it('starts over at init', () => {
    const h = harness();
    h.closes([10, 10, 10, 10, 9, 8]);
    h.strategy.init?.(h.ctx);
    // After init the jump is the fourth bar of a new warm-up: a signal, no cross.
    expect(h.closes([12, 12, 12, 12]).map((o) => o.commands.length)).toEqual([0, 0, 0, 0]);
  });

  it('rejects parameters out of range, listing every problem', () => {
    expect(() => movingAverageCrossover({ id: '', instruments: [], fastPeriod: 0, slowPeriod: 0, quantity: 1.5 })).toThrow(ConfigError);
    try {
      movingAverageCrossover({ id: 'x', instruments: [], fastPeriod: 5, slowPeriod: 5, quantity: 0 });
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        "'instruments' must name at least one instrument",
        "'slowPeriod' must be an integer above 'fastPeriod' (5), got 5",
        "'quantity' must be a positive integer, got 0",
      ]);
    }
  });

  it('signals exactly the difference of the two simple averages, for any closes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 3000, max: 4000 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        (closes, fast, extra) => {
          const slow = fast + extra;
          const h = harness({ fastPeriod: fast, slowPeriod: slow });
          const out = h.closes(closes);
          const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
          closes.forEach((_, i) => {
            const expected = i + 1 < slow ? [] : [mean(closes.slice(i + 1 - fast, i + 1)) - mean(closes.slice(i + 1 - slow, i + 1))];
            expect(out[i]?.signals.length).toBe(expected.length);
            if (expected[0] !== undefined) expect(out[i]?.signals[0]).toBeCloseTo(expected[0], 9);
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});
