import { describe, it, expect, beforeEach } from 'vitest';
import { TradingSessions } from '../../domain/trading-sessions.js';
import { ConfigError } from '../../errors/errors.js';
import { SchemaCatalog } from '../../pipeline/schemas/schema-catalog.js';
import type { Tick } from '../../schemas/generated.js';
import { SimMarket, type SimMarketOptions } from '../../sources/sim-market.js';

const at = (iso: string): number => Date.parse(iso) * 1000;

const INSTRUMENTS = ['SHFE.rb2501', 'SHFE.cu2501', 'DCE.m2501', 'CZCE.SR501', 'CFFEX.IF2501', 'INE.sc2501', 'SHFE.au2502'];

const OPTIONS: SimMarketOptions = {
  instruments: INSTRUMENTS,
  seed: 1,
  start: at('2025-01-02T21:00:00+08:00'),
  tickIntervalMs: 500,
  feedId: 'sim',
  latencyUs: 2000,
};

function take(market: SimMarket, n: number): Tick[] {
  const ticks: Tick[] = [];
  for (let i = 0; i < n; i++) ticks.push(market.next());
  return ticks;
}

const TICK_FIELDS = [
  'instrument_id',
  'trading_day',
  'action_day',
  'ts_event',
  'last_price',
  'pre_settlement',
  'pre_close',
  'pre_open_interest',
  'open',
  'high',
  'low',
  'close',
  'settlement',
  'upper_limit',
  'lower_limit',
  'average_price',
  'volume',
  'last_volume',
  'turnover',
  'open_interest',
  'bid_price1',
  'bid_volume1',
  'ask_price1',
  'ask_volume1',
  'bid_price2',
  'bid_volume2',
  'ask_price2',
  'ask_volume2',
  'bid_price3',
  'bid_volume3',
  'ask_price3',
  'ask_volume3',
  'bid_price4',
  'bid_volume4',
  'ask_price4',
  'ask_volume4',
  'bid_price5',
  'bid_volume5',
  'ask_price5',
  'ask_volume5',
  'feed_id',
  'ts_recv',
  'sequence',
];

function bookPrices(tick: Tick): (number | null)[] {
  return [
    tick.bid_price1,
    tick.bid_price2,
    tick.bid_price3,
    tick.bid_price4,
    tick.bid_price5,
    tick.ask_price1,
    tick.ask_price2,
    tick.ask_price3,
    tick.ask_price4,
    tick.ask_price5,
  ];
}

const isMultipleOf = (price: number, tickSize: number): boolean => Math.abs(price / tickSize - Math.round(price / tickSize)) < 1e-6;

describe('SimMarket', () => {
  let sessions: TradingSessions;

  beforeEach(() => {
    sessions = new TradingSessions();
  });

  describe('determinism', () => {
    it('produces identical ticks, object for object and byte for byte, from the same seed', () => {
      const first = take(new SimMarket(OPTIONS), 2000);
      const second = take(new SimMarket(OPTIONS), 2000);
      expect(second).toEqual(first);
      expect(JSON.stringify(second)).toBe(JSON.stringify(first));
    });

    it('produces different ticks from a different seed', () => {
      const first = take(new SimMarket(OPTIONS), 200);
      const other = take(new SimMarket({ ...OPTIONS, seed: 2 }), 200);
      expect(JSON.stringify(other)).not.toBe(JSON.stringify(first));
      // The clock does not depend on the seed, only the prices do.
      expect(other.map((t) => t.ts_event)).toEqual(first.map((t) => t.ts_event));
    });
  });

  describe('records', () => {
    const ticks = take(new SimMarket(OPTIONS), 2000);

    it('are valid against the Tick schema', () => {
      const codec = SchemaCatalog.default().codec('Tick');
      for (const tick of ticks) expect(codec.check(tick)).toBeUndefined();
    });

    it('have every Tick field, in schema order (one hidden class)', () => {
      for (const tick of ticks) expect(Object.keys(tick)).toEqual(TICK_FIELDS);
    });

    it("carry the volume traded since the instrument's previous tick of the trading day as last_volume", () => {
      const previous = new Map<string, Tick>();
      for (const tick of ticks) {
        const before = previous.get(tick.instrument_id);
        const sameDay = before !== undefined && before.trading_day === tick.trading_day;
        expect(tick.last_volume).toBe(tick.volume - (sameDay ? before.volume : 0));
        previous.set(tick.instrument_id, tick);
      }
      expect(ticks.some((t) => (t.last_volume ?? 0) > 0)).toBe(true);
    });

    it('carry sequence 1..n, the feed id, receive time after latency and exchange-prefixed ids', () => {
      expect(ticks.map((t) => t.sequence)).toEqual(Array.from({ length: ticks.length }, (_, i) => i + 1));
      for (const tick of ticks) {
        expect(tick.feed_id).toBe('sim');
        expect(tick.ts_recv).toBe(tick.ts_event + 2000);
        expect(INSTRUMENTS).toContain(tick.instrument_id);
      }
    });

    it('lie inside their instrument session, in non-decreasing event time, with trading and action day from the calendar', () => {
      let previous = -Infinity;
      for (const tick of ticks) {
        expect(sessions.isInSession(tick.instrument_id, tick.ts_event)).toBe(true);
        expect(tick.ts_event).toBeGreaterThan(previous);
        previous = tick.ts_event;
        expect(tick.trading_day).toBe(sessions.tradingDay(tick.instrument_id, tick.ts_event));
        expect(tick.action_day).toBe(sessions.actionDay(tick.ts_event));
      }
    });

    it('tick round robin over the instruments in session, 1 ms apart within a round', () => {
      // 21:00 Thursday: every product but CFFEX.IF trades at night.
      const firstRound = ticks.slice(0, 6);
      expect(firstRound.map((t) => t.instrument_id)).toEqual([
        'SHFE.rb2501',
        'SHFE.cu2501',
        'DCE.m2501',
        'CZCE.SR501',
        'INE.sc2501',
        'SHFE.au2502',
      ]);
      expect(firstRound.map((t) => t.ts_event - OPTIONS.start)).toEqual([0, 1000, 2000, 3000, 5000, 6000]);
      expect(ticks[6]?.ts_event).toBe(OPTIONS.start + 500_000);
    });

    it('keep prices within the limits and on the tick size, with bid1 below ask1 and levels one tick apart', () => {
      for (const tick of ticks) {
        const { tickSize } = sessions.productOf(tick.instrument_id);
        const upper = tick.upper_limit as number;
        const lower = tick.lower_limit as number;
        const preSettlement = tick.pre_settlement as number;
        expect(upper).toBeGreaterThan(lower);
        expect(upper).toBeLessThanOrEqual(preSettlement * 1.11 + 1e-9);
        expect(lower).toBeGreaterThanOrEqual(preSettlement * 0.89 - 1e-9);
        const prices = [tick.last_price, tick.open, tick.high, tick.low, upper, lower, preSettlement, ...bookPrices(tick)];
        for (const price of prices) {
          if (price === null) continue;
          expect(isMultipleOf(price, tickSize)).toBe(true);
          expect(price).toBeGreaterThanOrEqual(lower);
          expect(price).toBeLessThanOrEqual(upper);
        }
        const bid1 = tick.bid_price1 as number;
        const ask1 = tick.ask_price1 as number;
        expect(bid1).toBeLessThan(ask1);
        expect(ask1 - bid1).toBeGreaterThanOrEqual(tickSize - 1e-9);
        const bids = [tick.bid_price1, tick.bid_price2, tick.bid_price3, tick.bid_price4, tick.bid_price5];
        const asks = [tick.ask_price1, tick.ask_price2, tick.ask_price3, tick.ask_price4, tick.ask_price5];
        for (let level = 1; level < 5; level++) {
          const bid = bids[level];
          const ask = asks[level];
          if (bid !== null && bid !== undefined) expect(bids[level - 1] as number).toBeCloseTo(bid + tickSize, 6);
          if (ask !== null && ask !== undefined) expect(asks[level - 1] as number).toBeCloseTo(ask - tickSize, 6);
        }
        expect(tick.low as number).toBeLessThanOrEqual(tick.last_price as number);
        expect(tick.high as number).toBeGreaterThanOrEqual(tick.last_price as number);
        expect(tick.close).toBeNull();
        expect(tick.settlement).toBeNull();
      }
    });

    it('accumulate volume, turnover and average price per trading day', () => {
      const previous = new Map<string, Tick>();
      for (const tick of ticks) {
        const before = previous.get(tick.instrument_id);
        const { multiplier } = sessions.productOf(tick.instrument_id);
        if (before !== undefined && before.trading_day === tick.trading_day) {
          expect(tick.volume).toBeGreaterThanOrEqual(before.volume);
          expect(tick.turnover).toBeGreaterThanOrEqual(before.turnover);
          const traded = tick.volume - before.volume;
          // Each tick trades at most once, at its last price.
          expect(tick.turnover - before.turnover).toBeCloseTo((tick.last_price as number) * traded * multiplier, 1);
          expect(tick.open).toBe(before.open);
          expect(tick.pre_settlement).toBe(before.pre_settlement);
          expect(tick.pre_close).toBe(before.pre_close);
          expect(tick.pre_open_interest).toBe(before.pre_open_interest);
        }
        expect(tick.volume).toBeGreaterThan(0);
        expect(tick.average_price as number).toBeCloseTo(tick.turnover / (tick.volume * multiplier), 6);
        previous.set(tick.instrument_id, tick);
      }
    });
  });

  describe('trading day roll-over', () => {
    it('resets the daily fields and carries the previous day into pre_* at the next trading day', () => {
      // Friday 14:59: one minute of Friday's day session, then Friday night, which is Monday's trading day.
      const market = new SimMarket({ ...OPTIONS, start: at('2025-01-03T14:59:00+08:00') });
      const lastOfDay = new Map<string, Tick>();
      const firstOfNextDay = new Map<string, Tick>();
      for (let i = 0; i < 5000 && firstOfNextDay.size < 6; i++) {
        const tick = market.next();
        if (tick.trading_day === '20250103') lastOfDay.set(tick.instrument_id, tick);
        else if (!firstOfNextDay.has(tick.instrument_id)) firstOfNextDay.set(tick.instrument_id, tick);
      }
      expect([...firstOfNextDay.keys()].sort()).toEqual(INSTRUMENTS.filter((id) => id !== 'CFFEX.IF2501').sort());
      for (const [id, next] of firstOfNextDay) {
        const last = lastOfDay.get(id) as Tick;
        const { tickSize, multiplier } = sessions.productOf(id);
        expect(next.trading_day).toBe('20250106');
        expect(next.action_day).toBe('20250103');
        expect(next.ts_event).toBeGreaterThanOrEqual(at('2025-01-03T21:00:00+08:00'));
        expect(next.volume).toBeLessThan(last.volume);
        expect(next.turnover).toBeCloseTo((next.last_price as number) * next.volume * multiplier, 1);
        expect(next.open).toBe(next.last_price);
        expect(next.high).toBe(next.last_price);
        expect(next.low).toBe(next.last_price);
        expect(next.pre_close).toBe(last.last_price);
        expect(next.pre_open_interest).toBe(last.open_interest);
        // Settlement is the day's VWAP on the tick size.
        expect(next.pre_settlement as number).toBeCloseTo(Math.round((last.average_price as number) / tickSize) * tickSize, 6);
        // Limits follow the new pre_settlement, rounded inward to the tick size.
        const band = ((next.pre_settlement as number) * sessions.productOf(id).limitPercent) / 100;
        expect(next.upper_limit as number).toBeCloseTo(
          Math.floor(((next.pre_settlement as number) + band) / tickSize + 1e-9) * tickSize,
          6,
        );
        expect(next.lower_limit as number).toBeCloseTo(Math.ceil(((next.pre_settlement as number) - band) / tickSize - 1e-9) * tickSize, 6);
      }
    });

    it('skips the weekend: after Saturday 02:30 the next tick is on Monday morning', () => {
      const market = new SimMarket({
        ...OPTIONS,
        instruments: ['SHFE.au2502'],
        start: at('2025-01-04T02:29:59+08:00'),
        tickIntervalMs: 500,
      });
      const ticks = take(market, 3);
      expect(ticks.map((t) => t.ts_event)).toEqual([
        at('2025-01-04T02:29:59+08:00'),
        at('2025-01-04T02:29:59.500+08:00'),
        at('2025-01-06T09:00:00+08:00'),
      ]);
      expect(ticks.map((t) => t.trading_day)).toEqual(['20250106', '20250106', '20250106']);
      expect(ticks.map((t) => t.action_day)).toEqual(['20250104', '20250104', '20250106']);
    });

    it('starts at the next session open when the start lies outside every session', () => {
      const [tick] = take(new SimMarket({ ...OPTIONS, start: at('2025-01-05T12:00:00+08:00') }), 1);
      expect(tick?.ts_event).toBe(at('2025-01-06T09:00:00+08:00'));
      expect(tick?.instrument_id).toBe('SHFE.rb2501');
    });
  });

  describe('options', () => {
    it('rejects unknown products and invalid options with a ConfigError', () => {
      expect(() => new SimMarket({ ...OPTIONS, instruments: ['SHFE.xx2501'] })).toThrow(/SHFE\.xx2501.*unknown product/);
      expect(() => new SimMarket({ ...OPTIONS, instruments: [] })).toThrow(ConfigError);
      expect(() => new SimMarket({ ...OPTIONS, instruments: ['SHFE.rb2501', 'SHFE.rb2501'] })).toThrow(/more than once/);
      expect(() => new SimMarket({ ...OPTIONS, tickIntervalMs: 0 })).toThrow(/tickIntervalMs/);
      expect(() => new SimMarket({ ...OPTIONS, latencyUs: -1 })).toThrow(/latencyUs/);
    });

    it('prefixes instruments given without exchange', () => {
      expect(new SimMarket({ ...OPTIONS, instruments: ['rb2501'] }).next().instrument_id).toBe('SHFE.rb2501');
    });
  });
});
