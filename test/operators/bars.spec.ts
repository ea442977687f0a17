import fc from 'fast-check';
import { Subject, of } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { TradingSessions } from '../../domain/trading-sessions.js';
import { bars, type BarsOptions } from '../../operators/bars.js';
import { barsOperator } from '../../operators/bars-operator.js';
import { validateConfig } from '../../pipeline/config/validate-config.js';
import { ConfigError } from '../../errors/errors.js';
import { StageMetrics } from '../../pipeline/runtime/stage-metrics.js';
import { InstrumentId, type Bar, type Tick } from '../../schemas/generated.js';
import { SimMarket } from '../../sources/sim-market.js';
import { createTestScheduler } from '../support/marbles.js';
import { makeTick } from '../support/make-tick.js';
import { testContext } from '../support/test-context.js';
import { validateComponentConfig } from '../../pipeline/components/validate-component-config.js';

/** A Friday: its day session is trading day 20250103; its night session, and the part after midnight, trading day 20250106. */
const FRIDAY = '2025-01-03';
const SATURDAY = '2025-01-04';
/** The close timer's delay in the tests, in frames (1 ms each). */
const CLOSE_DELAY_MS = 3;
/** Turnover is volume × this (price × multiplier), so a bar's turnover is its volume × this too. */
const LOT_VALUE = 35_000;
const OPEN_INTEREST_BASE = 1_000_000;

/** Epoch microseconds of a local (UTC+8) time such as `09:00:59.990` on `day`. */
function at(time: string, day = FRIDAY): number {
  return Date.parse(`${day}T${time}+08:00`) * 1000;
}

/**
 * A tick at local `time` with last price `price` and cumulative volume `volume`;
 * turnover follows the volume, and open interest is `OPEN_INTEREST_BASE + volume`.
 */
function tick(time: string, price: number | null, volume: number, changes: { day?: string; instrument?: string } = {}): Tick {
  return makeTick({
    instrument_id: changes.instrument ?? 'SHFE.rb2501',
    ts_event: at(time, changes.day),
    last_price: price,
    volume,
    turnover: volume * LOT_VALUE,
    open_interest: OPEN_INTEREST_BASE + volume,
  });
}

interface BarShape {
  /** Local times `HH:MM` of the bar's bounds on `day`; `to` may be on `toDay`. */
  readonly from: string;
  readonly to: string;
  readonly ohlc: readonly [number, number, number, number];
  readonly volume: number;
  readonly ticks: number;
  /** Cumulative volume of the bar's last tick, which sets its open interest. */
  readonly lastVolume: number;
  readonly day?: string;
  readonly toDay?: string;
  readonly tradingDay?: string;
  readonly instrument?: string;
  readonly periodS?: number;
}

function bar(shape: BarShape): Bar {
  const [open, high, low, close] = shape.ohlc;
  return {
    instrument_id: InstrumentId(shape.instrument ?? 'SHFE.rb2501'),
    period_s: shape.periodS ?? 60,
    trading_day: shape.tradingDay ?? '20250103',
    ts_open: at(`${shape.from}:00`, shape.day),
    ts_close: at(`${shape.to}:00`, shape.toDay ?? shape.day),
    open,
    high,
    low,
    close,
    volume: shape.volume,
    turnover: shape.volume * LOT_VALUE,
    open_interest: OPEN_INTEREST_BASE + shape.lastVolume,
    tick_count: shape.ticks,
  };
}

describe('bars', () => {
  let scheduler: TestScheduler;
  let metrics: StageMetrics;
  let options: BarsOptions;
  beforeEach(() => {
    scheduler = createTestScheduler();
    metrics = new StageMetrics('s', 'bars', [1]);
    options = { periodS: 60, closeDelayMs: CLOSE_DELAY_MS, scheduler, metrics };
  });

  it('emits nothing for never', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold<Tick>('-');
      const e1subs = '       ^';
      const expected = '     -';
      expectObservable(e1.pipe(bars(options))).toBe(expected);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('completes on empty', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold<Tick>('|');
      const e1subs = '       (^!)';
      const expected = '     |';
      expectObservable(e1.pipe(bars(options))).toBe(expected);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
  });

  it('emits the open bar of one tick on completion, counting the first tick seen against its own volume, and stops the timer', () => {
    const ticks = { a: tick('09:00:10', 3500, 100) };
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -a-|', ticks);
      const e1subs = '   ^--!';
      const expected = ' ---(A|)';
      expectObservable(e1.pipe(bars(options))).toBe(expected, {
        A: bar({ from: '09:00', to: '09:01', ohlc: [3500, 3500, 3500, 3500], volume: 0, ticks: 1, lastVolume: 100 }),
      });
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
    // Virtual time ends at the completion: the close timer (due at frame 50 004) did not outlive it.
    expect(scheduler.now()).toBe(3);
  });

  it('builds open, high, low, close, volume, turnover and open interest of many ticks, and closes a bar at a tick exactly on its end', () => {
    const ticks = {
      a: tick('09:00:00', 3500, 100),
      b: tick('09:00:15', 3505, 103),
      c: tick('09:00:30', 3498, 110),
      d: tick('09:00:59.500', 3502, 112),
      e: tick('09:01:00', 3503, 120),
    };
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  -abcde|', ticks);
      const expected = ' -----A(E|)';
      expectObservable(e1.pipe(bars(options))).toBe(expected, {
        A: bar({ from: '09:00', to: '09:01', ohlc: [3500, 3505, 3498, 3502], volume: 12, ticks: 4, lastVolume: 112 }),
        E: bar({ from: '09:01', to: '09:02', ohlc: [3503, 3503, 3503, 3503], volume: 8, ticks: 1, lastVolume: 120 }),
      });
    });
  });

  it('closes a bar by timer closeDelayMs after its end, mapped onto the scheduler through its newest tick, and drops a tick that comes later', () => {
    // a and b arrive one frame apart though 59.99 s apart in event time (a burst): b's mapping moves the deadline
    // from frame 1 + 60 000 + 3 to frame 2 + 10 + 3. c, of the closed bar, arrives after the timer closed it.
    const ticks = { a: tick('09:00:00', 3500, 100), b: tick('09:00:59.990', 3501, 101), c: tick('09:00:59.995', 3502, 102) };
    scheduler.run(({ hot, expectObservable }) => {
      const e1 = hot('  -ab------------------c', ticks);
      const expected = '---------------A------';
      expectObservable(e1.pipe(bars(options))).toBe(expected, {
        A: bar({ from: '09:00', to: '09:01', ohlc: [3500, 3501, 3500, 3501], volume: 1, ticks: 2, lastVolume: 101 }),
      });
    });
    expect(Object.fromEntries(metrics.droppedByReason)).toEqual({ late: 1 });
    // No bar is open after frame 15, so the timer is not rearmed: virtual time ends at c.
    expect(scheduler.now()).toBe(21);
  });

  it('cuts day bars at the 10:15 break and the 11:30 lunch, starts them at the session open, and ends the last at the 15:00 close', () => {
    const ticks = {
      a: tick('09:30:00', 3500, 100),
      b: tick('10:14:59.500', 3510, 110),
      c: tick('10:30:10', 3505, 130),
      d: tick('11:29:00', 3507, 131),
      e: tick('13:31:00', 3501, 140),
      f: tick('14:59:59', 3499, 150),
    };
    const hour = { periodS: 3600 };
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  -abcdef|', ticks);
      const expected = ' --ABCDE(F|)';
      expectObservable(e1.pipe(bars({ ...options, periodS: 3600 }))).toBe(expected, {
        A: bar({ ...hour, from: '09:00', to: '10:00', ohlc: [3500, 3500, 3500, 3500], volume: 0, ticks: 1, lastVolume: 100 }),
        B: bar({ ...hour, from: '10:00', to: '10:15', ohlc: [3510, 3510, 3510, 3510], volume: 10, ticks: 1, lastVolume: 110 }),
        C: bar({ ...hour, from: '10:30', to: '11:00', ohlc: [3505, 3505, 3505, 3505], volume: 20, ticks: 1, lastVolume: 130 }),
        D: bar({ ...hour, from: '11:00', to: '11:30', ohlc: [3507, 3507, 3507, 3507], volume: 1, ticks: 1, lastVolume: 131 }),
        E: bar({ ...hour, from: '13:30', to: '14:00', ohlc: [3501, 3501, 3501, 3501], volume: 9, ticks: 1, lastVolume: 140 }),
        F: bar({ ...hour, from: '14:00', to: '15:00', ohlc: [3499, 3499, 3499, 3499], volume: 10, ticks: 1, lastVolume: 150 }),
      });
    });
  });

  it('cuts night bars at each product’s night close, after midnight too, in the next trading day', () => {
    const night = { periodS: 7200, tradingDay: '20250106' };
    const ticks = {
      g: tick('21:00:00.500', 3500, 10),
      h: tick('22:59:59', 3502, 20),
      i: tick('00:59:59', 74_000, 5, { instrument: 'SHFE.cu2502', day: SATURDAY }),
      j: tick('02:29:59', 620, 7, { instrument: 'SHFE.au2502', day: SATURDAY }),
    };
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  -ghij|', ticks);
      const expected = ' --G--(HIJ|)';
      expectObservable(e1.pipe(bars({ ...options, periodS: 7200 }))).toBe(expected, {
        // Two-hour boundaries fall at 20:00 and 22:00: the first night bar starts at the 21:00 open.
        G: bar({ ...night, from: '21:00', to: '22:00', ohlc: [3500, 3500, 3500, 3500], volume: 0, ticks: 1, lastVolume: 10 }),
        H: bar({ ...night, from: '22:00', to: '23:00', ohlc: [3502, 3502, 3502, 3502], volume: 10, ticks: 1, lastVolume: 20 }),
        I: bar({
          ...night,
          instrument: 'SHFE.cu2502',
          day: SATURDAY,
          from: '00:00',
          to: '01:00',
          ohlc: [74_000, 74_000, 74_000, 74_000],
          volume: 0,
          ticks: 1,
          lastVolume: 5,
        }),
        J: bar({
          ...night,
          instrument: 'SHFE.au2502',
          day: SATURDAY,
          from: '02:00',
          to: '02:30',
          ohlc: [620, 620, 620, 620],
          volume: 0,
          ticks: 1,
          lastVolume: 7,
        }),
      });
    });
  });

  describe('the session’s last bar', () => {
    // a: 5 ms before the 15:00 close; s: the settlement tick at 15:00:00.500, outside the session.
    const ticks = { a: tick('14:59:59.995', 3500, 100), s: tick('15:00:00.500', 3500, 100) };
    const A = bar({ from: '14:59', to: '15:00', ohlc: [3500, 3500, 3500, 3500], volume: 0, ticks: 1, lastVolume: 100 });

    it('closes at once on a tick after the close, which is dropped but proves the bar complete', () => {
      scheduler.run(({ hot, expectObservable }) => {
        const e1 = hot('  -a-s---', ticks);
        const expected = '---A---';
        expectObservable(e1.pipe(bars(options))).toBe(expected, { A });
      });
      expect(Object.fromEntries(metrics.droppedByReason)).toEqual({ 'outside-session': 1 });
    });

    it('closes by timer at the session close plus closeDelayMs when no tick comes', () => {
      scheduler.run(({ hot, expectObservable }) => {
        const e1 = hot('  -a-------', ticks);
        const expected = '---------A';
        expectObservable(e1.pipe(bars(options))).toBe(expected, { A });
      });
    });
  });

  it('drops and counts ticks outside the session and ticks older than the current bar', () => {
    const ticks = {
      x: tick('08:59:00', 3490, 90), // the opening auction, before the 09:00 open
      a: tick('09:00:10', 3500, 100),
      b: tick('09:01:05', 3501, 105),
      c: tick('09:00:50', 3502, 103), // bar 09:00 is closed: late
      d: tick('09:01:30', 3503, 107),
      y: tick('10:20:00', 3504, 107), // the 10:15 break: outside, and after bar 09:01, which it closes
      e: tick('09:01:40', 3505, 108), // bar 09:01 is closed: late
    };
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  -xabcdye|', ticks);
      const expected = ' ---A--B-|';
      expectObservable(e1.pipe(bars(options))).toBe(expected, {
        A: bar({ from: '09:00', to: '09:01', ohlc: [3500, 3500, 3500, 3500], volume: 0, ticks: 1, lastVolume: 100 }),
        B: bar({ from: '09:01', to: '09:02', ohlc: [3501, 3503, 3501, 3503], volume: 7, ticks: 2, lastVolume: 107 }),
      });
    });
    expect(Object.fromEntries(metrics.droppedByReason)).toEqual({ 'outside-session': 2, late: 2 });
  });

  it('takes volume and turnover as differences of the cumulative figures, resetting at a new trading day', () => {
    const ticks = {
      a: tick('14:58:10', 3500, 100), // the first tick seen: counted against itself
      b: tick('14:58:20', 3501, 105),
      c: tick('14:58:30', 3502, 112),
      d: tick('14:59:10', 3503, 120),
      e: tick('21:00:00.500', 3510, 30), // the night session: trading day 20250106, counted against 0
      f: tick('21:00:30', 3511, 45),
      g: tick('21:00:40', 3512, 44), // a cumulative figure below the highest seen adds nothing
    };
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  -abcdefg|', ticks);
      const expected = ' ----DE--(F|)';
      expectObservable(e1.pipe(bars(options))).toBe(expected, {
        D: bar({ from: '14:58', to: '14:59', ohlc: [3500, 3502, 3500, 3502], volume: 12, ticks: 3, lastVolume: 112 }),
        E: bar({ from: '14:59', to: '15:00', ohlc: [3503, 3503, 3503, 3503], volume: 8, ticks: 1, lastVolume: 120 }),
        F: bar({
          from: '21:00',
          to: '21:01',
          tradingDay: '20250106',
          ohlc: [3510, 3512, 3510, 3512],
          volume: 45,
          ticks: 3,
          lastVolume: 44,
        }),
      });
    });
  });

  it('counts ticks without last_price toward nothing, lets them close a bar, and keeps their volume for the next priced tick', () => {
    const ticks = {
      a: tick('09:00:10', 3500, 100),
      n: tick('09:00:20', null, 103),
      m: tick('09:01:10', null, 104), // closes bar 09:00, opens none
      b: tick('09:02:10', 3501, 106),
    };
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  -anmb|', ticks);
      const expected = ' ---A-(B|)';
      expectObservable(e1.pipe(bars(options))).toBe(expected, {
        A: bar({ from: '09:00', to: '09:01', ohlc: [3500, 3500, 3500, 3500], volume: 0, ticks: 1, lastVolume: 100 }),
        B: bar({ from: '09:02', to: '09:03', ohlc: [3501, 3501, 3501, 3501], volume: 6, ticks: 1, lastVolume: 106 }),
      });
    });
    expect(metrics.droppedTotal).toBe(0);
  });

  it('takes open and close by event time when ticks are reordered within a bar', () => {
    const ticks = {
      a: tick('09:00:30', 3500, 100),
      b: tick('09:00:10', 3490, 100),
      c: tick('09:00:50', 3510, 101),
      d: tick('09:00:40', 3505, 101),
    };
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  -abcd|', ticks);
      const expected = ' -----(A|)';
      expectObservable(e1.pipe(bars(options))).toBe(expected, {
        A: bar({ from: '09:00', to: '09:01', ohlc: [3490, 3510, 3490, 3510], volume: 1, ticks: 4, lastVolume: 101 }),
      });
    });
  });

  it('keeps instruments independent, and emits bars closed together in time order, then by instrument', () => {
    const m = { instrument: 'DCE.m2501' };
    const ticks = {
      a: tick('09:00:10', 3500, 100),
      p: tick('09:00:59.990', 2800, 50, m), // no later m tick: its timer closes it at frame 2 + 10 + 3
      b: tick('09:01:05', 3501, 101), // closes rb's bar only
      q: tick('09:01:30', 2801, 52, m),
    };
    scheduler.run(({ cold, expectObservable }) => {
      const e1 = cold('  -apb-------------q--|', ticks);
      const expected = ' ---A-----------P----(QB|)';
      expectObservable(e1.pipe(bars(options))).toBe(expected, {
        A: bar({ from: '09:00', to: '09:01', ohlc: [3500, 3500, 3500, 3500], volume: 0, ticks: 1, lastVolume: 100 }),
        P: bar({ ...m, from: '09:00', to: '09:01', ohlc: [2800, 2800, 2800, 2800], volume: 0, ticks: 1, lastVolume: 50 }),
        Q: bar({ ...m, from: '09:01', to: '09:02', ohlc: [2801, 2801, 2801, 2801], volume: 2, ticks: 1, lastVolume: 52 }),
        B: bar({ from: '09:01', to: '09:02', ohlc: [3501, 3501, 3501, 3501], volume: 1, ticks: 1, lastVolume: 101 }),
      });
    });
  });

  it('passes an error through, discarding the open bar, and stops the timer', () => {
    const ticks = { a: tick('09:00:10', 3500, 100) };
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -a-#', ticks, new Error('feed lost'));
      const e1subs = '   ^--!';
      const expected = ' ---#';
      expectObservable(e1.pipe(bars(options))).toBe(expected, undefined, new Error('feed lost'));
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
    expect(scheduler.now()).toBe(3);
  });

  it('follows a source that never ends, and stops the timer when unsubscribed early', () => {
    const ticks = { a: tick('09:00:59.990', 3500, 100) };
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const e1 = hot('  -a---', ticks);
      const unsub = '   ----!';
      const e1subs = '  ^---!';
      const expected = '-----';
      expectObservable(e1.pipe(bars(options)), unsub).toBe(expected, ticks);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
    // Virtual time ends at the unsubscription: the close timer (due at frame 1 + 10 + 3) was cancelled with it.
    expect(scheduler.now()).toBe(4);
  });

  it('fails the stream when the metrics callback throws', () => {
    const boom = new Error('metrics broke');
    const throwing = {
      dropped: () => {
        throw boom;
      },
    };
    const ticks = { a: tick('09:00:10', 3500, 100), x: tick('12:00:00', 3500, 100) };
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const e1 = cold('  -ax-', ticks);
      const e1subs = '   ^-!';
      const expected = ' --#';
      expectObservable(e1.pipe(bars({ ...options, metrics: throwing }))).toBe(expected, undefined, boom);
      expectSubscriptions(e1.subscriptions).toBe(e1subs);
    });
    expect(scheduler.now()).toBe(2);
  });

  it('fails the stream with a ConfigError naming an instrument the calendar does not know', () => {
    const errors: unknown[] = [];
    scheduler.run(({ cold }) => {
      const e1 = cold('-ab', { a: tick('09:00:10', 3500, 100), b: tick('09:00:20', 10, 1, { instrument: 'XX.zz2501' }) });
      e1.pipe(bars(options)).subscribe({ error: (error: unknown) => errors.push(error) });
    });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ConfigError);
    expect((errors[0] as ConfigError).message).toMatch(/instrument 'XX.zz2501'/);
    expect(scheduler.now()).toBe(2);
  });

  it('sees its own state when a subscriber feeds ticks back in, on a tick and on the timer', () => {
    const ticks = {
      a: tick('09:00:10', 3500, 100),
      b: tick('09:01:59.990', 3501, 101), // closes bar 09:00; no later tick, so the timer closes bar 09:01 at frame 2 + 10 + 3
      late: tick('09:00:50', 3502, 101), // fed back when bar 09:00 leaves: that bar is already closed
      same: tick('09:01:20', 3499, 102), // fed back too: belongs to the bar b opened
      next: tick('09:02:10', 3503, 103), // fed back when the timer emits bar 09:01: opens bar 09:02 and rearms the timer
    };
    const seen: { frame: number; bar: Bar }[] = [];
    scheduler.run(({ cold }) => {
      const source = new Subject<Tick>();
      source.pipe(bars(options)).subscribe({
        next: (emitted) => {
          seen.push({ frame: scheduler.now(), bar: emitted });
          if (seen.length === 1) {
            source.next(ticks.late);
            source.next(ticks.same);
          }
          if (seen.length === 2) source.next(ticks.next);
        },
      });
      cold('-ab', ticks).subscribe((t) => source.next(t));
    });
    expect(seen).toEqual([
      { frame: 2, bar: bar({ from: '09:00', to: '09:01', ohlc: [3500, 3500, 3500, 3500], volume: 0, ticks: 1, lastVolume: 100 }) },
      { frame: 15, bar: bar({ from: '09:01', to: '09:02', ohlc: [3499, 3501, 3499, 3501], volume: 2, ticks: 2, lastVolume: 101 }) },
      // Fed back at frame 15, 50 s before its bar's end: due at 15 + 50 000 + 3.
      { frame: 50_018, bar: bar({ from: '09:02', to: '09:03', ohlc: [3503, 3503, 3503, 3503], volume: 1, ticks: 1, lastVolume: 103 }) },
    ]);
    expect(Object.fromEntries(metrics.droppedByReason)).toEqual({ late: 1 });
  });

  it('works as its TSDoc example says', () => {
    const logged: string[] = [];
    const example = (time: string, last_price: number, volume: number): Tick => ({ ...makeTick(), ts_event: at(time), last_price, volume });
    of(example('09:00:10', 3500, 100), example('09:00:40', 3502, 104), example('09:01:05', 3501, 110))
      .pipe(bars({ periodS: 60 }))
      .subscribe((b) => logged.push(`${b.open} ${b.high} ${b.low} ${b.close} ${b.volume}`));
    expect(logged.join(', ')).toBe('3500 3502 3500 3502 4, 3501 3501 3501 3501 6');
  });

  it('rejects a period that does not divide a day and a negative close delay, naming every problem', () => {
    expect(() => bars({ periodS: 7, closeDelayMs: -1 })).toThrow(ConfigError);
    expect(() => bars({ periodS: 7, closeDelayMs: -1 })).toThrow(/2 problems/);
    expect(() => bars({ periodS: 0 })).toThrow(/'periodS' must be a whole number of seconds dividing a day/);
    expect(() => bars({ periodS: 1.5 })).toThrow(ConfigError);
    for (const periodS of [1, 60, 300, 900, 3600, 86_400]) expect(() => bars({ periodS })).not.toThrow();
  });

  it('puts every tick of a simulated market in exactly one bar inside one session, and gives the same bars however ticks are paced', () => {
    const sessions = new TradingSessions();
    const instruments = ['SHFE.rb2501', 'SHFE.au2502', 'CFFEX.IF2501', 'DCE.m2501'];
    const scenario = fc.record({
      seed: fc.integer({ min: 1, max: 1_000_000 }),
      // Any instant of a week that starts on a Thursday; the market moves to the next open when outside sessions.
      startOffsetS: fc.integer({ min: 0, max: 7 * 86_400 - 1 }),
      tickIntervalMs: fc.constantFrom(500, 7_000, 60_000, 600_000),
      periodS: fc.constantFrom(1, 60, 300, 3600, 7200),
      closeDelayMs: fc.integer({ min: 0, max: 5000 }),
      count: fc.integer({ min: 1, max: 150 }),
    });
    fc.assert(
      fc.property(scenario, ({ seed, startOffsetS, tickIntervalMs, periodS, closeDelayMs, count }) => {
        const market = new SimMarket({
          instruments,
          seed,
          start: at('00:00:00', '2025-01-02') + startOffsetS * 1_000_000,
          tickIntervalMs,
          feedId: 'sim',
          latencyUs: 0,
        });
        const ticks = Array.from({ length: count }, () => market.next());
        const firstTs = (ticks[0] as Tick).ts_event;

        // At once: no timer can fire, every bar closes on a tick or at completion.
        const atOnce: Bar[] = [];
        const fastScheduler = createTestScheduler();
        fastScheduler.run(() => {
          of(...ticks)
            .pipe(bars({ periodS, closeDelayMs, scheduler: fastScheduler }))
            .subscribe((b) => atOnce.push(b));
        });
        // Paced: each tick arrives at its event time (1 ms a frame), so timers close the bars no tick closes in time.
        const paced: Bar[] = [];
        const pacedScheduler = createTestScheduler();
        pacedScheduler.run(() => {
          const input = new Subject<Tick>();
          input.pipe(bars({ periodS, closeDelayMs, scheduler: pacedScheduler })).subscribe((b) => paced.push(b));
          for (const t of ticks) pacedScheduler.schedule(() => input.next(t), Math.floor((t.ts_event - firstTs) / 1000));
          pacedScheduler.schedule(() => input.complete(), Math.floor(((ticks.at(-1) as Tick).ts_event - firstTs) / 1000) + 1);
        });
        const key = (b: Bar): string => `${b.instrument_id} ${b.ts_open}`;
        expect([...paced].sort((x, y) => key(x).localeCompare(key(y)))).toEqual([...atOnce].sort((x, y) => key(x).localeCompare(key(y))));

        for (const id of instruments) {
          const own = ticks.filter((t) => t.instrument_id === id);
          const ownBars = atOnce.filter((b) => b.instrument_id === id);
          let previousClose = -Infinity;
          for (const b of ownBars) {
            const session = sessions.sessionOf(id, b.ts_open);
            expect(session).toBeDefined();
            expect(b.ts_close).toBeLessThanOrEqual(session?.end ?? 0);
            expect(b.trading_day).toBe(session?.tradingDay);
            expect(b.ts_close - b.ts_open).toBeLessThanOrEqual(periodS * 1_000_000);
            // Aligned to the period from local midnight, unless clipped to the session open.
            if (b.ts_open !== session?.start) expect((b.ts_open + 8 * 3600 * 1_000_000) % (periodS * 1_000_000)).toBe(0);
            expect(b.ts_open).toBeGreaterThanOrEqual(previousClose);
            previousClose = b.ts_close;
            const inBar = own.filter((t) => t.ts_event >= b.ts_open && t.ts_event < b.ts_close);
            expect(b.tick_count).toBe(inBar.length);
            expect(b.open).toBe(inBar[0]?.last_price);
            expect(b.close).toBe(inBar.at(-1)?.last_price);
            expect(b.high).toBe(Math.max(...inBar.map((t) => t.last_price as number)));
            expect(b.low).toBe(Math.min(...inBar.map((t) => t.last_price as number)));
            expect(b.open_interest).toBe(inBar.at(-1)?.open_interest);
          }
          expect(ownBars.reduce((n, b) => n + b.tick_count, 0)).toBe(own.length);
          // Volume per trading day: the day's last cumulative volume, less the first tick's for the first day seen.
          const lastVolumeByDay = new Map<string, number>();
          for (const t of own) lastVolumeByDay.set(sessions.tradingDay(id, t.ts_event), t.volume);
          const expectedVolume = [...lastVolumeByDay.values()].reduce((n, v) => n + v, 0) - (own[0]?.volume ?? 0);
          expect(ownBars.reduce((n, b) => n + b.volume, 0)).toBe(expectedVolume);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('barsOperator', () => {
  let scheduler: TestScheduler;
  beforeEach(() => {
    scheduler = createTestScheduler();
  });

  it('fills documented defaults and rejects unknown fields and out-of-range values', () => {
    expect(validateConfig('bars', barsOperator.spec, {})).toEqual({ period_s: 60, close_delay_ms: 1000 });
    expect(() => validateConfig('bars', barsOperator.spec, { period: 60 })).toThrow(/unknown field 'period'/);
    expect(() => validateConfig('bars', barsOperator.spec, { period_s: 0, close_delay_ms: -1 })).toThrow(/2 problems/);
  });

  it('rejects a period that does not divide a day by its definition, naming the stage and the field', () => {
    expect(() => validateComponentConfig(barsOperator, { period_s: 7 }, {}, "stage 'minute' (bars)")).toThrow(
      /stage 'minute' \(bars\): 'period_s' must divide a day/,
    );
  });

  it('builds bars on the context scheduler and counts drops in the stage metrics', () => {
    const ctx = testContext(scheduler, barsOperator, { stage: 'minute' });
    const config = validateConfig('bars', barsOperator.spec, { period_s: 300, close_delay_ms: 3 });
    const ticks = { a: tick('09:04:59.990', 3500, 100), x: tick('08:00:00', 3500, 100) };
    scheduler.run(({ hot, expectObservable }) => {
      const e1 = hot('  -ax-----------', ticks);
      const expected = '--------------A';
      expectObservable(e1.pipe(barsOperator.create(config, ctx))).toBe(expected, {
        A: bar({ periodS: 300, from: '09:00', to: '09:05', ohlc: [3500, 3500, 3500, 3500], volume: 0, ticks: 1, lastVolume: 100 }),
      });
    });
    expect(Object.fromEntries(ctx.metrics.droppedByReason)).toEqual({ 'outside-session': 1 });
    expect(barsOperator.in).toBe('Tick');
    expect(barsOperator.out).toBe('Bar');
  });
});
