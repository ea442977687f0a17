import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { TradingSessions } from '../../domain/trading-sessions.js';
import { InstrumentId, type Tick } from '../../schemas/generated.js';
import { CtpTickConverter } from '../../sources/ctp/ctp-tick-converter.js';
import type { CtpTickRejection } from '../../sources/ctp/ctp-tick-rejection.js';
import { DBL_MAX, makeDepthMarketData } from '../support/make-depth-market-data.js';

/** Epoch microseconds of an ISO instant with offset. 2025-01-02 is a Thursday, 01-03 a Friday, 01-04 a Saturday, 01-06 a Monday. */
const at = (iso: string): number => Date.parse(iso) * 1000;
const RECV_LATENCY = 1_500;

const tickFieldOrder = (
  JSON.parse(readFileSync(new URL('../../schemas/Tick.avsc', import.meta.url), 'utf8')) as { fields: { name: string }[] }
).fields.map((f) => f.name);

function expectTick(result: Tick | CtpTickRejection): Tick {
  if ('reason' in result) throw new Error(`expected a Tick, got ${result.reason}: ${result.detail}`);
  return result;
}

function expectRejection(result: Tick | CtpTickRejection): CtpTickRejection {
  if (!('reason' in result)) throw new Error(`expected a rejection, got a Tick of ${result.instrument_id} at ${result.ts_event}`);
  return result;
}

describe('CtpTickConverter', () => {
  let converter: CtpTickConverter;

  beforeEach(() => {
    converter = new CtpTickConverter({ feedId: 'ctp-a' });
  });

  describe('field mapping', () => {
    it('maps a day tick field by field, in the schema order', () => {
      const tsEvent = at('2025-01-02T10:00:00.500+08:00');
      const tick = expectTick(converter.convert(makeDepthMarketData(), tsEvent + RECV_LATENCY));
      expect(tick).toEqual({
        instrument_id: InstrumentId('SHFE.rb2501'),
        trading_day: '20250102',
        action_day: '20250102',
        ts_event: tsEvent,
        last_price: 3500,
        pre_settlement: 3490,
        pre_close: 3488,
        pre_open_interest: 1_000_000,
        open: 3495,
        high: 3510,
        low: 3480,
        close: null,
        settlement: null,
        upper_limit: 3734,
        lower_limit: 3246,
        average_price: 34_985,
        volume: 12_000,
        last_volume: null,
        turnover: 419_820_000,
        open_interest: 1_002_000,
        bid_price1: 3499,
        bid_volume1: 10,
        ask_price1: 3500,
        ask_volume1: 12,
        bid_price2: 3498,
        bid_volume2: 20,
        ask_price2: 3501,
        ask_volume2: 22,
        bid_price3: 3497,
        bid_volume3: 30,
        ask_price3: 3502,
        ask_volume3: 32,
        bid_price4: 3496,
        bid_volume4: 40,
        ask_price4: 3503,
        ask_volume4: 42,
        bid_price5: 3495,
        bid_volume5: 50,
        ask_price5: 3504,
        ask_volume5: 52,
        feed_id: 'ctp-a',
        ts_recv: tsEvent + RECV_LATENCY,
        sequence: 1,
      } satisfies Tick);
      expect(Object.keys(tick)).toEqual(tickFieldOrder);
    });

    it('turns DBL_MAX, NaN and infinities into null in every price, limit and book level', () => {
      const invalid = [DBL_MAX, -DBL_MAX, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e300];
      for (const bad of invalid) {
        const tick = expectTick(
          new CtpTickConverter({ feedId: 'ctp-a' }).convert(
            makeDepthMarketData({
              LastPrice: bad,
              PreSettlementPrice: bad,
              PreClosePrice: bad,
              OpenPrice: bad,
              HighestPrice: bad,
              LowestPrice: bad,
              ClosePrice: bad,
              SettlementPrice: bad,
              UpperLimitPrice: bad,
              LowerLimitPrice: bad,
              AveragePrice: bad,
              BidPrice1: bad,
              AskPrice1: bad,
              BidPrice2: bad,
              AskPrice2: bad,
              BidPrice3: bad,
              AskPrice3: bad,
              BidPrice4: bad,
              AskPrice4: bad,
              BidPrice5: bad,
              AskPrice5: bad,
              BidVolume5: 0,
              AskVolume5: 0,
            }),
            0,
          ),
        );
        const prices = [
          tick.last_price,
          tick.pre_settlement,
          tick.pre_close,
          tick.open,
          tick.high,
          tick.low,
          tick.close,
          tick.settlement,
          tick.upper_limit,
          tick.lower_limit,
          tick.average_price,
          tick.bid_price1,
          tick.ask_price1,
          tick.bid_price2,
          tick.ask_price2,
          tick.bid_price3,
          tick.ask_price3,
          tick.bid_price4,
          tick.ask_price4,
          tick.bid_price5,
          tick.ask_price5,
        ];
        expect(prices, `value ${bad}`).toEqual(prices.map(() => null));
        expect([tick.bid_volume1, tick.bid_volume5, tick.ask_volume5]).toEqual([10, 0, 0]);
      }
    });

    it('keeps real prices, including zero and negative ones', () => {
      const tick = expectTick(converter.convert(makeDepthMarketData({ LastPrice: 0, PreClosePrice: -37.63, BidPrice1: 1e299 }), 0));
      expect([tick.last_price, tick.pre_close, tick.bid_price1]).toEqual([0, -37.63, 1e299]);
    });

    it('uses 0 for an invalid pre_open_interest, turnover or open_interest (they are not nullable)', () => {
      const tick = expectTick(
        converter.convert(
          makeDepthMarketData({ PreOpenInterest: DBL_MAX, Turnover: Number.NaN, OpenInterest: Number.POSITIVE_INFINITY }),
          0,
        ),
      );
      expect([tick.pre_open_interest, tick.turnover, tick.open_interest]).toEqual([0, 0, 0]);
    });

    it('stamps feed id and receive time, and numbers accepted ticks 1, 2, 3 … skipping rejected ones', () => {
      const sequences: number[] = [];
      const times = ['10:00:00', '08:59:00', '10:00:01', '10:20:00', '10:00:02'];
      for (const [i, time] of times.entries()) {
        const result = converter.convert(makeDepthMarketData({ UpdateTime: time }), 1_000 + i);
        if (!('reason' in result)) {
          expect(result.feed_id).toBe('ctp-a');
          expect(result.ts_recv).toBe(1_000 + i);
          sequences.push(result.sequence);
        }
      }
      expect(sequences).toEqual([1, 2, 3]);
      const other = new CtpTickConverter({ feedId: 'ctp-b' });
      expect(expectTick(other.convert(makeDepthMarketData(), 0)).sequence).toBe(1);
    });
  });

  describe('event time', () => {
    it('pads UpdateMillisec: 5 is .005, not .500', () => {
      const tsOf = (millis: number): number =>
        expectTick(new CtpTickConverter({ feedId: 'ctp-a' }).convert(makeDepthMarketData({ UpdateMillisec: millis }), 0)).ts_event;
      expect(tsOf(5)).toBe(at('2025-01-02T10:00:00.005+08:00'));
      expect(tsOf(50)).toBe(at('2025-01-02T10:00:00.050+08:00'));
      expect(tsOf(999)).toBe(at('2025-01-02T10:00:00.999+08:00'));
      expect(tsOf(0)).toBe(at('2025-01-02T10:00:00.000+08:00'));
    });

    it('puts a Friday night SHFE tick at 21:05 on Friday and one at 00:30 on Saturday, both of Monday’s trading day', () => {
      const evening = expectTick(
        converter.convert(
          makeDepthMarketData({
            InstrumentID: 'cu2501',
            TradingDay: '20250106',
            ActionDay: '20250103',
            UpdateTime: '21:05:00',
            UpdateMillisec: 0,
          }),
          0,
        ),
      );
      expect([evening.instrument_id, evening.trading_day, evening.action_day]).toEqual(['SHFE.cu2501', '20250106', '20250103']);
      expect(evening.ts_event).toBe(at('2025-01-03T21:05:00+08:00'));

      const smallHours = expectTick(
        converter.convert(
          makeDepthMarketData({
            InstrumentID: 'cu2501',
            TradingDay: '20250106',
            ActionDay: '20250104',
            UpdateTime: '00:30:00',
            UpdateMillisec: 5,
          }),
          0,
        ),
      );
      expect([smallHours.trading_day, smallHours.action_day]).toEqual(['20250106', '20250104']);
      expect(smallHours.ts_event).toBe(at('2025-01-04T00:30:00.005+08:00'));
    });

    it('resolves the calendar day of a DCE night tick from the session, not from ActionDay (which DCE fills with the trading day)', () => {
      const thursdayNight = expectTick(
        converter.convert(
          makeDepthMarketData({
            InstrumentID: 'm2501',
            ExchangeID: 'DCE',
            TradingDay: '20250103',
            ActionDay: '20250103',
            UpdateTime: '22:30:00',
            UpdateMillisec: 0,
          }),
          0,
        ),
      );
      expect([thursdayNight.instrument_id, thursdayNight.trading_day, thursdayNight.action_day]).toEqual([
        'DCE.m2501',
        '20250103',
        '20250102',
      ]);
      expect(thursdayNight.ts_event).toBe(at('2025-01-02T22:30:00+08:00'));

      const fridayNight = expectTick(
        converter.convert(
          makeDepthMarketData({
            InstrumentID: 'm2501',
            ExchangeID: 'DCE',
            TradingDay: '20250106',
            ActionDay: '20250106',
            UpdateTime: '21:00:00',
            UpdateMillisec: 0,
          }),
          0,
        ),
      );
      expect([fridayNight.trading_day, fridayNight.action_day]).toEqual(['20250106', '20250103']);
      expect(fridayNight.ts_event).toBe(at('2025-01-03T21:00:00+08:00'));
    });

    it('puts a Monday day tick on Monday even though Friday night has the same trading day', () => {
      const tick = expectTick(
        converter.convert(
          makeDepthMarketData({ TradingDay: '20250106', ActionDay: '20250106', UpdateTime: '09:00:00', UpdateMillisec: 0 }),
          0,
        ),
      );
      expect(tick.ts_event).toBe(at('2025-01-06T09:00:00+08:00'));
      expect(tick.action_day).toBe('20250106');
    });

    it('round-trips any in-session instant through UpdateTime, TradingDay and either kind of ActionDay', () => {
      const sessions = new TradingSessions();
      const instruments = ['rb2501', 'cu2501', 'au2502', 'm2501', 'SR501', 'IF2501', 'jd2501'];
      const from = at('2024-12-30T00:00:00+08:00');
      const to = at('2025-01-13T00:00:00+08:00');
      fc.assert(
        fc.property(
          fc.constantFrom(...instruments),
          fc.integer({ min: from / 1000, max: to / 1000 }),
          fc.boolean(),
          (code, ms, actionDayIsTradingDay) => {
            const ts = ms * 1000;
            const known = expectTick(
              new CtpTickConverter({ feedId: 'p', sessions }).convert(makeDepthMarketData({ InstrumentID: code, ExchangeID: '' }), 0),
            ).instrument_id;
            const probe = new CtpTickConverter({ feedId: 'p', sessions });
            if (!sessions.isInSession(known, ts)) return;
            const local = new Date(ms + 8 * 3_600_000);
            const tradingDay = sessions.tradingDay(known, ts);
            const record = makeDepthMarketData({
              InstrumentID: code,
              ExchangeID: '',
              TradingDay: tradingDay,
              ActionDay: actionDayIsTradingDay ? tradingDay : sessions.actionDay(ts),
              UpdateTime: local.toISOString().slice(11, 19),
              UpdateMillisec: local.getUTCMilliseconds(),
            });
            const tick = expectTick(probe.convert(record, ts));
            expect(tick.ts_event).toBe(ts);
            expect(tick.trading_day).toBe(tradingDay);
            expect(tick.action_day).toBe(sessions.actionDay(ts));
          },
        ),
        { numRuns: 300 },
      );
    });

    it('falls back to ActionDay as the calendar day when TradingDay is empty', () => {
      const ts = at('2025-01-02T22:00:00+08:00');
      const tick = expectTick(
        converter.convert(
          makeDepthMarketData({ TradingDay: '', ActionDay: '20250102', UpdateTime: '22:00:00', UpdateMillisec: 0 }),
          ts + RECV_LATENCY,
        ),
      );
      expect([tick.ts_event, tick.trading_day, tick.action_day]).toEqual([ts, '20250103', '20250102']);
    });

    it('falls back to ActionDay read as the trading day when TradingDay is malformed and DCE wrote the trading day into ActionDay', () => {
      const ts = at('2025-01-02T22:00:00+08:00');
      const tick = expectTick(
        converter.convert(
          makeDepthMarketData({
            InstrumentID: 'm2501',
            ExchangeID: 'DCE',
            TradingDay: '2025013',
            ActionDay: '20250103',
            UpdateTime: '22:00:00',
            UpdateMillisec: 0,
          }),
          ts + RECV_LATENCY,
        ),
      );
      expect([tick.ts_event, tick.trading_day, tick.action_day]).toEqual([ts, '20250103', '20250102']);
    });

    it('rejects a record whose TradingDay no instant can have, or whose dates are both unreadable, as malformed', () => {
      expect(expectRejection(converter.convert(makeDepthMarketData({ TradingDay: '20250104', UpdateTime: '10:00:00' }), 0))).toEqual({
        reason: 'malformed',
        detail: 'SHFE.rb2501: TradingDay 20250104 is not the trading day of any instant at UpdateTime 10:00:00.500',
      });
      expect(expectRejection(converter.convert(makeDepthMarketData({ TradingDay: '20250231', ActionDay: '20250230' }), 0)).reason).toBe(
        'malformed',
      );
      expect(expectRejection(converter.convert(makeDepthMarketData({ TradingDay: '', ActionDay: '' }), 0))).toEqual({
        reason: 'malformed',
        detail: 'SHFE.rb2501: TradingDay "" is not a date and neither is ActionDay ""',
      });
    });
  });

  describe('malformed fields', () => {
    it.each([1200, 1000, -1, 2.5, Number.NaN])('rejects UpdateMillisec %s', (millis) => {
      expect(expectRejection(converter.convert(makeDepthMarketData({ UpdateMillisec: millis }), 0))).toEqual({
        reason: 'malformed',
        detail: `SHFE.rb2501: UpdateMillisec ${millis} is not 0–999`,
      });
    });

    it.each(['25:00:00', '24:00:00', '10:60:00', '10:00:60', '9:00:00', '10:00', '10-00-00', 'ab:cd:ef', '', '10:00:00 '])(
      'rejects UpdateTime %j',
      (time) => {
        expect(expectRejection(converter.convert(makeDepthMarketData({ UpdateTime: time }), 0))).toEqual({
          reason: 'malformed',
          detail: `SHFE.rb2501: UpdateTime ${JSON.stringify(time)} is not HH:MM:SS`,
        });
      },
    );

    it('rejects an empty InstrumentID', () => {
      expect(expectRejection(converter.convert(makeDepthMarketData({ InstrumentID: '' }), 0))).toEqual({
        reason: 'malformed',
        detail: "(no instrument, ExchangeID 'SHFE'): InstrumentID is empty",
      });
    });
  });

  describe('exchange prefix', () => {
    it('takes the exchange from the product table when ExchangeID is empty, CZCE codes in capitals', () => {
      expect(expectTick(converter.convert(makeDepthMarketData({ ExchangeID: '' }), 0)).instrument_id).toBe('SHFE.rb2501');
      expect(expectTick(converter.convert(makeDepthMarketData({ ExchangeID: '', InstrumentID: 'SR501' }), 0)).instrument_id).toBe(
        'CZCE.SR501',
      );
      expect(
        expectTick(converter.convert(makeDepthMarketData({ ExchangeID: '', InstrumentID: 'IF2501', UpdateTime: '09:45:00' }), 0))
          .instrument_id,
      ).toBe('CFFEX.IF2501');
    });

    it('keeps a given ExchangeID', () => {
      expect(expectTick(converter.convert(makeDepthMarketData({ ExchangeID: 'INE', InstrumentID: 'sc2502' }), 0)).instrument_id).toBe(
        'INE.sc2502',
      );
      expect(expectTick(converter.convert(makeDepthMarketData({ ExchangeID: 'DCE', InstrumentID: 'm2501' }), 0)).instrument_id).toBe(
        'DCE.m2501',
      );
    });

    it('follows a change of ExchangeID for the same InstrumentID', () => {
      expect(expectTick(converter.convert(makeDepthMarketData({ ExchangeID: '' }), 0)).instrument_id).toBe('SHFE.rb2501');
      expect(expectTick(converter.convert(makeDepthMarketData({ ExchangeID: 'SHFE' }), 0)).instrument_id).toBe('SHFE.rb2501');
      expect(expectRejection(converter.convert(makeDepthMarketData({ ExchangeID: 'DCE' }), 0)).reason).toBe('unknown-instrument');
    });

    it('rejects an unknown product without ExchangeID, an unknown product with one, and an ExchangeID the table disagrees with', () => {
      expect(expectRejection(converter.convert(makeDepthMarketData({ ExchangeID: '', InstrumentID: 'zz2501' }), 0))).toEqual({
        reason: 'unknown-instrument',
        detail: "zz2501: ExchangeID is empty and the product of InstrumentID 'zz2501' is not in the product table",
      });
      expect(expectRejection(converter.convert(makeDepthMarketData({ ExchangeID: 'INE', InstrumentID: 'lu2503' }), 0))).toEqual({
        reason: 'unknown-instrument',
        detail: "INE.lu2503: the product of InstrumentID 'lu2503' is not in the product table, so its trading sessions are unknown",
      });
      expect(expectRejection(converter.convert(makeDepthMarketData({ ExchangeID: 'DCE', InstrumentID: 'rb2501' }), 0))).toEqual({
        reason: 'unknown-instrument',
        detail: "DCE.rb2501: ExchangeID 'DCE' disagrees with the product table, which lists InstrumentID 'rb2501' on SHFE",
      });
      expect(expectRejection(converter.convert(makeDepthMarketData({ ExchangeID: '', InstrumentID: 'm2501-C-3000' }), 0)).reason).toBe(
        'unknown-instrument',
      );
    });
  });

  describe('session filter', () => {
    it.each([
      ['08:59:00', '20250102', 'before the day open'],
      ['15:00:01', '20250102', 'after the day close'],
      ['15:00:00', '20250102', 'at the close instant (sessions are half-open)'],
      ['10:20:00', '20250102', 'in the morning break'],
      ['20:59:00', '20250101', 'before the night open'],
      ['23:30:00', '20250101', 'after rebar’s 23:00 night close'],
    ])('rejects a junk tick at %s on %s (%s)', (time, calendarDay) => {
      expect(expectRejection(converter.convert(makeDepthMarketData({ UpdateTime: time, UpdateMillisec: 0 }), 0))).toEqual({
        reason: 'outside-session',
        detail: `SHFE.rb2501: UpdateTime ${time}.000 on ${calendarDay} is outside the trading sessions of TradingDay 20250102`,
      });
    });

    it('rejects junk on a Friday night after the night close, and on Saturday beyond it', () => {
      const late = makeDepthMarketData({
        InstrumentID: 'cu2501',
        TradingDay: '20250106',
        ActionDay: '20250104',
        UpdateTime: '01:00:00',
        UpdateMillisec: 0,
      });
      expect(expectRejection(converter.convert(late, 0)).reason).toBe('outside-session');
      const saturdayNoon = makeDepthMarketData({ TradingDay: '20250106', ActionDay: '20250104', UpdateTime: '12:00:00' });
      expect(expectRejection(converter.convert(saturdayNoon, 0)).reason).toBe('outside-session');
    });

    it('rejects junk when falling back to ActionDay too', () => {
      expect(expectRejection(converter.convert(makeDepthMarketData({ TradingDay: '', UpdateTime: '08:59:00' }), 0))).toEqual({
        reason: 'outside-session',
        detail: 'SHFE.rb2501: UpdateTime 08:59:00.500 on ActionDay 20250102 is outside the trading sessions (TradingDay "" is not a date)',
      });
    });
  });

  describe('last_volume', () => {
    it('is the difference of Volume to the previous accepted tick of the instrument and trading day', () => {
      const feed = (changes: Parameters<typeof makeDepthMarketData>[0]): Tick | CtpTickRejection =>
        converter.convert(makeDepthMarketData(changes), 0);
      const lastVolume = (result: Tick | CtpTickRejection): number | null => expectTick(result).last_volume;

      expect(lastVolume(feed({ Volume: 100, UpdateTime: '14:59:00' }))).toBeNull(); // first tick of the day
      expect(lastVolume(feed({ Volume: 150, UpdateTime: '14:59:01' }))).toBe(50);
      expect(lastVolume(feed({ Volume: 150, UpdateTime: '14:59:02' }))).toBe(0);
      expect(lastVolume(feed({ InstrumentID: 'hc2501', Volume: 7, UpdateTime: '14:59:02' }))).toBeNull(); // other instrument, own state
      expect(expectRejection(feed({ Volume: 999, UpdateTime: '15:00:01' })).reason).toBe('outside-session'); // rejected: no state change
      expect(lastVolume(feed({ Volume: 160, UpdateTime: '14:59:03' }))).toBe(10);
      // The night session opens trading day 20250103: cumulative volume restarts.
      expect(lastVolume(feed({ TradingDay: '20250103', Volume: 20, UpdateTime: '21:00:00' }))).toBeNull();
      expect(lastVolume(feed({ TradingDay: '20250103', Volume: 30, UpdateTime: '21:00:01' }))).toBe(10);
      expect(lastVolume(feed({ TradingDay: '20250103', Volume: 25, UpdateTime: '21:00:02' }))).toBeNull(); // went down
      expect(lastVolume(feed({ TradingDay: '20250103', Volume: 40, UpdateTime: '21:00:03' }))).toBe(15);
      expect(lastVolume(feed({ InstrumentID: 'hc2501', TradingDay: '20250103', Volume: 3, UpdateTime: '21:00:03' }))).toBeNull();
    });

    it('drops a tick not newer than the latest one taken (a front taking an instrument over repeats or trails the other), without changing state', () => {
      expectTick(converter.convert(makeDepthMarketData({ Volume: 100, UpdateTime: '14:59:00', UpdateMillisec: 500 }), 0));
      expect(
        expectRejection(converter.convert(makeDepthMarketData({ Volume: 100, UpdateTime: '14:59:00', UpdateMillisec: 500 }), 0)).reason,
      ).toBe('duplicate');
      expect(
        expectRejection(converter.convert(makeDepthMarketData({ Volume: 90, UpdateTime: '14:58:59', UpdateMillisec: 500 }), 0)).reason,
      ).toBe('duplicate');
      // Same instant, more volume: a second snapshot of that millisecond.
      expect(
        expectTick(converter.convert(makeDepthMarketData({ Volume: 110, UpdateTime: '14:59:00', UpdateMillisec: 500 }), 0)).last_volume,
      ).toBe(10);
      expect(
        expectTick(converter.convert(makeDepthMarketData({ Volume: 115, UpdateTime: '14:59:01', UpdateMillisec: 0 }), 0)).sequence,
      ).toBe(3);
    });

    it('is kept per converter, so two feeds do not mix', () => {
      const other = new CtpTickConverter({ feedId: 'ctp-b' });
      expectTick(converter.convert(makeDepthMarketData({ Volume: 100 }), 0));
      expect(expectTick(other.convert(makeDepthMarketData({ Volume: 120 }), 0)).last_volume).toBeNull();
      expect(expectTick(converter.convert(makeDepthMarketData({ Volume: 130 }), 0)).last_volume).toBe(30);
    });
  });
});
