import { describe, it, expect, beforeEach } from 'vitest';
import { TradingSessions } from '../../domain/trading-sessions.js';
import { ConfigError } from '../../errors/errors.js';

/** Epoch microseconds of an ISO instant with offset. 2025-01-02 is a Thursday, 2025-01-03 a Friday, 2025-01-06 a Monday. */
const at = (iso: string): number => Date.parse(iso) * 1000;

describe('TradingSessions', () => {
  let sessions: TradingSessions;

  beforeEach(() => {
    sessions = new TradingSessions();
  });

  describe('day sessions', () => {
    it('puts commodity day sessions on their calendar day, start inclusive and end exclusive', () => {
      expect(sessions.isInSession('SHFE.rb2501', at('2025-01-02T09:00:00+08:00'))).toBe(true);
      expect(sessions.isInSession('SHFE.rb2501', at('2025-01-02T08:59:59.999+08:00'))).toBe(false);
      expect(sessions.isInSession('SHFE.rb2501', at('2025-01-02T10:14:59.999+08:00'))).toBe(true);
      expect(sessions.isInSession('SHFE.rb2501', at('2025-01-02T10:15:00+08:00'))).toBe(false);
      expect(sessions.isInSession('SHFE.rb2501', at('2025-01-02T10:30:00+08:00'))).toBe(true);
      expect(sessions.isInSession('SHFE.rb2501', at('2025-01-02T12:00:00+08:00'))).toBe(false);
      expect(sessions.isInSession('SHFE.rb2501', at('2025-01-02T14:59:00+08:00'))).toBe(true);
      expect(sessions.isInSession('SHFE.rb2501', at('2025-01-02T15:00:00+08:00'))).toBe(false);
      expect(sessions.tradingDay('SHFE.rb2501', at('2025-01-02T09:30:00+08:00'))).toBe('20250102');
      expect(sessions.actionDay(at('2025-01-02T09:30:00+08:00'))).toBe('20250102');
    });

    it('uses the CFFEX index futures hours', () => {
      expect(sessions.isInSession('CFFEX.IF2501', at('2025-01-02T09:15:00+08:00'))).toBe(false);
      expect(sessions.isInSession('CFFEX.IF2501', at('2025-01-02T09:30:00+08:00'))).toBe(true);
      expect(sessions.isInSession('CFFEX.IF2501', at('2025-01-02T10:20:00+08:00'))).toBe(true);
      expect(sessions.isInSession('CFFEX.IF2501', at('2025-01-02T13:00:00+08:00'))).toBe(true);
      expect(sessions.isInSession('CFFEX.IF2501', at('2025-01-02T21:30:00+08:00'))).toBe(false);
    });

    it('returns the session with its bounds and trading day', () => {
      expect(sessions.sessionOf('SHFE.rb2501', at('2025-01-02T10:00:00+08:00'))).toEqual({
        start: at('2025-01-02T09:00:00+08:00'),
        end: at('2025-01-02T10:15:00+08:00'),
        tradingDay: '20250102',
      });
      expect(sessions.sessionOf('SHFE.rb2501', at('2025-01-02T10:20:00+08:00'))).toBeUndefined();
    });

    it('accepts an instrument without exchange prefix', () => {
      expect(sessions.isInSession('SR501', at('2025-01-02T09:30:00+08:00'))).toBe(true);
      expect(sessions.productOf('SR501').exchange).toBe('CZCE');
    });
  });

  describe('night sessions', () => {
    it('assigns a night session to the next trading day', () => {
      const thursdayNight = at('2025-01-02T22:00:00+08:00');
      expect(sessions.isInSession('SHFE.rb2501', thursdayNight)).toBe(true);
      expect(sessions.tradingDay('SHFE.rb2501', thursdayNight)).toBe('20250103');
      expect(sessions.actionDay(thursdayNight)).toBe('20250102');
      expect(sessions.sessionOf('DCE.m2501', thursdayNight)).toEqual({
        start: at('2025-01-02T21:00:00+08:00'),
        end: at('2025-01-02T23:00:00+08:00'),
        tradingDay: '20250103',
      });
    });

    it('ends each product night session at its own time', () => {
      const half = at('2025-01-02T23:30:00+08:00');
      expect(sessions.isInSession('SHFE.rb2501', half)).toBe(false);
      expect(sessions.isInSession('CZCE.SR501', half)).toBe(false);
      expect(sessions.isInSession('SHFE.cu2501', half)).toBe(true);
      expect(sessions.isInSession('SHFE.wr2501', at('2025-01-02T21:30:00+08:00'))).toBe(false);
    });

    it('keeps the part after midnight in the session that opened the evening before', () => {
      const afterMidnight = at('2025-01-03T00:30:00+08:00');
      expect(sessions.isInSession('SHFE.cu2501', afterMidnight)).toBe(true);
      expect(sessions.isInSession('SHFE.rb2501', afterMidnight)).toBe(false);
      expect(sessions.tradingDay('SHFE.cu2501', afterMidnight)).toBe('20250103');
      expect(sessions.actionDay(afterMidnight)).toBe('20250103');
      expect(sessions.sessionOf('INE.sc2501', at('2025-01-03T02:00:00+08:00'))).toEqual({
        start: at('2025-01-02T21:00:00+08:00'),
        end: at('2025-01-03T02:30:00+08:00'),
        tradingDay: '20250103',
      });
      expect(sessions.isInSession('SHFE.cu2501', at('2025-01-03T01:00:00+08:00'))).toBe(false);
      expect(sessions.isInSession('SHFE.au2502', at('2025-01-03T02:29:59+08:00'))).toBe(true);
      expect(sessions.isInSession('SHFE.au2502', at('2025-01-03T02:30:00+08:00'))).toBe(false);
    });

    it('assigns Friday night, including its Saturday part, to Monday', () => {
      const fridayNight = at('2025-01-03T21:30:00+08:00');
      expect(sessions.isInSession('SHFE.rb2501', fridayNight)).toBe(true);
      expect(sessions.tradingDay('SHFE.rb2501', fridayNight)).toBe('20250106');
      const saturdayMorning = at('2025-01-04T00:30:00+08:00');
      expect(sessions.isInSession('SHFE.cu2501', saturdayMorning)).toBe(true);
      expect(sessions.tradingDay('SHFE.cu2501', saturdayMorning)).toBe('20250106');
      expect(sessions.actionDay(saturdayMorning)).toBe('20250104');
    });

    it('assigns Monday night to Tuesday', () => {
      expect(sessions.tradingDay('SHFE.rb2501', at('2025-01-06T21:00:00+08:00'))).toBe('20250107');
    });
  });

  describe('weekends', () => {
    it('has no session on Saturday day or Sunday night', () => {
      expect(sessions.isInSession('SHFE.rb2501', at('2025-01-04T10:00:00+08:00'))).toBe(false);
      expect(sessions.isInSession('SHFE.rb2501', at('2025-01-05T22:00:00+08:00'))).toBe(false);
      expect(sessions.isInSession('SHFE.cu2501', at('2025-01-06T00:30:00+08:00'))).toBe(false);
      expect(sessions.sessionOf('SHFE.rb2501', at('2025-01-05T10:00:00+08:00'))).toBeUndefined();
      expect(sessions.tradingDay('SHFE.rb2501', at('2025-01-05T10:00:00+08:00'))).toBe('20250106');
    });
  });

  describe('nextSessionStart', () => {
    it('returns the instant itself when in session', () => {
      const ts = at('2025-01-02T09:30:00.123456+08:00') + 7;
      expect(sessions.nextSessionStart('SHFE.rb2501', ts)).toBe(ts);
    });

    it('crosses the morning break and the lunch break', () => {
      expect(sessions.nextSessionStart('SHFE.rb2501', at('2025-01-02T10:15:00+08:00'))).toBe(at('2025-01-02T10:30:00+08:00'));
      expect(sessions.nextSessionStart('SHFE.rb2501', at('2025-01-02T12:00:00+08:00'))).toBe(at('2025-01-02T13:30:00+08:00'));
      expect(sessions.nextSessionStart('CFFEX.IF2501', at('2025-01-02T12:00:00+08:00'))).toBe(at('2025-01-02T13:00:00+08:00'));
    });

    it('goes from the day close to the night open, or to the next morning without night session', () => {
      expect(sessions.nextSessionStart('SHFE.rb2501', at('2025-01-02T15:00:00+08:00'))).toBe(at('2025-01-02T21:00:00+08:00'));
      expect(sessions.nextSessionStart('CFFEX.IF2501', at('2025-01-02T15:00:00+08:00'))).toBe(at('2025-01-03T09:30:00+08:00'));
      expect(sessions.nextSessionStart('SHFE.rb2501', at('2025-01-02T23:00:00+08:00'))).toBe(at('2025-01-03T09:00:00+08:00'));
    });

    it('crosses a weekend', () => {
      expect(sessions.nextSessionStart('SHFE.rb2501', at('2025-01-04T10:00:00+08:00'))).toBe(at('2025-01-06T09:00:00+08:00'));
      expect(sessions.nextSessionStart('SHFE.cu2501', at('2025-01-04T01:00:00+08:00'))).toBe(at('2025-01-06T09:00:00+08:00'));
      expect(sessions.nextSessionStart('CFFEX.IF2501', at('2025-01-03T15:00:00+08:00'))).toBe(at('2025-01-06T09:30:00+08:00'));
      expect(sessions.nextSessionStart('SHFE.rb2501', at('2025-01-03T15:00:00+08:00'))).toBe(at('2025-01-03T21:00:00+08:00'));
    });
  });

  describe('calendar arithmetic', () => {
    it('formats days like the UTC+8 calendar across month, year and leap-day boundaries', () => {
      const days = ['2024-02-28', '2024-02-29', '2024-03-01', '2024-12-31', '2025-01-01', '2000-02-29', '2100-03-01'];
      for (const day of days) {
        expect(sessions.actionDay(at(`${day}T00:00:00+08:00`))).toBe(day.replaceAll('-', ''));
        expect(sessions.actionDay(at(`${day}T23:59:59.999999+08:00`))).toBe(day.replaceAll('-', ''));
      }
    });
  });

  describe('unknown instruments', () => {
    it('throws a ConfigError naming the instrument and listing the known products', () => {
      const call = (): unknown => sessions.isInSession('SHFE.xx2501', 0);
      expect(call).toThrow(ConfigError);
      expect(call).toThrow(/SHFE\.xx2501.*unknown product 'xx'; known products: .*\brb\b/);
      expect(() => sessions.tradingDay('SHFE.xx2501', 0)).toThrow(ConfigError);
      expect(() => sessions.nextSessionStart('SHFE.xx2501', 0)).toThrow(ConfigError);
      expect(() => sessions.sessionOf('SHFE.xx2501', 0)).toThrow(ConfigError);
    });

    it('rejects a prefix naming another exchange and text that is no instrument code', () => {
      expect(() => sessions.productOf('DCE.rb2501')).toThrow(/trades on SHFE, not DCE/);
      expect(() => sessions.productOf('SHFE.')).toThrow(ConfigError);
      expect(() => sessions.productOf('constructor1')).toThrow(ConfigError);
    });
  });
});
