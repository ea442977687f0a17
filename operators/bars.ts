import { asyncScheduler, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import { TradingSessions } from '../domain/trading-sessions.js';
import { ConfigError } from '../errors/errors.js';
import { handWrittenStage } from '../pipeline/runtime/hand-written-stage.js';
import type { StageMetrics } from '../pipeline/runtime/stage-metrics.js';
import type { Bar, InstrumentId, Tick } from '../schemas/generated.js';

export interface BarsOptions {
  /** Bar length in seconds: a whole number that divides a day (86 400), e.g. 1, 60, 300, 900, 3600. */
  readonly periodS: number;
  /**
   * How long after a bar's end, in scheduler time, the bar is closed when no
   * later tick of its instrument has come; at least 0. Default 1000.
   */
  readonly closeDelayMs?: number;
  /** The session calendar; default a `TradingSessions` over tickflow's product table. */
  readonly sessions?: TradingSessions;
  /** Counts the ticks dropped, as `outside-session` or `late`. */
  readonly metrics?: Pick<StageMetrics, 'dropped'>;
  /** The clock of the close timer; bar contents use event time only. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

const MICROS_PER_MS = 1000;
const MICROS_PER_SECOND = 1_000_000;
const SECONDS_PER_DAY = 86_400;
/** Asia/Shanghai is UTC+8 all year: bar boundaries count from local midnight with plain arithmetic. */
const UTC8_OFFSET_US = 8 * 3600 * MICROS_PER_SECOND;
const DEFAULT_CLOSE_DELAY_MS = 1000;

/** The bar being built for one instrument. */
interface OpenBar {
  readonly tradingDay: string;
  readonly tsOpen: number;
  /** Exclusive end: the next period boundary, or the session close when that comes first. */
  readonly tsClose: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  turnover: number;
  openInterest: number;
  tickCount: number;
  /** Event times of the ticks that set `open` and `close` (and `openInterest`), so ticks reordered within the bar still give the first and last price. */
  openTs: number;
  closeTs: number;
  /** The newest event time fed to the bar, and the scheduler time (ms) it arrived at: the bar's map from event time to scheduler time. */
  lastEventTs: number;
  /** Scheduler time (ms) at which the timer closes the bar. */
  deadlineMs: number;
}

/** Everything kept per instrument. */
interface InstrumentState {
  readonly instrumentId: InstrumentId;
  /** The session of the instrument's last in-session tick (epoch µs, end exclusive), so most ticks skip the calendar lookup. */
  sessionStart: number;
  sessionEnd: number;
  sessionTradingDay: string;
  /** Trading day of the cumulative reference below; `undefined` until the instrument's first priced tick. */
  referenceDay: string | undefined;
  /** The highest cumulative volume and turnover seen in `referenceDay`: a tick's share is what it adds to them. */
  referenceVolume: number;
  referenceTurnover: number;
  bar: OpenBar | undefined;
  /** `ts_close` of the last bar emitted: no tick before it can be counted any more. */
  emittedUntil: number;
}

function newInstrumentState(instrumentId: InstrumentId): InstrumentState {
  return {
    instrumentId,
    sessionStart: 0,
    sessionEnd: 0,
    sessionTradingDay: '',
    referenceDay: undefined,
    referenceVolume: 0,
    referenceTurnover: 0,
    bar: undefined,
    emittedUntil: -Infinity,
  };
}

/** The record of a bar, every field present and in schema order (one hidden class). */
function barRecord(instrumentId: InstrumentId, periodS: number, bar: OpenBar): Bar {
  return {
    instrument_id: instrumentId,
    period_s: periodS,
    trading_day: bar.tradingDay,
    ts_open: bar.tsOpen,
    ts_close: bar.tsClose,
    open: bar.open,
    high: bar.high,
    low: bar.low,
    close: bar.close,
    volume: bar.volume,
    turnover: bar.turnover,
    open_interest: bar.openInterest,
    tick_count: bar.tickCount,
  };
}

/** Bars closed together leave in time order, then by instrument: the order does not depend on which instrument was seen first. */
function byCloseThenInstrument(a: Bar, b: Bar): number {
  return a.ts_close - b.ts_close || (a.instrument_id < b.instrument_id ? -1 : a.instrument_id > b.instrument_id ? 1 : 0);
}

/**
 * Builds open-high-low-close bars of `periodS` seconds per instrument from
 * ticks, aligned to the period and cut at every session break.
 *
 * Alignment: a bar starts at a multiple of the period counted from local
 * midnight (UTC+8) — since the period divides a day, every midnight gives the
 * same boundaries — and never spans a session break: a bar is clipped to its
 * session (`TradingSessions.sessionOf`), so with `periodS: 3600` the day
 * session of SHFE.rb gives 09:00–10:00, 10:00–10:15, 10:30–11:00, 11:00–11:30,
 * 13:30–14:00, 14:00–15:00, and the session's last bar ends at the session
 * close. `ts_open` and `ts_close` (exclusive) are those clipped bounds;
 * `trading_day` is the session's, computed from event time (the tick's own
 * `trading_day` field is not trusted).
 *
 * Contents: open, high, low and close of `last_price`, open and close by
 * event time (a tick reordered within its bar does not become its close); a
 * tick without `last_price` counts toward nothing. `volume` and `turnover`
 * are what each tick adds to the cumulative figures of its trading day, which
 * reset when the trading day changes: the first tick of a new trading day
 * counts against 0 (so the opening auction's volume lands in the day's first
 * bar), but the very first tick an instrument shows this operator counts
 * against its own values, because the day's volume before it is unknown
 * (starting mid-session must not put the whole day into one bar). A
 * cumulative figure below the highest seen that day adds nothing.
 * `open_interest` is the latest priced tick's; `tick_count` counts the priced
 * ticks.
 *
 * Closing: a bar is emitted when a tick of its instrument at or after its end
 * arrives, or by a timer `closeDelayMs` after its end, with event time mapped
 * onto the scheduler through the bar's newest tick (due at that tick's
 * arrival + (bar end − its event time) + `closeDelayMs`). The single timer is
 * armed for the earliest deadline only while bars are open, and cancelled on
 * unsubscribe. On completion every open bar is emitted, then the stream
 * completes; on error open bars are discarded.
 *
 * Dropped and counted: ticks outside their instrument's sessions
 * (`outside-session`) and ticks before the current bar of their instrument,
 * or before the end of its last emitted bar (`late`). Within a trading day
 * their volume is not lost: the next counted tick's difference includes it
 * (what a tick stamped at the 15:00 close itself adds is lost, as the next
 * counted tick opens a new trading day). A dropped tick outside the session
 * still closes the open bar when it is at or after the bar's end (the
 * settlement tick after 15:00 closes the day's last bar). A tick of an
 * instrument the calendar does not know fails the stream with the calendar's
 * `ConfigError`.
 *
 * ```
 * source:  -a-b-c-------d--|    a b: 09:00:10 and 09:00:40; c: 09:01:59.996; d: 09:03:20
 *   bars({ periodS: 60, closeDelayMs: 2 })     (1 ms a frame)
 * result:  -----A-----C----(D|)  A (09:00–09:01) closed by c; C (09:01–09:02) by the timer,
 *                                4 + 2 frames after c; D (09:03–09:04) at completion
 * ```
 *
 * @example
 * ```ts
 * import { of } from 'rxjs';
 * import { SimMarket } from '../sources/sim-market.js';
 * const tick = new SimMarket({ instruments: ['SHFE.rb2501'], seed: 1, start: Date.parse('2025-01-03T09:00:00+08:00') * 1000, tickIntervalMs: 500, feedId: 'sim', latencyUs: 0 }).next();
 * const at = (time: string, last_price: number, volume: number): Tick =>
 *   ({ ...tick, ts_event: Date.parse(`2025-01-03T${time}+08:00`) * 1000, last_price, volume }); // any rb tick
 * of(at('09:00:10', 3500, 100), at('09:00:40', 3502, 104), at('09:01:05', 3501, 110))
 *   .pipe(bars({ periodS: 60 }))
 *   .subscribe((bar) => console.log(bar.open, bar.high, bar.low, bar.close, bar.volume));
 * // Logs: 3500 3502 3500 3502 4
 * // Logs: 3501 3501 3501 3501 6
 * ```
 *
 * @param options The period, the close delay, the calendar, metrics and the scheduler.
 * @returns An operator from ticks to the bars of their instruments, each bar emitted once.
 * @throws {ConfigError} When `periodS` does not divide a day or `closeDelayMs` is negative.
 */
export function bars(options: BarsOptions): OperatorFunction<Tick, Bar> {
  const { periodS, metrics } = options;
  const closeDelayMs = options.closeDelayMs ?? DEFAULT_CLOSE_DELAY_MS;
  const problems: string[] = [];
  if (!Number.isInteger(periodS) || periodS < 1 || SECONDS_PER_DAY % periodS !== 0) {
    problems.push(`'periodS' must be a whole number of seconds dividing a day (86400), e.g. 1, 60, 300, 3600; got ${periodS}`);
  }
  if (!(closeDelayMs >= 0) || !Number.isFinite(closeDelayMs))
    problems.push(`'closeDelayMs' must be a finite number at least 0, got ${closeDelayMs}`);
  if (problems.length > 0) throw new ConfigError('bars options', problems);
  const periodUs = periodS * MICROS_PER_SECOND;
  const sessions = options.sessions ?? new TradingSessions();
  const scheduler = options.scheduler ?? asyncScheduler;

  return (source) =>
    handWrittenStage<Bar>((stage) => {
      const instruments = new Map<string, InstrumentState>();
      let openBars = 0;
      let timer: Subscription | undefined;
      let timerDueMs = Infinity;

      const cancelTimer = (): void => {
        timer?.unsubscribe();
        timer = undefined;
        timerDueMs = Infinity;
      };

      /** Arms the timer for `dueMs` unless it is already armed as early. */
      const armTimer = (dueMs: number): void => {
        if (dueMs >= timerDueMs) return;
        timer?.unsubscribe();
        timerDueMs = dueMs;
        timer = stage.schedule(scheduler, closeDueBars, Math.max(0, dueMs - scheduler.now()));
      };

      /** Takes the open bar of `state` out of the state and returns its record. */
      const takeBar = (state: InstrumentState, bar: OpenBar): Bar => {
        state.bar = undefined;
        state.emittedUntil = bar.tsClose;
        openBars--;
        return barRecord(state.instrumentId, periodS, bar);
      };

      /** Takes every open bar, in emission order. */
      const takeAllBars = (): Bar[] => {
        const taken: Bar[] = [];
        for (const state of instruments.values()) {
          if (state.bar !== undefined) taken.push(takeBar(state, state.bar));
        }
        return taken.sort(byCloseThenInstrument);
      };

      const emitAll = (records: readonly Bar[]): void => {
        for (const record of records) stage.emit(record);
      };

      // The timer closes what is due and finds the next deadline itself; ticks only ever move it earlier.
      const closeDueBars = (): void => {
        timer = undefined;
        timerDueMs = Infinity;
        const nowMs = scheduler.now();
        const due: Bar[] = [];
        let nextDueMs = Infinity;
        for (const state of instruments.values()) {
          const bar = state.bar;
          if (bar === undefined) continue;
          if (bar.deadlineMs <= nowMs) due.push(takeBar(state, bar));
          else if (bar.deadlineMs < nextDueMs) nextDueMs = bar.deadlineMs;
        }
        // Every remaining deadline is later than now, so the timer cannot spin.
        if (nextDueMs !== Infinity) armTimer(nextDueMs);
        if (due.length > 1) due.sort(byCloseThenInstrument);
        emitAll(due);
      };

      /** Refreshes the bar's map from event time to scheduler time with a tick at `ts` arriving at `nowMs`, and its deadline. */
      const feed = (bar: OpenBar, ts: number, nowMs: number): void => {
        if (ts < bar.lastEventTs) return;
        bar.lastEventTs = ts;
        // Rounded up to whole milliseconds: never before the bar's end in mapped time.
        bar.deadlineMs = nowMs + Math.ceil((bar.tsClose - ts) / MICROS_PER_MS) + closeDelayMs;
        armTimer(bar.deadlineMs);
      };

      /** Applies a tick to its instrument's state and returns the bar it closed, if any. Emits nothing. */
      const apply = (tick: Tick): Bar | undefined => {
        const ts = tick.ts_event;
        let state = instruments.get(tick.instrument_id);
        if (state === undefined) {
          state = newInstrumentState(tick.instrument_id);
          instruments.set(tick.instrument_id, state);
        }
        if (ts < state.sessionStart || ts >= state.sessionEnd) {
          // Throws a ConfigError for an instrument the calendar does not know.
          const session = sessions.sessionOf(tick.instrument_id, ts);
          if (session === undefined) {
            metrics?.dropped('outside-session');
            // Not counted, but proof that the open bar is complete: the settlement tick after 15:00 closes the day's last bar at once.
            const open = state.bar;
            if (open === undefined || ts < open.tsClose) return undefined;
            const closed = takeBar(state, open);
            if (openBars === 0) cancelTimer();
            return closed;
          }
          state.sessionStart = session.start;
          state.sessionEnd = session.end;
          state.sessionTradingDay = session.tradingDay;
        }
        let bar = state.bar;
        if (ts < (bar === undefined ? state.emittedUntil : bar.tsOpen)) {
          metrics?.dropped('late');
          return undefined;
        }
        const nowMs = scheduler.now();
        let closed: Bar | undefined;
        if (bar !== undefined && ts >= bar.tsClose) {
          closed = takeBar(state, bar);
          bar = undefined;
        }
        const price = tick.last_price;
        if (price === null) {
          // Counts toward nothing, but still tells the open bar how event time maps onto the scheduler.
          if (bar !== undefined) feed(bar, ts, nowMs);
        } else {
          if (state.referenceDay !== state.sessionTradingDay) {
            const firstSeen = state.referenceDay === undefined;
            state.referenceDay = state.sessionTradingDay;
            state.referenceVolume = firstSeen ? tick.volume : 0;
            state.referenceTurnover = firstSeen ? tick.turnover : 0;
          }
          let volume = 0;
          if (tick.volume > state.referenceVolume) {
            volume = tick.volume - state.referenceVolume;
            state.referenceVolume = tick.volume;
          }
          let turnover = 0;
          if (tick.turnover > state.referenceTurnover) {
            turnover = tick.turnover - state.referenceTurnover;
            state.referenceTurnover = tick.turnover;
          }
          if (bar === undefined) {
            const periodStart = ts - ((((ts + UTC8_OFFSET_US) % periodUs) + periodUs) % periodUs);
            bar = {
              tradingDay: state.sessionTradingDay,
              tsOpen: Math.max(periodStart, state.sessionStart),
              tsClose: Math.min(periodStart + periodUs, state.sessionEnd),
              open: price,
              high: price,
              low: price,
              close: price,
              volume,
              turnover,
              openInterest: tick.open_interest,
              tickCount: 1,
              openTs: ts,
              closeTs: ts,
              lastEventTs: ts,
              deadlineMs: Infinity,
            };
            state.bar = bar;
            openBars++;
          } else {
            if (price > bar.high) bar.high = price;
            if (price < bar.low) bar.low = price;
            if (ts < bar.openTs) {
              bar.openTs = ts;
              bar.open = price;
            }
            // Equal event times: the later arrival is the later market event, as the feed delivered them.
            if (ts >= bar.closeTs) {
              bar.closeTs = ts;
              bar.close = price;
              bar.openInterest = tick.open_interest;
            }
            bar.volume += volume;
            bar.turnover += turnover;
            bar.tickCount++;
          }
          feed(bar, ts, nowMs);
        }
        // The timer runs only while a bar is open.
        if (openBars === 0) cancelTimer();
        return closed;
      };

      // All state is updated before the bar leaves: a subscriber may feed ticks back in. An unknown
      // instrument (the calendar's ConfigError) or a throwing metrics callback fails the stage.
      stage.follow(source, (tick) => {
        const closed = apply(tick);
        if (closed !== undefined) stage.emit(closed);
      });
      return {
        whenInputsComplete: () => {
          cancelTimer();
          emitAll(takeAllBars());
          stage.complete();
        },
      };
    });
}
