import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TradingSessions } from '../../domain/trading-sessions.js';
import { validateConfig } from '../../pipeline/config/validate-config.js';
import { ConfigError } from '../../errors/errors.js';
import { cancelRateRule } from '../../operators/risk/cancel-rate-rule.js';
import { checkTradingState } from '../../operators/risk/check-trading-state.js';
import { dailyLimitsRule } from '../../operators/risk/daily-limits-rule.js';
import { duplicateOrderRule } from '../../operators/risk/duplicate-order-rule.js';
import { maxActiveOrdersRule } from '../../operators/risk/max-active-orders-rule.js';
import { maxOrderNotionalRule } from '../../operators/risk/max-order-notional-rule.js';
import { maxOrderVolumeRule } from '../../operators/risk/max-order-volume-rule.js';
import { maxPositionRule } from '../../operators/risk/max-position-rule.js';
import { parseRiskControl } from '../../operators/risk/parse-risk-control.js';
import { priceBandRule } from '../../operators/risk/price-band-rule.js';
import { riskLimitSpec, type RiskLimits } from '../../operators/risk/risk-limits.js';
import { riskRules } from '../../operators/risk/risk-rules.js';
import { RiskState } from '../../operators/risk/risk-state.js';
import { selfTradeRule } from '../../operators/risk/self-trade-rule.js';
import { submitRateRule } from '../../operators/risk/submit-rate-rule.js';
import { TokenBucket } from '../../operators/risk/token-bucket.js';
import { tradingSessionRule } from '../../operators/risk/trading-session-rule.js';
import { unknownOrderRule } from '../../operators/risk/unknown-order-rule.js';
import {
  AccountId,
  ClientOrderId,
  DenialReasonSymbols,
  InstrumentId,
  StrategyId,
  type OrderEvent,
  type OrderFilled,
  type SubmitOrder,
  type TradingState,
} from '../../schemas/generated.js';
import { makeTick } from '../support/make-tick.js';
import { makeCancel, makeSubmit, ORDER_TIME } from '../support/make-order.js';

/** 2025-01-02 21:01 +08:00: rb's night session, trading day 20250103. */
const T = ORDER_TIME;
const at = (local: string): number => Date.parse(`${local}+08:00`) * 1000;

const submit = makeSubmit;

const cancel = makeCancel;

function fill(order: SubmitOrder, lastQuantity: number, leaves: number, changes: Partial<OrderFilled> = {}): OrderFilled {
  return {
    type: 'OrderFilled',
    event_id: `fill-${order.client_order_id}-${leaves}`,
    client_order_id: order.client_order_id,
    strategy_id: order.strategy_id,
    account_id: order.account_id,
    instrument_id: order.instrument_id,
    venue_order_id: `v-${order.client_order_id}`,
    trade_id: `t-${order.client_order_id}-${leaves}`,
    side: order.side,
    last_quantity: lastQuantity,
    last_price: order.price ?? 3500,
    cum_quantity: order.quantity - leaves,
    leaves_quantity: leaves,
    ts_event: order.ts_init,
    ts_init: order.ts_init,
    causation_id: order.command_id,
    ...changes,
  };
}

function finalEvent(type: 'OrderCanceled' | 'OrderRejected' | 'OrderExpired', order: SubmitOrder): OrderEvent {
  const base = {
    event_id: `e-${order.client_order_id}`,
    client_order_id: order.client_order_id,
    strategy_id: order.strategy_id,
    account_id: order.account_id,
    instrument_id: order.instrument_id,
    ts_event: T,
    ts_init: T,
    causation_id: order.command_id,
  };
  if (type === 'OrderRejected') return { ...base, type, reason: 'no margin' };
  return { ...base, type, venue_order_id: null, filled_quantity: 0 };
}

function stateWith(limits: Partial<RiskLimits> = {}, tradingState: TradingState = 'ACTIVE'): RiskState {
  return new RiskState(validateConfig('test limits', riskLimitSpec, limits), tradingState, new TradingSessions());
}

/** A state that holds `net` lots of rb (long when positive) from one filled order. */
function holding(state: RiskState, net: number, instrument = 'SHFE.rb2501'): void {
  if (net === 0) return;
  const order = submit({
    client_order_id: `pos-${instrument}-${net}`,
    instrument_id: instrument,
    side: net > 0 ? 'BUY' : 'SELL',
    quantity: Math.abs(net),
  });
  state.applyEvent(fill(order, Math.abs(net), 0));
}

describe('TokenBucket', () => {
  it('lets capacity tokens go in a burst and gives each back exactly one window after it was spent', () => {
    const bucket = new TokenBucket(1000);
    expect([bucket.take(0, 2), bucket.take(10, 2), bucket.take(20, 2)]).toEqual([true, true, false]);
    expect(bucket.spent(999)).toBe(2);
    expect(bucket.nextFreeAt(999)).toBe(1000);
    expect(bucket.available(999, 2)).toBe(false);
    expect(bucket.take(1000, 2)).toBe(true);
    expect(bucket.take(1009, 2)).toBe(false);
    expect(bucket.take(1010, 2)).toBe(true);
  });

  it('follows a capacity that changes between calls, and grows past its first buffer', () => {
    const bucket = new TokenBucket(1000);
    for (let i = 0; i < 20; i++) expect(bucket.take(i, 20)).toBe(true);
    expect(bucket.available(100, 20)).toBe(false);
    expect(bucket.available(100, 30)).toBe(true);
    expect(bucket.available(100, 5)).toBe(false);
    expect(bucket.spent(1005)).toBe(14);
    expect(bucket.nextFreeAt(5000)).toBe(5000);
  });

  it('never lets more than capacity spends into any window of one second', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 120 }), (capacity, gaps) => {
        const bucket = new TokenBucket(1000);
        const taken: number[] = [];
        let now = 0;
        for (const gap of gaps) {
          now += gap;
          const spentBefore = bucket.spent(now);
          const ok = bucket.take(now, capacity);
          // Denied only when the window really is full.
          expect(ok).toBe(spentBefore < capacity);
          if (ok) taken.push(now);
        }
        for (let i = 0; i < taken.length; i++) {
          const start = taken[i] as number;
          expect(taken.filter((t) => t >= start && t < start + 1000).length).toBeLessThanOrEqual(capacity);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('riskRules', () => {
  it('lists every rule once, each with its own switch and limits that exist in riskLimitSpec', () => {
    const names = riskRules.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    const switches = Object.keys(riskLimitSpec).filter((k) => k.startsWith('rule_'));
    expect(riskRules.map((r) => r.switchKey).sort()).toEqual(switches.sort());
    const limitKeys = Object.keys(riskLimitSpec).filter((k) => !k.startsWith('rule_'));
    expect(riskRules.flatMap((r) => r.configKeys).sort()).toEqual(limitKeys.sort());
  });

  it('covers every denial reason, with the trading state for TRADING_HALTED and REDUCE_ONLY', () => {
    const byRule: Record<string, string> = {
      submitRate: 'RATE_LIMIT_EXCEEDED',
      cancelRate: 'CANCEL_RATE_EXCEEDED',
      maxOrderVolume: 'MAX_ORDER_VOLUME_EXCEEDED',
      maxOrderNotional: 'MAX_ORDER_NOTIONAL_EXCEEDED',
      maxPosition: 'MAX_POSITION_EXCEEDED',
      maxActiveOrders: 'MAX_ACTIVE_ORDERS_EXCEEDED',
      dailyLimits: 'DAILY_LIMIT_EXCEEDED',
      priceBand: 'PRICE_OUT_OF_BAND',
      duplicateOrder: 'DUPLICATE_ORDER',
      selfTrade: 'SELF_TRADE',
      tradingSession: 'OUTSIDE_TRADING_SESSION',
      unknownOrder: 'UNKNOWN_ORDER',
      halted: 'TRADING_HALTED',
      reducing: 'REDUCE_ONLY',
    };
    expect(Object.values(byRule).sort()).toEqual([...DenialReasonSymbols].sort());
  });
});

describe('submitRateRule', () => {
  it('denies the submit past submit_rate_per_s of the account within one second, and passes it once a token is back', () => {
    const state = stateWith({ submit_rate_per_s: 2 });
    state.recordSubmit(submit({ client_order_id: 'o-1' }));
    state.nowMs = 400;
    state.recordSubmit(submit({ client_order_id: 'o-2', instrument_id: 'SHFE.hc2501' }));
    state.nowMs = 999;
    expect(submitRateRule.check(submit({ instrument_id: 'DCE.m2501' }), state)).toEqual({
      code: 'RATE_LIMIT_EXCEEDED',
      message: 'submit-rate: account acc sent 2 submits in the last second, limit submit_rate_per_s 2',
    });
    expect(submitRateRule.check(submit({ account_id: 'other' }), state)).toBeUndefined();
    state.nowMs = 1000;
    expect(submitRateRule.check(submit(), state)).toBeUndefined();
  });

  it('denies past submit_rate_per_instrument_per_s for one instrument while other instruments pass', () => {
    const state = stateWith({ submit_rate_per_instrument_per_s: 1 });
    state.recordSubmit(submit());
    expect(submitRateRule.check(submit({ client_order_id: 'o-2' }), state)?.message).toBe(
      'submit-rate: account acc sent 1 submits for SHFE.rb2501 in the last second, limit submit_rate_per_instrument_per_s 1',
    );
    expect(submitRateRule.check(submit({ instrument_id: 'SHFE.hc2501' }), state)).toBeUndefined();
    expect(submitRateRule.appliesTo).toEqual(['SubmitOrder']);
  });
});

describe('cancelRateRule', () => {
  it('denies cancels past cancel_rate_per_s and cancel_rate_per_instrument_per_s within one second', () => {
    const state = stateWith({ cancel_rate_per_s: 2, cancel_rate_per_instrument_per_s: 1 });
    state.recordCancel(cancel());
    expect(cancelRateRule.check(cancel({ client_order_id: 'o-2' }), state)).toEqual({
      code: 'CANCEL_RATE_EXCEEDED',
      message: 'cancel-rate: account acc sent 1 cancels for SHFE.rb2501 in the last second, limit cancel_rate_per_instrument_per_s 1',
    });
    state.recordCancel(cancel({ instrument_id: 'SHFE.hc2501' }));
    expect(cancelRateRule.check(cancel({ instrument_id: 'DCE.m2501' }), state)?.message).toBe(
      'cancel-rate: account acc sent 2 cancels in the last second, limit cancel_rate_per_s 2',
    );
    state.nowMs = 1000;
    expect(cancelRateRule.check(cancel({ client_order_id: 'o-2' }), state)).toBeUndefined();
  });
});

describe('maxOrderVolumeRule', () => {
  it('passes up to max_order_volume lots and denies more, or less than one lot', () => {
    const state = stateWith({ max_order_volume: 100 });
    expect(maxOrderVolumeRule.check(submit({ quantity: 100 }), state)).toBeUndefined();
    expect(maxOrderVolumeRule.check(submit({ quantity: 101 }), state)).toEqual({
      code: 'MAX_ORDER_VOLUME_EXCEEDED',
      message: 'max-order-volume: quantity 101 lots exceeds max_order_volume 100',
    });
    expect(maxOrderVolumeRule.check(submit({ quantity: 0 }), state)?.message).toBe(
      'max-order-volume: quantity 0 lots is not a volume an order can have (at least 1, max_order_volume 100)',
    );
  });
});

describe('maxOrderNotionalRule', () => {
  it('values a limit order at price × lots × multiplier', () => {
    const state = stateWith({ max_order_notional: 350_000 });
    expect(maxOrderNotionalRule.check(submit({ quantity: 10 }), state)).toBeUndefined();
    expect(maxOrderNotionalRule.check(submit({ quantity: 11 }), state)).toEqual({
      code: 'MAX_ORDER_NOTIONAL_EXCEEDED',
      message: 'max-order-notional: notional 385000 (3500 × 11 lots × 10) exceeds max_order_notional 350000',
    });
  });

  it('values a market order at the opposite best price of the latest tick, or at the limit price when that side is empty', () => {
    const state = stateWith({ max_order_notional: 350_000 });
    const market = { order_type: 'MARKET', price: null, quantity: 10 } as const;
    expect(maxOrderNotionalRule.check(submit(market), state)?.message).toBe(
      'max-order-notional: no ask price for SHFE.rb2501 (no tick yet) to value a market order against max_order_notional 350000',
    );
    state.applyTick(makeTick({ ask_price1: 3501, bid_price1: 3499 }));
    expect(maxOrderNotionalRule.check(submit(market), state)?.message).toBe(
      'max-order-notional: notional 350100 (3501 × 10 lots × 10) exceeds max_order_notional 350000',
    );
    expect(maxOrderNotionalRule.check(submit({ ...market, side: 'SELL' }), state)).toBeUndefined();
    state.applyTick(makeTick({ ask_price1: null, upper_limit: 3769, bid_price1: null, lower_limit: null }));
    expect(maxOrderNotionalRule.check(submit({ ...market, quantity: 1 }), state)).toBeUndefined();
    expect(maxOrderNotionalRule.check(submit({ ...market, quantity: 10 }), state)?.message).toContain(
      'notional 376900 (3769 × 10 lots × 10)',
    );
    expect(maxOrderNotionalRule.check(submit({ ...market, side: 'SELL' }), state)?.message).toContain(
      'no bid price for SHFE.rb2501 in the latest tick',
    );
  });

  it('denies an instrument of an unknown product, which has no multiplier', () => {
    expect(maxOrderNotionalRule.check(submit({ instrument_id: 'SHFE.xx2501' }), stateWith())?.message).toBe(
      'max-order-notional: no contract multiplier for SHFE.xx2501 (unknown product), so its value cannot be held to max_order_notional 10000000',
    );
  });
});

describe('maxPositionRule', () => {
  it('counts the net position and working orders that would increase it', () => {
    const state = stateWith({ max_position: 10 });
    holding(state, 6);
    state.recordSubmit(submit({ client_order_id: 'w-1', quantity: 3 }));
    expect(maxPositionRule.check(submit({ quantity: 1 }), state)).toBeUndefined();
    expect(maxPositionRule.check(submit({ quantity: 2 }), state)).toEqual({
      code: 'MAX_POSITION_EXCEEDED',
      message: 'max-position: long position in SHFE.rb2501 could reach 11 lots (net 6, working 3, order 2), exceeds max_position 10',
    });
    // A sell reduces the long position; only working sells would count against the short side.
    expect(maxPositionRule.check(submit({ side: 'SELL', quantity: 16 }), state)).toBeUndefined();
    expect(maxPositionRule.check(submit({ side: 'SELL', quantity: 17 }), state)?.message).toBe(
      'max-position: short position in SHFE.rb2501 could reach 11 lots (net 6, working 0, order 17), exceeds max_position 10',
    );
  });

  it('passes an order that reduces a position already over the limit', () => {
    const state = stateWith({ max_position: 10 });
    holding(state, -15);
    expect(maxPositionRule.check(submit({ side: 'BUY', quantity: 5 }), state)).toBeUndefined();
    expect(maxPositionRule.check(submit({ side: 'SELL', quantity: 1 }), state)?.code).toBe('MAX_POSITION_EXCEEDED');
  });

  it('holds the sum over instruments to max_total_position, passing orders that do not increase it', () => {
    const state = stateWith({ max_position: 100, max_total_position: 20 });
    holding(state, 12);
    holding(state, -6, 'SHFE.hc2501');
    expect(maxPositionRule.check(submit({ instrument_id: 'DCE.m2501', quantity: 2 }), state)).toBeUndefined();
    expect(maxPositionRule.check(submit({ instrument_id: 'DCE.m2501', quantity: 3 }), state)).toEqual({
      code: 'MAX_POSITION_EXCEEDED',
      message: 'max-position: positions of account acc across instruments could reach 21 lots, exceeds max_total_position 20',
    });
    expect(maxPositionRule.check(submit({ side: 'SELL', quantity: 12 }), state)).toBeUndefined();
    expect(maxPositionRule.check(submit({ account_id: 'other', quantity: 20 }), state)).toBeUndefined();
  });
});

describe('maxActiveOrdersRule', () => {
  it('denies a submit while max_active_orders of the account work, and passes once one ends', () => {
    const state = stateWith({ max_active_orders: 2 });
    const first = submit({ client_order_id: 'o-1' });
    state.recordSubmit(first);
    state.recordSubmit(submit({ client_order_id: 'o-2', instrument_id: 'SHFE.hc2501' }));
    expect(maxActiveOrdersRule.check(submit({ client_order_id: 'o-3' }), state)).toEqual({
      code: 'MAX_ACTIVE_ORDERS_EXCEEDED',
      message: 'max-active-orders: account acc has 2 working orders, limit max_active_orders 2',
    });
    state.applyEvent(finalEvent('OrderCanceled', first));
    expect(maxActiveOrdersRule.check(submit({ client_order_id: 'o-3' }), state)).toBeUndefined();
  });
});

describe('dailyLimitsRule', () => {
  it('counts submits, cancels and fills per account and instrument and trading day', () => {
    const state = stateWith({ max_daily_orders: 2, max_daily_cancels: 1, max_daily_trades: 5 });
    const first = submit({ client_order_id: 'o-1', quantity: 2 });
    state.recordSubmit(first);
    state.recordSubmit(submit({ client_order_id: 'o-2' }));
    expect(dailyLimitsRule.check(submit({ client_order_id: 'o-3' }), state)).toEqual({
      code: 'DAILY_LIMIT_EXCEEDED',
      message: 'daily-limits: 2 orders by account acc in SHFE.rb2501 on 20250103, limit max_daily_orders 2',
    });
    expect(dailyLimitsRule.check(submit({ instrument_id: 'SHFE.hc2501' }), state)).toBeUndefined();
    expect(dailyLimitsRule.check(cancel(), state)).toBeUndefined();
    state.recordCancel(cancel());
    expect(dailyLimitsRule.check(cancel({ client_order_id: 'o-2' }), state)?.message).toBe(
      'daily-limits: 1 cancels by account acc in SHFE.rb2501 on 20250103, limit max_daily_cancels 1',
    );
  });

  it('denies submits after max_daily_trades fills', () => {
    const state = stateWith({ max_daily_trades: 2 });
    const order = submit({ quantity: 3 });
    state.recordSubmit(order);
    state.applyEvent(fill(order, 1, 2));
    expect(dailyLimitsRule.check(submit({ client_order_id: 'o-2' }), state)).toBeUndefined();
    state.applyEvent(fill(order, 1, 1));
    expect(dailyLimitsRule.check(submit({ client_order_id: 'o-2' }), state)?.message).toBe(
      'daily-limits: 2 trades by account acc in SHFE.rb2501 on 20250103, limit max_daily_trades 2',
    );
  });

  it('resets at the trading-day boundary: a night session counts toward the next trading day', () => {
    const state = stateWith({ max_daily_orders: 1 });
    // Thursday night 21:01 belongs to Friday's trading day, like Friday 14:00.
    state.recordSubmit(submit({ ts_init: T }));
    expect(dailyLimitsRule.check(submit({ client_order_id: 'o-2', ts_init: at('2025-01-03T14:00:00') }), state)?.code).toBe(
      'DAILY_LIMIT_EXCEEDED',
    );
    // Friday night belongs to Monday 20250106.
    expect(dailyLimitsRule.check(submit({ client_order_id: 'o-2', ts_init: at('2025-01-03T21:30:00') }), state)).toBeUndefined();
    state.recordSubmit(submit({ client_order_id: 'o-2', ts_init: at('2025-01-03T21:30:00') }));
    expect(dailyLimitsRule.check(submit({ client_order_id: 'o-3', ts_init: at('2025-01-06T09:30:00') }), state)?.message).toBe(
      'daily-limits: 1 orders by account acc in SHFE.rb2501 on 20250106, limit max_daily_orders 1',
    );
  });
});

describe('priceBandRule', () => {
  it('denies a limit price outside limit-up and limit-down of the latest tick', () => {
    const state = stateWith({ price_band_percent: 0 });
    expect(priceBandRule.check(submit(), state)).toEqual({
      code: 'PRICE_OUT_OF_BAND',
      message: 'price-band: no tick of SHFE.rb2501 yet, so price 3500 cannot be checked against its band',
    });
    state.applyTick(makeTick({ upper_limit: 3769, lower_limit: 3211 }));
    expect(priceBandRule.check(submit({ price: 3769 }), state)).toBeUndefined();
    expect(priceBandRule.check(submit({ price: 3770 }), state)?.message).toBe(
      'price-band: price 3770 is above limit-up 3769 of SHFE.rb2501',
    );
    expect(priceBandRule.check(submit({ price: 3210 }), state)?.message).toBe(
      'price-band: price 3210 is below limit-down 3211 of SHFE.rb2501',
    );
  });

  it('holds the price within price_band_percent and price_band_ticks of the last price', () => {
    const state = stateWith({ price_band_percent: 1, price_band_ticks: 20 });
    state.applyTick(makeTick({ last_price: 3500 }));
    expect(priceBandRule.check(submit({ price: 3520 }), state)).toBeUndefined();
    expect(priceBandRule.check(submit({ price: 3521 }), state)?.message).toBe(
      'price-band: price 3521 is 21 ticks from last price 3500, limit price_band_ticks 20',
    );
    state.limits = { ...state.limits, price_band_ticks: 0 };
    expect(priceBandRule.check(submit({ price: 3465 }), state)).toBeUndefined();
    expect(priceBandRule.check(submit({ price: 3464 }), state)?.message).toBe(
      'price-band: price 3464 is 1.028571% from last price 3500, limit price_band_percent 1',
    );
  });

  it('falls back to the previous settlement without a last price, keeps a price on the band edge, and passes market orders', () => {
    const state = stateWith({ price_band_percent: 0, price_band_ticks: 3 });
    state.applyTick(
      makeTick({ instrument_id: 'SHFE.au2502', last_price: null, pre_settlement: 620.1, upper_limit: null, lower_limit: null }),
    );
    expect(priceBandRule.check(submit({ instrument_id: 'SHFE.au2502', price: 620.16 }), state)).toBeUndefined();
    expect(priceBandRule.check(submit({ instrument_id: 'SHFE.au2502', price: 620.2 }), state)?.code).toBe('PRICE_OUT_OF_BAND');
    expect(priceBandRule.check(submit({ instrument_id: 'DCE.m2501', order_type: 'MARKET', price: null }), state)).toBeUndefined();
  });
});

describe('duplicateOrderRule', () => {
  it('denies the same side, price and lots within duplicate_window_ms, and passes it after', () => {
    const state = stateWith({ duplicate_window_ms: 500 });
    state.recordSubmit(submit({ client_order_id: 'o-1' }));
    state.nowMs = 499;
    expect(duplicateOrderRule.check(submit({ client_order_id: 'o-2' }), state)).toEqual({
      code: 'DUPLICATE_ORDER',
      message: 'duplicate-order: BUY 1 SHFE.rb2501 at 3500 passed 499 ms ago, within duplicate_window_ms 500',
    });
    expect(duplicateOrderRule.check(submit({ client_order_id: 'o-2', price: 3501 }), state)).toBeUndefined();
    expect(duplicateOrderRule.check(submit({ client_order_id: 'o-2', quantity: 2 }), state)).toBeUndefined();
    expect(duplicateOrderRule.check(submit({ client_order_id: 'o-2', side: 'SELL' }), state)).toBeUndefined();
    expect(duplicateOrderRule.check(submit({ client_order_id: 'o-2', account_id: 'other' }), state)).toBeUndefined();
    state.nowMs = 500;
    expect(duplicateOrderRule.check(submit({ client_order_id: 'o-2' }), state)).toBeUndefined();
  });

  it('denies a client order id that names a working order', () => {
    const state = stateWith();
    state.recordSubmit(submit({ client_order_id: 'o-1' }));
    state.nowMs = 5000;
    expect(duplicateOrderRule.check(submit({ client_order_id: 'o-1', price: 3490 }), state)?.message).toBe(
      'duplicate-order: client order id o-1 of strategy strat names an order still working',
    );
  });
});

describe('selfTradeRule', () => {
  it('denies an order that would cross a working order of the same account on the other side', () => {
    const state = stateWith();
    state.recordSubmit(submit({ client_order_id: 'ask', side: 'SELL', price: 3505 }));
    expect(selfTradeRule.check(submit({ price: 3504 }), state)).toBeUndefined();
    expect(selfTradeRule.check(submit({ price: 3505 }), state)).toEqual({
      code: 'SELF_TRADE',
      message: 'self-trade: BUY at 3505 would cross working SELL ask at 3505 of account acc in SHFE.rb2501',
    });
    expect(selfTradeRule.check(submit({ order_type: 'MARKET', price: null }), state)?.message).toBe(
      'self-trade: BUY at market would cross working SELL ask at 3505 of account acc in SHFE.rb2501',
    );
    expect(selfTradeRule.check(submit({ side: 'SELL', price: 3400 }), state)).toBeUndefined();
    expect(selfTradeRule.check(submit({ account_id: 'other', price: 3600 }), state)).toBeUndefined();
    state.recordSubmit(submit({ client_order_id: 'bid', side: 'BUY', price: 3495 }));
    expect(selfTradeRule.check(submit({ side: 'SELL', price: 3495 }), state)?.message).toBe(
      'self-trade: SELL at 3495 would cross working BUY bid at 3495 of account acc in SHFE.rb2501',
    );
    expect(selfTradeRule.check(submit({ side: 'SELL', price: 3496 }), state)).toBeUndefined();
  });
});

describe('tradingSessionRule', () => {
  it('passes submits in session and denies them outside, or for an unknown product', () => {
    const state = stateWith();
    expect(tradingSessionRule.check(submit(), state)).toBeUndefined();
    expect(tradingSessionRule.check(submit({ ts_init: at('2025-01-03T15:30:00') }), state)).toEqual({
      code: 'OUTSIDE_TRADING_SESSION',
      message:
        'trading-session: SHFE.rb2501 is not in a trading session at market time 2025-01-03T07:30:00.000Z; next session starts 2025-01-03T13:00:00.000Z',
    });
    expect(tradingSessionRule.check(submit({ instrument_id: 'CFFEX.IF2501' }), state)?.code).toBe('OUTSIDE_TRADING_SESSION');
    expect(tradingSessionRule.check(submit({ instrument_id: 'SHFE.xx2501' }), state)?.message).toBe(
      'trading-session: SHFE.xx2501 is of no known product, so it has no trading session',
    );
    expect(tradingSessionRule.appliesTo).toEqual(['SubmitOrder']);
  });

  it('judges the session by market time, the latest tick’s event time, not by when the command was made', () => {
    const state = stateWith();
    // A replay or a simulated market: the wall clock is far from the market's clock.
    state.applyTick(makeTick({ ts_event: at('2025-01-02T21:30:00') }));
    expect(tradingSessionRule.check(submit({ ts_init: at('2026-11-21T15:30:00') }), state)).toBeUndefined();
    state.applyTick(makeTick({ ts_event: at('2025-01-03T15:30:00') }));
    expect(tradingSessionRule.check(submit({ ts_init: at('2025-01-03T10:00:00') }), state)?.code).toBe('OUTSIDE_TRADING_SESSION');
  });
});

describe('unknownOrderRule', () => {
  it('denies a cancel of an order that is not working', () => {
    const state = stateWith();
    expect(unknownOrderRule.check(cancel(), state)).toEqual({
      code: 'UNKNOWN_ORDER',
      message: 'unknown-order: no working order o-1 of strategy strat to cancel',
    });
    const order = submit({ quantity: 2 });
    state.recordSubmit(order);
    expect(unknownOrderRule.check(cancel(), state)).toBeUndefined();
    expect(unknownOrderRule.check(cancel({ strategy_id: 'other' }), state)?.code).toBe('UNKNOWN_ORDER');
    state.applyEvent(fill(order, 1, 1));
    expect(unknownOrderRule.check(cancel(), state)).toBeUndefined();
    state.applyEvent(fill(order, 1, 0));
    expect(unknownOrderRule.check(cancel(), state)?.code).toBe('UNKNOWN_ORDER');
  });
});

describe('checkTradingState', () => {
  it('passes everything while ACTIVE, and only cancels while HALTED', () => {
    expect(checkTradingState(submit(), stateWith())).toBeUndefined();
    const halted = stateWith({}, 'HALTED');
    expect(checkTradingState(submit(), halted)).toEqual({
      code: 'TRADING_HALTED',
      message: 'trading-state: trading is HALTED; submits are denied until the state is ACTIVE or REDUCING',
    });
    expect(checkTradingState(cancel(), halted)).toBeUndefined();
  });

  it('while REDUCING passes only closing orders that cannot take the position past flat', () => {
    const state = stateWith({}, 'REDUCING');
    holding(state, 5);
    expect(checkTradingState(submit({ side: 'SELL', position_effect: 'CLOSE', quantity: 5 }), state)).toBeUndefined();
    expect(checkTradingState(submit({ side: 'SELL', position_effect: 'CLOSE', quantity: 6 }), state)).toEqual({
      code: 'REDUCE_ONLY',
      message:
        'trading-state: trading is REDUCING; SELL 6 lots with 0 working on that side would exceed the 5 lots it can reduce (net 5 in SHFE.rb2501)',
    });
    expect(checkTradingState(submit({ side: 'SELL', position_effect: 'OPEN', quantity: 1 }), state)?.message).toBe(
      'trading-state: trading is REDUCING; an OPEN SELL would add a position (net 5 lots in SHFE.rb2501)',
    );
    expect(checkTradingState(submit({ side: 'BUY', position_effect: 'CLOSE', quantity: 1 }), state)?.code).toBe('REDUCE_ONLY');
    state.recordSubmit(submit({ side: 'SELL', position_effect: 'CLOSE_TODAY', quantity: 3 }));
    expect(
      checkTradingState(submit({ client_order_id: 'o-2', side: 'SELL', position_effect: 'CLOSE', quantity: 2 }), state),
    ).toBeUndefined();
    expect(checkTradingState(submit({ client_order_id: 'o-2', side: 'SELL', position_effect: 'CLOSE', quantity: 3 }), state)?.code).toBe(
      'REDUCE_ONLY',
    );
    expect(checkTradingState(cancel(), state)).toBeUndefined();
  });
});

describe('RiskState', () => {
  it('follows fills, cancels, rejects and expiries of working orders, and fills of orders it never saw', () => {
    const state = stateWith();
    const buy = submit({ client_order_id: 'b', quantity: 5 });
    const sell = submit({ client_order_id: 's', side: 'SELL', quantity: 2, price: 3600 });
    const other = submit({ client_order_id: 'x', quantity: 1 });
    const late = submit({ client_order_id: 'l', quantity: 1 });
    for (const order of [buy, sell, other, late]) state.recordSubmit(order);
    const book = state.book('acc', 'SHFE.rb2501');
    expect({
      net: book.net,
      workingBuy: book.workingBuy,
      workingSell: book.workingSell,
      active: state.account('acc').activeOrders,
    }).toEqual({ net: 0, workingBuy: 7, workingSell: 2, active: 4 });
    state.applyEvent(fill(buy, 2, 3));
    state.applyEvent(finalEvent('OrderRejected', sell));
    state.applyEvent(finalEvent('OrderExpired', other));
    state.applyEvent(finalEvent('OrderCanceled', late));
    expect({
      net: book.net,
      workingBuy: book.workingBuy,
      workingSell: book.workingSell,
      active: state.account('acc').activeOrders,
    }).toEqual({ net: 2, workingBuy: 3, workingSell: 0, active: 1 });
    state.applyEvent(fill(submit({ client_order_id: 'elsewhere', side: 'SELL' }), 4, 0));
    expect(book.net).toBe(-2);
    expect(state.workingOrder('strat', 'b')?.leaves).toBe(3);
  });

  it('marks a cancel pending from a passed cancel or an OrderPendingCancel, and clears it on a cancel reject', () => {
    const state = stateWith();
    const order = submit({ venue: null });
    state.recordSubmit(order);
    const ids = {
      event_id: 'e',
      client_order_id: ClientOrderId('o-1'),
      strategy_id: StrategyId('strat'),
      account_id: AccountId('acc'),
      instrument_id: InstrumentId('SHFE.rb2501'),
      ts_event: T,
      ts_init: T,
      causation_id: 'cmd-1',
    };
    state.applyEvent({
      ...ids,
      type: 'OrderSubmitted',
      venue: 'paper',
      side: 'BUY',
      order_type: 'LIMIT',
      time_in_force: 'GFD',
      position_effect: 'OPEN',
      quantity: 1,
      price: 3500,
    });
    expect(state.workingOrder('strat', 'o-1')?.venue).toBe('paper');
    state.recordCancel(cancel());
    expect(state.workingOrder('strat', 'o-1')?.cancelPending).toBe(true);
    state.applyEvent({ ...ids, type: 'OrderCancelRejected', venue_order_id: null, reason: 'too late' });
    expect(state.workingOrder('strat', 'o-1')?.cancelPending).toBe(false);
    state.applyEvent({ ...ids, type: 'OrderPendingCancel', venue_order_id: null });
    expect(state.workingOrder('strat', 'o-1')?.cancelPending).toBe(true);
  });
});

describe('parseRiskControl', () => {
  it('reads a state change, with a default reason', () => {
    expect(parseRiskControl('control risk/state', 'state', { trading_state: 'HALTED', reason: 'drawdown' }, 'ops')).toEqual({
      control: 'state',
      tradingState: 'HALTED',
      reason: 'drawdown',
      principal: 'ops',
    });
    expect(parseRiskControl('control risk/state', 'state', { trading_state: 'REDUCING' }, 'ops')).toEqual({
      control: 'state',
      tradingState: 'REDUCING',
      reason: 'no reason given',
      principal: 'ops',
    });
  });

  it('lists every problem of a state body at once', () => {
    const error = (() => {
      try {
        parseRiskControl('control risk/state', 'state', { trading_state: 'STOPPED', reason: 7, mode: 'x' }, 'ops');
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('no error');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.problems).toEqual([
      "'reason' must be a string, got 7",
      "unknown field 'mode'; known fields: trading_state, reason",
      '\'trading_state\' must be one of ACTIVE, REDUCING, HALTED, got "STOPPED"',
    ]);
    expect(() => parseRiskControl('control risk/state', 'state', {}, 'ops')).toThrow(
      "missing field 'trading_state' (one of ACTIVE, REDUCING, HALTED)",
    );
    expect(() => parseRiskControl('control risk/state', 'state', [1], 'ops')).toThrow(
      'control risk/state: the body must be a JSON object, got [1]',
    );
  });

  it('reads a partial limits body, keeping only the given fields', () => {
    expect(
      parseRiskControl('control risk/limits', 'limits', { max_order_volume: 5, rule_self_trade: false, reason: 'tighter' }, 'ops'),
    ).toEqual({
      control: 'limits',
      limits: { max_order_volume: 5, rule_self_trade: false },
      reason: 'tighter',
      principal: 'ops',
    });
  });

  it('lists every problem of a limits body at once: unknown fields and bad values', () => {
    let error: ConfigError | undefined;
    try {
      parseRiskControl('control risk/limits', 'limits', { max_order_volume: 0, submit_rate_per_s: 'fast', max_lots: 3 }, 'ops');
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error?.message).toMatch(/^control risk\/limits: 3 problems:/);
    expect(error?.problems[0]).toMatch(/^unknown field 'max_lots'; known fields: rule_submit_rate, submit_rate_per_s/);
    expect(error?.problems.slice(1)).toEqual([
      '\'submit_rate_per_s\' must be an integer, got "fast"',
      "'max_order_volume' must be at least 1, got 0",
    ]);
    expect(() => parseRiskControl('control risk/limits', 'limits', { reason: 'nothing' }, 'ops')).toThrow(
      /no limit given; limit fields: rule_submit_rate/,
    );
  });
});
