import { TradingSessions } from '../../domain/trading-sessions.js';
import type { ProductSpec } from '../../domain/product-table.js';
import type { CtpDepthMarketData } from '../../native/ctp-depth-market-data.js';
import { ConfigError } from '../../errors/errors.js';
import { InstrumentId, type Tick } from '../../schemas/generated.js';
import type { CtpTickRejection } from './ctp-tick-rejection.js';

/** What a `CtpTickConverter` needs: the feed it stamps ticks with, and the trading calendar. */
export interface CtpTickConverterOptions {
  /** Written into every tick's `feed_id`. */
  readonly feedId: string;
  /** The trading calendar; defaults to `new TradingSessions()` over tickflow's product table. */
  readonly sessions?: TradingSessions;
}

const MICROS_PER_SECOND = 1_000_000;
const MICROS_PER_DAY = 86_400 * MICROS_PER_SECOND;
/** Exchange time is Asia/Shanghai, UTC+8 all year (no daylight saving). */
const UTC8_OFFSET = 8 * 3_600 * MICROS_PER_SECOND;
/** CTP marks unset prices with DBL_MAX (~1.8e308); no real price comes near this. */
const INVALID_FROM = 1e300;
/** The earliest session of a trading day opens this many calendar days before it: Friday night for Monday. */
const DAYS_BEFORE_TRADING_DAY = 3;
/** A trading day has at most four sessions; walking three calendar days of sessions visits well under this. */
const MAX_SESSIONS_WALKED = 32;
const COLON = 0x3a;
const ZERO = 0x30;
const DATE_TEXT = /^(\d{4})(\d{2})(\d{2})$/;

/** One session of one trading day, in local (UTC+8) microseconds since the epoch. */
interface SessionOfDay {
  readonly start: number;
  /** Exclusive. */
  readonly end: number;
  /** Local midnight of the calendar day the session opens on. */
  readonly openingMidnight: number;
  /** YYYYMMDD of the day the session opens on, and of the day after (for the part past midnight). */
  readonly openingDay: string;
  readonly followingDay: string;
}

/** What the converter keeps per InstrumentID, so the hot path parses nothing twice. */
interface InstrumentState {
  /** ExchangeID as sent; a record with another one is resolved again. */
  readonly exchangeId: string;
  /** Exchange-prefixed, e.g. `SHFE.rb2501`. */
  readonly instrumentId: InstrumentId;
  /** Set when the instrument cannot be converted at all; returned for each of its records. */
  readonly unknown: CtpTickRejection | null;
  /** The TradingDay `sessions` were computed for. */
  sessionsDay: string;
  sessions: readonly SessionOfDay[];
  /** Trading day, Volume and event time of the instrument's previous accepted tick. */
  volumeDay: string;
  volume: number;
  tsEvent: number;
}

interface ResolvedTime {
  readonly tsEvent: number;
  readonly actionDay: string;
  readonly tradingDay: string;
}

/** DBL_MAX, NaN and ±Infinity all fail these comparisons. */
const price = (value: number): number | null => (value < INVALID_FROM && value > -INVALID_FROM ? value : null);
const amount = (value: number): number => (value < INVALID_FROM && value > -INVALID_FROM ? value : 0);
const malformed = (detail: string): CtpTickRejection => ({ reason: 'malformed', detail });

/** `05` → 5; NaN when either character is not a digit. */
function twoDigits(text: string, at: number): number {
  const tens = text.charCodeAt(at) - ZERO;
  const ones = text.charCodeAt(at + 1) - ZERO;
  return tens >= 0 && tens <= 9 && ones >= 0 && ones <= 9 ? tens * 10 + ones : Number.NaN;
}

/** Microseconds after midnight of `HH:MM:SS`, or -1 when the text is not a time of day. */
function parseUpdateTime(text: string): number {
  if (text.length !== 8 || text.charCodeAt(2) !== COLON || text.charCodeAt(5) !== COLON) return -1;
  const hours = twoDigits(text, 0);
  const minutes = twoDigits(text, 3);
  const seconds = twoDigits(text, 6);
  // A NaN from a non-digit fails these comparisons too.
  if (!(hours <= 23 && minutes <= 59 && seconds <= 59)) return -1;
  return ((hours * 60 + minutes) * 60 + seconds) * MICROS_PER_SECOND;
}

/** Days since 1970-01-01 of a `YYYYMMDD` date, or undefined when the text is not a real date. */
function epochDayOf(text: string): number | undefined {
  const match = DATE_TEXT.exec(text);
  if (match === null) return undefined;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const date = new Date(Date.UTC(year, month - 1, day));
  // Date.UTC rolls 20250230 over into March and maps years below 100 to the 1900s: a round trip catches both.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  return date.getTime() / 86_400_000;
}

const millisText = (millis: number): string => String(millis).padStart(3, '0');

/**
 * Turns CTP depth market data into Ticks, one feed's worth.
 *
 * In plain words: it prefixes the instrument with its exchange, works out
 * the real calendar instant of the tick (night sessions belong to the next
 * trading day, and some exchanges write the trading day into ActionDay, so
 * the date comes from the session calendar), turns CTP's "no price"
 * (DBL_MAX) into null, drops junk sent outside trading hours, and derives
 * the volume traded since the previous tick. Records it cannot turn into a
 * Tick come back as a `CtpTickRejection` saying why.
 *
 * How the event time is resolved: `UpdateTime` + `UpdateMillisec` is a local
 * (UTC+8) time of day. The converter looks for the instant with that time of
 * day whose trading day is the record's `TradingDay`, trying calendar days
 * from TradingDay back to three days before (Friday night and the small
 * hours of Saturday belong to Monday), and prefers an instant inside a
 * session. If TradingDay is empty or not a date, ActionDay is the hint
 * instead (see `resolveOutsideKnownSessions`).
 *
 * State, per instance: the sequence number (1, 2, 3 … over accepted ticks),
 * each instrument's previous Volume (for `last_volume`) and per-instrument
 * caches of the exchange prefix and the sessions of the current trading day.
 * Rejected records change no state. Use one converter per feed.
 *
 * @example
 * ```ts
 * const converter = new CtpTickConverter({ feedId: 'ctp-a' });
 * // A depth record from a front (here the CTP simulator's), with the fields below changed.
 * const running = setInterval(() => {}, 60_000); // the session's threads do not keep Node running
 * const api = CtpMdApi.open({
 *   libraryPath: ctpSimulator.libraryPath(),
 *   flowPath: 'ctp-flow/md1',
 *   onEvents(events) {
 *     for (const event of events) {
 *       if (event.kind === 'front-connected') api.login({ brokerId: '', userId: '', password: '' });
 *       else if (event.kind === 'login' && !event.error) api.subscribe(['cu2501']);
 *       else if (event.kind === 'depth') {
 *         api.close();
 *         clearInterval(running);
 *         // cu2501, TradingDay 20250106 (a Monday), UpdateTime 00:30:00, UpdateMillisec 5, ExchangeID empty
 *         const data = { ...event.data, TradingDay: '20250106', UpdateTime: '00:30:00', UpdateMillisec: 5, ExchangeID: '' };
 *         const tick = converter.convert(data, ctx.scheduler.now() * 1000);
 *         if (!('reason' in tick)) console.log(tick.instrument_id, tick.action_day, new Date(tick.ts_event / 1000).toISOString());
 *         return;
 *       }
 *     }
 *   },
 * });
 * api.registerFront('tcp://127.0.0.1:41001?rate=20&instruments=SHFE.cu2501');
 * api.init();
 * // Logs: SHFE.cu2501 20250104 2025-01-03T16:30:00.005Z
 * ```
 */
export class CtpTickConverter {
  private readonly feedId: string;
  private readonly sessions: TradingSessions;
  /** By InstrumentID as sent; grows with the distinct instruments the feed delivers. */
  private readonly instruments = new Map<string, InstrumentState>();
  private sequence = 0;

  constructor(options: CtpTickConverterOptions) {
    this.feedId = options.feedId;
    this.sessions = options.sessions ?? new TradingSessions();
  }

  /**
   * Converts one record received at `tsRecv` (epoch microseconds).
   *
   * @param data The record as the native addon hands it over.
   * @param tsRecv Receive time, epoch microseconds; becomes `ts_recv`.
   * @returns The Tick, or why the record was dropped.
   */
  convert(data: CtpDepthMarketData, tsRecv: number): Tick | CtpTickRejection {
    let instrument = this.instruments.get(data.InstrumentID);
    if (instrument === undefined || instrument.exchangeId !== data.ExchangeID) {
      if (data.InstrumentID === '') return malformed(`(no instrument, ExchangeID '${data.ExchangeID}'): InstrumentID is empty`);
      instrument = this.resolveInstrument(data.InstrumentID, data.ExchangeID);
      this.instruments.set(data.InstrumentID, instrument);
    }
    if (instrument.unknown !== null) return instrument.unknown;
    const instrumentId = instrument.instrumentId;

    const millis = data.UpdateMillisec;
    if (!(Number.isInteger(millis) && millis >= 0 && millis <= 999))
      return malformed(`${instrumentId}: UpdateMillisec ${millis} is not 0–999`);
    const seconds = parseUpdateTime(data.UpdateTime);
    if (seconds < 0) return malformed(`${instrumentId}: UpdateTime ${JSON.stringify(data.UpdateTime)} is not HH:MM:SS`);
    // UpdateMillisec is an int: 5 is .005, not .500.
    const timeOfDay = seconds + millis * 1000;

    if (instrument.sessionsDay !== data.TradingDay) {
      instrument.sessions = this.sessionsOfTradingDay(instrumentId, data.TradingDay);
      instrument.sessionsDay = data.TradingDay;
    }
    let tsEvent = 0;
    let actionDay = '';
    let tradingDay = data.TradingDay;
    let found = false;
    // Hot path: the sessions of TradingDay hold every in-session instant whose trading day is TradingDay.
    for (const session of instrument.sessions) {
      let local = session.openingMidnight + timeOfDay;
      if (local < session.start) local += MICROS_PER_DAY; // the part of a night session past midnight
      if (local < session.end) {
        tsEvent = local - UTC8_OFFSET;
        actionDay = local - session.openingMidnight < MICROS_PER_DAY ? session.openingDay : session.followingDay;
        found = true;
        break;
      }
    }
    if (!found) {
      const resolved = this.resolveOutsideKnownSessions(instrument, data, timeOfDay, tsRecv);
      if ('reason' in resolved) return resolved;
      tsEvent = resolved.tsEvent;
      actionDay = resolved.actionDay;
      tradingDay = resolved.tradingDay;
    }

    const volume = data.Volume;
    // A front that takes an instrument over from another may first repeat or trail the other's latest tick.
    if (tsEvent < instrument.tsEvent || (tsEvent === instrument.tsEvent && volume === instrument.volume)) {
      return {
        reason: 'duplicate',
        detail: `${instrumentId}: ${tradingDay} ${data.UpdateTime}.${millisText(millis)} (Volume ${volume}) is not newer than the tick already taken`,
      };
    }
    // Volume is cumulative for the trading day; a decrease means the front restarted its count, so the difference is unknown.
    const lastVolume = instrument.volumeDay === tradingDay && volume >= instrument.volume ? volume - instrument.volume : null;
    instrument.volumeDay = tradingDay;
    instrument.volume = volume;
    instrument.tsEvent = tsEvent;
    this.sequence++;

    // One literal in the schema's field order, so every Tick shares one hidden class.
    return {
      instrument_id: instrumentId,
      trading_day: tradingDay,
      action_day: actionDay,
      ts_event: tsEvent,
      last_price: price(data.LastPrice),
      pre_settlement: price(data.PreSettlementPrice),
      pre_close: price(data.PreClosePrice),
      pre_open_interest: amount(data.PreOpenInterest),
      open: price(data.OpenPrice),
      high: price(data.HighestPrice),
      low: price(data.LowestPrice),
      close: price(data.ClosePrice),
      settlement: price(data.SettlementPrice),
      upper_limit: price(data.UpperLimitPrice),
      lower_limit: price(data.LowerLimitPrice),
      average_price: price(data.AveragePrice),
      volume,
      last_volume: lastVolume,
      turnover: amount(data.Turnover),
      open_interest: amount(data.OpenInterest),
      bid_price1: price(data.BidPrice1),
      bid_volume1: data.BidVolume1,
      ask_price1: price(data.AskPrice1),
      ask_volume1: data.AskVolume1,
      bid_price2: price(data.BidPrice2),
      bid_volume2: data.BidVolume2,
      ask_price2: price(data.AskPrice2),
      ask_volume2: data.AskVolume2,
      bid_price3: price(data.BidPrice3),
      bid_volume3: data.BidVolume3,
      ask_price3: price(data.AskPrice3),
      ask_volume3: data.AskVolume3,
      bid_price4: price(data.BidPrice4),
      bid_volume4: data.BidVolume4,
      ask_price4: price(data.AskPrice4),
      ask_volume4: data.AskVolume4,
      bid_price5: price(data.BidPrice5),
      bid_volume5: data.BidVolume5,
      ask_price5: price(data.AskPrice5),
      ask_volume5: data.AskVolume5,
      feed_id: this.feedId,
      ts_recv: tsRecv,
      sequence: this.sequence,
    };
  }

  /** The exchange prefix of an InstrumentID, and whether tickflow knows its product (it needs the sessions). */
  private resolveInstrument(code: string, exchangeId: string): InstrumentState {
    let product: ProductSpec | undefined;
    try {
      product = this.sessions.productOf(code);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
    }
    const exchange = exchangeId !== '' ? exchangeId : product?.exchange;
    // Where an instrument id enters from the CTP record; made once per instrument.
    const instrumentId = InstrumentId(exchange === undefined ? code : `${exchange}.${code}`);
    let unknown: CtpTickRejection | null = null;
    if (product === undefined) {
      unknown = {
        reason: 'unknown-instrument',
        detail:
          exchangeId === ''
            ? `${code}: ExchangeID is empty and the product of InstrumentID '${code}' is not in the product table`
            : `${instrumentId}: the product of InstrumentID '${code}' is not in the product table, so its trading sessions are unknown`,
      };
    } else if (product.exchange !== exchange) {
      // The calendar refuses a prefix the table disagrees with; trusting either side silently could file ticks under the wrong id.
      unknown = {
        reason: 'unknown-instrument',
        detail: `${instrumentId}: ExchangeID '${exchangeId}' disagrees with the product table, which lists InstrumentID '${code}' on ${product.exchange}`,
      };
    }
    return { exchangeId, instrumentId, unknown, sessionsDay: '', sessions: [], volumeDay: '', volume: 0, tsEvent: 0 };
  }

  /** The sessions whose trading day is `tradingDay`, in time order; none when it is not a date or not a trading day. */
  private sessionsOfTradingDay(instrumentId: string, tradingDay: string): SessionOfDay[] {
    const day = epochDayOf(tradingDay);
    if (day === undefined) return [];
    const found: SessionOfDay[] = [];
    // Walk the calendar's sessions in time order from local midnight three days before the trading day.
    let cursor = (day - DAYS_BEFORE_TRADING_DAY) * MICROS_PER_DAY - UTC8_OFFSET;
    for (let walked = 0; walked < MAX_SESSIONS_WALKED; walked++) {
      const session = this.sessions.sessionOf(instrumentId, this.sessions.nextSessionStart(instrumentId, cursor));
      if (session === undefined || session.tradingDay > tradingDay) break;
      if (session.tradingDay === tradingDay) {
        const start = session.start + UTC8_OFFSET;
        const openingMidnight = Math.floor(start / MICROS_PER_DAY) * MICROS_PER_DAY;
        found.push({
          start,
          end: session.end + UTC8_OFFSET,
          openingMidnight,
          openingDay: this.sessions.actionDay(session.start),
          followingDay: this.sessions.actionDay(openingMidnight + MICROS_PER_DAY - UTC8_OFFSET),
        });
      }
      cursor = session.end;
    }
    return found;
  }

  /**
   * The slow path, for a time of day no session of TradingDay holds: tells a
   * junk tick (outside-session) from a TradingDay no instant can have
   * (malformed).
   *
   * When TradingDay is empty or not a date, ActionDay is the date hint. It is
   * the calendar day on most exchanges but the trading day on DCE at night,
   * so both readings are candidates (the calendar day itself, and the days
   * up to three before whose instant has ActionDay as its trading day); of
   * the candidates inside a session, the one nearest the receive time wins,
   * because at night the two readings are both plausible a day apart.
   * `trading_day` is then taken from the calendar.
   */
  private resolveOutsideKnownSessions(
    instrument: InstrumentState,
    data: CtpDepthMarketData,
    timeOfDay: number,
    tsRecv: number,
  ): ResolvedTime | CtpTickRejection {
    const instrumentId = instrument.instrumentId;
    const time = `${data.UpdateTime}.${millisText(data.UpdateMillisec)}`;
    const tradingEpochDay = epochDayOf(data.TradingDay);
    if (tradingEpochDay !== undefined) {
      for (let back = 0; back <= DAYS_BEFORE_TRADING_DAY; back++) {
        const ts = (tradingEpochDay - back) * MICROS_PER_DAY + timeOfDay - UTC8_OFFSET;
        if (this.sessions.tradingDay(instrumentId, ts) !== data.TradingDay) continue;
        // The hot path checked every session of TradingDay, so this instant is outside them; ask the calendar all the same.
        if (this.sessions.isInSession(instrumentId, ts))
          return { tsEvent: ts, actionDay: this.sessions.actionDay(ts), tradingDay: data.TradingDay };
        return {
          reason: 'outside-session',
          detail: `${instrumentId}: UpdateTime ${time} on ${this.sessions.actionDay(ts)} is outside the trading sessions of TradingDay ${data.TradingDay}`,
        };
      }
      return malformed(`${instrumentId}: TradingDay ${data.TradingDay} is not the trading day of any instant at UpdateTime ${time}`);
    }

    const hintDay = epochDayOf(data.ActionDay);
    if (hintDay === undefined) {
      return malformed(
        `${instrumentId}: TradingDay ${JSON.stringify(data.TradingDay)} is not a date and neither is ActionDay ${JSON.stringify(data.ActionDay)}`,
      );
    }
    let best: number | undefined;
    for (let back = 0; back <= DAYS_BEFORE_TRADING_DAY; back++) {
      const ts = (hintDay - back) * MICROS_PER_DAY + timeOfDay - UTC8_OFFSET;
      const reading = back === 0 || this.sessions.tradingDay(instrumentId, ts) === data.ActionDay;
      if (!reading || !this.sessions.isInSession(instrumentId, ts)) continue;
      if (best === undefined || Math.abs(ts - tsRecv) < Math.abs(best - tsRecv)) best = ts;
    }
    if (best === undefined) {
      return {
        reason: 'outside-session',
        detail: `${instrumentId}: UpdateTime ${time} on ActionDay ${data.ActionDay} is outside the trading sessions (TradingDay ${JSON.stringify(data.TradingDay)} is not a date)`,
      };
    }
    return { tsEvent: best, actionDay: this.sessions.actionDay(best), tradingDay: this.sessions.tradingDay(instrumentId, best) };
  }
}
