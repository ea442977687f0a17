import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../errors/errors.js';
import {
  AccountId,
  InstrumentId,
  type OrderAccepted,
  type OrderCommand,
  type OrderFilled,
  type OrderSubmitted,
  type SubmitOrder,
  type Tick,
} from '../../schemas/generated.js';
import { meanReversion, type MeanReversionParams } from '../../strategies/mean-reversion.js';
import { createStrategyContext, tickId, type StrategyOutput } from '../../strategies/strategy-api.js';
import { makeTick } from '../support/make-tick.js';
import type { PlainIds } from '../support/plain-ids.js';

const NOW = 1_735_822_800_500_000;
const RB = InstrumentId('SHFE.rb2501');
const params: MeanReversionParams = { id: 'mr', instruments: [RB], window: 5, entryZ: 1.5, exitZ: 0.5, quantity: 2 };

let sequence = 0;
/** A tick of `instrument` trading at `price`, with the best bid one below and the best ask one above. */
function tick(price: number | null, changes: Partial<PlainIds<Tick>> = {}): Tick {
  sequence++;
  return makeTick({
    last_price: price,
    bid_price1: price === null ? null : price - 1,
    ask_price1: price === null ? null : price + 1,
    sequence,
    ts_event: NOW - 1_000_000 + sequence * 500_000,
    ...changes,
  });
}

/** The router's and venue's answers to an order: submitted, accepted, filled in full. */
function fillEvents(c: SubmitOrder): [OrderSubmitted, OrderAccepted, OrderFilled] {
  const common = {
    client_order_id: c.client_order_id,
    strategy_id: c.strategy_id,
    account_id: c.account_id,
    instrument_id: c.instrument_id,
    ts_event: NOW,
    ts_init: NOW,
    causation_id: c.command_id,
  };
  return [
    {
      type: 'OrderSubmitted',
      event_id: `sub-${c.client_order_id}`,
      ...common,
      venue: 'paper',
      side: c.side,
      order_type: c.order_type,
      time_in_force: c.time_in_force,
      position_effect: c.position_effect,
      quantity: c.quantity,
      price: c.price,
    },
    { type: 'OrderAccepted', event_id: `acc-${c.client_order_id}`, ...common, venue_order_id: `v-${c.client_order_id}` },
    {
      type: 'OrderFilled',
      event_id: `fill-${c.client_order_id}`,
      ...common,
      venue_order_id: `v-${c.client_order_id}`,
      trade_id: `t-${c.client_order_id}`,
      side: c.side,
      last_quantity: c.quantity,
      last_price: c.price ?? 0,
      cum_quantity: c.quantity,
      leaves_quantity: 0,
    },
  ];
}

function harness(overrides: Partial<MeanReversionParams> = {}) {
  const strategy = meanReversion({ ...params, ...overrides });
  const runtime = createStrategyContext({ strategyId: strategy.id, accountId: AccountId('paper'), now: () => NOW });
  const take = (output: StrategyOutput): { z: number[]; commands: OrderCommand[] } => {
    const commands = [...(output?.commands ?? [])];
    for (const command of commands) runtime.track(command);
    return { z: (output?.signals ?? []).map((s) => s.value), commands };
  };
  return {
    strategy,
    runtime,
    ctx: runtime.context,
    prices: (prices: readonly (number | null)[]) => prices.map((p) => take(strategy.onTick?.(tick(p), runtime.context))),
    fill: (c: OrderCommand) => {
      for (const event of fillEvents(c as SubmitOrder)) runtime.apply(event);
    },
  };
}

// Window 5: four ticks at 100 and one at 90 have mean 98 and deviation 4, so z = -2 exactly; at 110, z = +2.
const WARM = [100, 100, 100, 100];

describe('meanReversion', () => {
  it('signals the z-score of each tick once its window is full, caused by the tick', () => {
    const h = harness();
    const out = h.prices([...WARM, 90]);
    expect(out.slice(0, 4)).toEqual([
      { z: [], commands: [] },
      { z: [], commands: [] },
      { z: [], commands: [] },
      { z: [], commands: [] },
    ]);
    expect(out[4]?.z).toEqual([-2]);
    const last = tick(100);
    const signal = h.strategy.onTick?.(last, h.ctx)?.signals?.[0];
    expect(signal).toEqual(
      expect.objectContaining({
        strategy_id: 'mr',
        instrument_id: RB,
        name: 'zscore',
        ts_event: last.ts_event,
        ts_init: NOW,
        causation_id: tickId(last),
      }),
    );
  });

  it('buys to open below -entryZ at the best ask, caused by the signal', () => {
    const h = harness();
    const out = h.prices([...WARM, 90]);
    expect(out[4]?.commands).toEqual([
      {
        type: 'SubmitOrder',
        command_id: 'mr-2',
        client_order_id: 'mr-3',
        strategy_id: 'mr',
        account_id: 'paper',
        instrument_id: RB,
        side: 'BUY',
        order_type: 'LIMIT',
        time_in_force: 'FAK',
        position_effect: 'OPEN',
        quantity: 2,
        price: 91,
        venue: null,
        ts_init: NOW,
        causation_id: 'mr-1',
      },
    ]);
  });

  it('sells to open above +entryZ at the best bid', () => {
    const h = harness();
    expect(h.prices([...WARM, 110])[4]?.commands).toEqual([
      expect.objectContaining({ side: 'SELL', position_effect: 'OPEN', quantity: 2, price: 109 }),
    ]);
  });

  it('enters only beyond the threshold, not at it', () => {
    expect(harness({ entryZ: 2 }).prices([...WARM, 90])[4]?.commands).toEqual([]);
    expect(harness({ entryZ: 1.99 }).prices([...WARM, 90])[4]?.commands).toHaveLength(1);
  });

  it('sends no order while one is working, acknowledged or not', () => {
    const h = harness();
    const [, , , , entry, again] = h.prices([...WARM, 90, 80]);
    expect(entry?.commands).toHaveLength(1);
    expect(again?.z).toHaveLength(1);
    expect(again?.z[0]).toBeLessThan(-1.5);
    expect(again?.commands).toEqual([]);
    const [submitted, accepted] = fillEvents(entry?.commands[0] as SubmitOrder);
    h.runtime.apply(submitted);
    h.runtime.apply(accepted);
    expect(h.prices([70])[0]?.commands).toEqual([]);
  });

  it('holds a long while the z-score stays below -exitZ, and sells to close once it is back', () => {
    const h = harness();
    h.fill(h.prices([...WARM, 90])[4]?.commands[0] as OrderCommand);
    expect(h.ctx.position(RB)).toEqual(expect.objectContaining({ long: 2, net: 2 }));
    // [100, 100, 100, 90, 94]: z = -2.8 / 4.12 = -0.68, still below -0.5. Then [100, 100, 90, 94, 100]: z = +0.78.
    const [hold, exit] = h.prices([94, 100]);
    expect(hold?.z[0]).toBeCloseTo(-0.68, 2);
    expect(hold?.commands).toEqual([]);
    expect(exit?.commands).toEqual([expect.objectContaining({ side: 'SELL', position_effect: 'CLOSE', quantity: 2, price: 99 })]);
    h.fill(exit?.commands[0] as OrderCommand);
    expect(h.ctx.position(RB)).toEqual(expect.objectContaining({ long: 0, short: 0, net: 0 }));
  });

  it('exits a long once the z-score reaches -exitZ', () => {
    const h = harness({ exitZ: 0.7 });
    h.fill(h.prices([...WARM, 90])[4]?.commands[0] as OrderCommand);
    expect(h.prices([94])[0]?.commands).toEqual([expect.objectContaining({ side: 'SELL', position_effect: 'CLOSE' })]);
  });

  it('buys to close a short once the z-score is back within +exitZ', () => {
    const h = harness();
    h.fill(h.prices([...WARM, 110])[4]?.commands[0] as OrderCommand);
    expect(h.ctx.position(RB)).toEqual(expect.objectContaining({ short: 2, net: -2 }));
    const [hold, exit] = h.prices([106, 100]);
    expect(hold?.commands).toEqual([]);
    expect(exit?.commands).toEqual([expect.objectContaining({ side: 'BUY', position_effect: 'CLOSE', quantity: 2, price: 101 })]);
  });

  it('skips ticks without a last price, signals nothing on a flat window, and orders nothing into an empty book side', () => {
    const h = harness();
    expect(h.prices([100, null, 100, 100, 100, 100]).map((o) => o.z)).toEqual([[], [], [], [], [], []]);
    const dip = h.strategy.onTick?.(tick(90, { ask_price1: null }), h.ctx);
    expect(dip?.signals?.map((s) => s.value)).toEqual([-2]);
    expect(dip?.commands).toEqual([]);
  });

  it('ignores instruments it does not trade', () => {
    const h = harness();
    for (const p of [...WARM, 90]) expect(h.strategy.onTick?.(tick(p, { instrument_id: 'DCE.m2501' }), h.ctx)).toBeUndefined();
  });

  it('uses the time in force it is given', () => {
    expect(harness({ timeInForce: 'GFD' }).prices([...WARM, 90])[4]?.commands[0]).toEqual(
      expect.objectContaining({ time_in_force: 'GFD' }),
    );
  });

  it('cancels working orders at stop', () => {
    const h = harness();
    h.prices([...WARM, 90]);
    expect(h.strategy.stop?.(h.ctx)?.commands).toEqual([expect.objectContaining({ type: 'CancelOrder', client_order_id: 'mr-3' })]);
  });

  it('rejects parameters out of range, listing every problem', () => {
    let error: unknown;
    try {
      meanReversion({ id: 'mr', instruments: [RB], window: 1, entryZ: 0.5, exitZ: 0.5, quantity: 0 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      "'window' must be an integer of at least 2, got 1",
      "'entryZ' must be a number above 'exitZ' (0.5), got 0.5",
      "'quantity' must be a positive integer, got 0",
    ]);
  });
});
