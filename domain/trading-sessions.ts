import { ConfigError } from '../errors/errors.js';
import { productTable, type ProductSpec } from './product-table.js';

const MICROS_PER_MINUTE = 60_000_000;
const MICROS_PER_DAY = 24 * 60 * MICROS_PER_MINUTE;
/** Asia/Shanghai is UTC+8 all year (no daylight saving), so local time is plain arithmetic. */
const UTC8_OFFSET = 8 * 60 * MICROS_PER_MINUTE;

const at = (hours: number, minutes: number): number => (hours * 60 + minutes) * MICROS_PER_MINUTE;

/**
 * Local time after which an instant outside every session already belongs to
 * the next trading day: after the day close and its settlement ticks, before
 * the 21:00 night open.
 */
const TRADING_DAY_CUTOFF = at(18, 0);
const NIGHT_SESSION_START = at(21, 0);

/** One session, in microseconds after local midnight of the calendar day it opens on; `end` (exclusive) may pass midnight. */
interface SessionTemplate {
  readonly start: number;
  readonly end: number;
}

/** One concrete session of an instrument; `start` and `end` (exclusive) are epoch microseconds. */
interface TradingSession {
  readonly start: number;
  readonly end: number;
  /** YYYYMMDD. */
  readonly tradingDay: string;
}

interface ResolvedProduct {
  readonly spec: ProductSpec;
  /** Sessions opening on one weekday, in order: day sessions, then the night session. */
  readonly sessions: readonly SessionTemplate[];
}

const COMMODITY_DAY_SESSIONS: readonly SessionTemplate[] = [
  { start: at(9, 0), end: at(10, 15) },
  { start: at(10, 30), end: at(11, 30) },
  { start: at(13, 30), end: at(15, 0) },
];

const CFFEX_INDEX_DAY_SESSIONS: readonly SessionTemplate[] = [
  { start: at(9, 30), end: at(11, 30) },
  { start: at(13, 0), end: at(15, 0) },
];

/** Night session ends after midnight are counted from the evening's midnight, so they exceed 24:00. */
const NIGHT_SESSION_END: Readonly<Record<NonNullable<ProductSpec['nightSessionEnd']>, number>> = {
  '23:00': at(23, 0),
  '01:00': at(25, 0),
  '02:30': at(26, 30),
};

/** Optional exchange prefix, then the product letters, then the contract month digits: `SHFE.rb2501`, `SR501`. */
const INSTRUMENT_CODE = /^(?:([A-Z]+)\.)?([A-Za-z]+)\d+$/;

/** Monday to Friday. Day 0 of the epoch (1970-01-01) was a Thursday. */
function isWeekday(epochDay: number): boolean {
  const weekday = (((epochDay + 4) % 7) + 7) % 7; // 0 = Sunday
  return weekday >= 1 && weekday <= 5;
}

/** The trading day of a local (UTC+8) instant in microseconds, as an epoch day. */
function tradingEpochDay(localMicros: number): number {
  const calendarDay = Math.floor(localMicros / MICROS_PER_DAY);
  let day = localMicros - calendarDay * MICROS_PER_DAY >= TRADING_DAY_CUTOFF ? calendarDay + 1 : calendarDay;
  while (!isWeekday(day)) day++;
  return day;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** YYYYMMDD of a day counted from 1970-01-01, by the proleptic Gregorian calendar (days-to-civil arithmetic). */
function formatEpochDay(epochDay: number): string {
  const shifted = epochDay + 719_468; // days from 0000-03-01, so leap days fall at the end of a year
  const era = Math.floor(shifted / 146_097);
  const dayOfEra = shifted - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return `${year}${pad2(month)}${pad2(day)}`;
}

/**
 * The trading-session calendar of China futures.
 *
 * All times are Asia/Shanghai (UTC+8) and computed from epoch microseconds
 * with plain arithmetic, never from the machine's time zone or clock.
 *
 * - Day sessions, commodity exchanges (SHFE, INE, DCE, CZCE, GFEX):
 *   09:00–10:15, 10:30–11:30, 13:30–15:00. CFFEX index futures: 09:30–11:30, 13:00–15:00.
 * - Night sessions open at 21:00 and end per product at 23:00, 01:00 or 02:30
 *   (see `productTable`); a night session belongs to the next trading day.
 * - Weekends have no sessions. Friday's night session, including its part
 *   after midnight on Saturday, belongs to Monday's trading day.
 * - Sessions are half-open: the open instant is in session, the close instant
 *   is not. The call auction minute before an open is not part of a session.
 *
 * There is no holiday calendar: every Monday to Friday is treated as a
 * trading day, and the night sessions exchanges cancel before holidays are
 * treated as open.
 *
 * @example
 * ```ts
 * const sessions = new TradingSessions();
 * const fridayNight = Date.parse('2025-01-03T21:30:00+08:00') * 1000;
 * console.log(sessions.isInSession('SHFE.rb2501', fridayNight), sessions.tradingDay('SHFE.rb2501', fridayNight));
 * // Logs: true 20250106
 * ```
 */
export class TradingSessions {
  private readonly products: ReadonlyMap<string, ProductSpec>;
  /** Instrument id → its product, so hot paths parse each id once. Grows with the distinct ids seen. */
  private readonly resolved = new Map<string, ResolvedProduct>();
  /** Formatted days by epoch day; ticks of a run touch few days, and the cache is cleared when it grows. */
  private readonly dayText = new Map<number, string>();

  /** @param products The product reference data; defaults to tickflow's `productTable`. */
  constructor(products: Readonly<Record<string, ProductSpec>> = productTable) {
    this.products = new Map(Object.entries(products));
  }

  /**
   * The product of an instrument, e.g. the spec of `rb` for `SHFE.rb2501`
   * (the exchange prefix is optional).
   *
   * @throws ConfigError when the product is unknown or the prefix names another exchange.
   */
  productOf(instrumentId: string): ProductSpec {
    return this.resolve(instrumentId).spec;
  }

  /** Whether the instrument trades at `tsMicros` (epoch microseconds). */
  isInSession(instrumentId: string, tsMicros: number): boolean {
    return this.sessionOf(instrumentId, tsMicros) !== undefined;
  }

  /**
   * The trading day (YYYYMMDD) `tsMicros` belongs to: the calendar day for
   * day sessions, the next weekday for night sessions (Friday night → Monday).
   * Outside sessions, instants after 18:00 and on weekends count toward the
   * next weekday, which matches every session's trading day.
   */
  tradingDay(instrumentId: string, tsMicros: number): string {
    this.resolve(instrumentId);
    return this.format(tradingEpochDay(tsMicros + UTC8_OFFSET));
  }

  /** The calendar day (YYYYMMDD) of `tsMicros` in UTC+8, whatever the session. */
  actionDay(tsMicros: number): string {
    return this.format(Math.floor((tsMicros + UTC8_OFFSET) / MICROS_PER_DAY));
  }

  /** The first instant at or after `tsMicros` at which the instrument is in session: `tsMicros` itself when in session. */
  nextSessionStart(instrumentId: string, tsMicros: number): number {
    const sessions = this.resolve(instrumentId).sessions;
    const local = tsMicros + UTC8_OFFSET;
    const today = Math.floor(local / MICROS_PER_DAY);
    // Sessions of consecutive days never overlap, so walking days in order visits sessions in time order.
    // Every product has day sessions, so the next one is at most a weekend away.
    for (let day = today - 1; day <= today + 7; day++) {
      if (!isWeekday(day)) continue;
      const midnight = day * MICROS_PER_DAY;
      for (const session of sessions) {
        if (midnight + session.end > local) return Math.max(midnight + session.start, local) - UTC8_OFFSET;
      }
    }
    throw new Error(`no session within a week after ${tsMicros} for ${instrumentId}`);
  }

  /** The session containing `tsMicros` (start inclusive, end exclusive, epoch microseconds), or `undefined` outside sessions. */
  sessionOf(instrumentId: string, tsMicros: number): TradingSession | undefined {
    const sessions = this.resolve(instrumentId).sessions;
    const local = tsMicros + UTC8_OFFSET;
    const today = Math.floor(local / MICROS_PER_DAY);
    for (let day = today - 1; day <= today; day++) {
      if (!isWeekday(day)) continue;
      const midnight = day * MICROS_PER_DAY;
      for (const session of sessions) {
        const start = midnight + session.start;
        if (local >= start && local < midnight + session.end) {
          return { start: start - UTC8_OFFSET, end: midnight + session.end - UTC8_OFFSET, tradingDay: this.format(tradingEpochDay(start)) };
        }
      }
    }
    return undefined;
  }

  private resolve(instrumentId: string): ResolvedProduct {
    const cached = this.resolved.get(instrumentId);
    if (cached !== undefined) return cached;
    const match = INSTRUMENT_CODE.exec(instrumentId);
    const exchange = match?.[1];
    const code = match?.[2];
    const spec = code === undefined ? undefined : this.products.get(code);
    if (spec === undefined) {
      const problem =
        code === undefined
          ? `not an instrument code (expected EXCHANGE.productMONTH, e.g. SHFE.rb2501)`
          : `unknown product '${code}'; known products: ${[...this.products.keys()].join(', ')}`;
      throw new ConfigError(`instrument '${instrumentId}'`, [problem], { context: { instrument: instrumentId } });
    }
    if (exchange !== undefined && exchange !== spec.exchange) {
      throw new ConfigError(`instrument '${instrumentId}'`, [`product '${code}' trades on ${spec.exchange}, not ${exchange}`], {
        context: { instrument: instrumentId },
      });
    }
    // The table's CFFEX products are all index futures (bond futures close at 15:15).
    const daySessions = spec.exchange === 'CFFEX' ? CFFEX_INDEX_DAY_SESSIONS : COMMODITY_DAY_SESSIONS;
    const sessions =
      spec.nightSessionEnd === null
        ? daySessions
        : [...daySessions, { start: NIGHT_SESSION_START, end: NIGHT_SESSION_END[spec.nightSessionEnd] }];
    const product: ResolvedProduct = { spec, sessions };
    this.resolved.set(instrumentId, product);
    return product;
  }

  private format(epochDay: number): string {
    let text = this.dayText.get(epochDay);
    if (text === undefined) {
      if (this.dayText.size >= 1024) this.dayText.clear();
      text = formatEpochDay(epochDay);
      this.dayText.set(epochDay, text);
    }
    return text;
  }
}
